#!/usr/bin/env bash
# CLIP ViT-B/32-shaped image tower: the Python reference (transformers, torch
# CPU) and leoma-gpu (candle) on the same 32 real frames, one after the other
# on this machine, printed side by side. Needs PyPI access the first time
# (the reference venv, ~3 GB) and ~600 MB for the random B/32 weights.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/leoma-gpu/target}
bash scripts/fetch-examples.sh >/dev/null
bash scripts/make-reference-models.sh --b32
LEOMA_BENCH_CPU=1 cargo bench --bench clip_b32
