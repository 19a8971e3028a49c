#!/usr/bin/env bash
# Qwen3-VL with the real Qwen3-VL-2B-Instruct shapes (random weights, made on
# demand, ~4.3 GB under the cache, not committed) on the example clip: seconds
# per clip and per extra question, and peak memory. CPU unless LEOMA_BENCH_GPU=1
# (then the cuda feature and the GPU); LEOMA_BENCH_PYTHON=1 also times transformers'
# own forward on the same weights and inputs. Not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/leoma-gpu/target}
cache=${LEOMA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/leoma-gpu}
dir=${LEOMA_QWEN3VL_2B:-$cache/qwen3-vl-2b-random}
bash scripts/fetch-examples.sh >/dev/null
if [[ ! -f $dir/config.json ]]; then
  bash scripts/make-qwen3vl-reference.sh --2b "$dir"
fi
if [[ ${LEOMA_BENCH_GPU:-0} == 1 ]]; then
  LEOMA_QWEN3VL_2B=$dir cargo bench --features cuda --bench qwen3_vl
else
  LEOMA_BENCH_CPU=1 LEOMA_QWEN3VL_2B=$dir cargo bench --bench qwen3_vl
fi
if [[ ${LEOMA_BENCH_PYTHON:-0} == 1 ]]; then
  bash scripts/make-qwen3vl-reference.sh --time "$dir"
fi
