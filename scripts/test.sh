#!/usr/bin/env bash
# The whole test suite from a fresh machine: system packages, example media,
# formatting, every test (release profile, shared with the benches), and a
# build of the `cuda` feature (candle's CUDA backend and the kernels in
# kernels/) with the CUDA toolchain from PyPI wheels (no GPU needed to compile;
# scripts/gpu-check.sh runs it on a GPU).
#   LEOMA_SKIP_CUDA_BUILD=1 scripts/test.sh   # skip the cuda build
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/leoma-gpu/target}
export CARGO_TERM_COLOR=never

bash scripts/install-deps.sh
bash scripts/fetch-examples.sh >/dev/null
bash scripts/fetch-clip-golden.sh >/dev/null
bash scripts/fetch-chain-deps.sh >/dev/null
bash scripts/fetch-qwen-tokenizer.sh >/dev/null

if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all -- --check
fi
cargo test --release --no-fail-fast --all-targets
cargo test --release --doc

if [ "${LEOMA_SKIP_CUDA_BUILD:-0}" != 1 ]; then
  echo "test.sh: building the cuda feature (compile only)" >&2
  eval "$(bash scripts/cuda-toolchain.sh)"
  cargo build --release --features cuda --bins --tests --benches --quiet
fi
