#!/usr/bin/env bash
# Regenerate tests/golden/flow/: the committed flow test inputs (real frames and
# real pictures moved by known motions) and reference.json, which holds what
# OpenCV's DIS (medium) and Farneback (Leoma's parameters) and leoma-gpu's own
# `flow` command achieve on them, measured by one script (scripts/flow-reference.py).
#
#   scripts/flow-reference.sh            inputs + reference numbers
#   scripts/flow-reference.sh --compare  reference numbers only (after a flow change)
#
# Makes (once) a venv with pinned numpy and opencv-python-headless from PyPI
# ($LEOMA_CACHE_DIR/flowref, default ~/.cache/leoma-gpu/flowref); benches/flow.rs
# uses the same venv for OpenCV's timings. Needs ffmpeg and PyPI access.
set -euo pipefail
cd "$(dirname "$0")/.."
PINS=(numpy==2.2.6 opencv-python-headless==4.12.0.88)
cache=${LEOMA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/leoma-gpu}
venv=$cache/flowref
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$cache/target}
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "${PINS[*]}" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"
  echo "${PINS[*]}" > "$venv/.pins"
fi
bash scripts/fetch-examples.sh >/dev/null
cargo build --release --bin leoma-gpu
out=tests/golden/flow
if [ "${1:-}" != --compare ]; then
  rm -rf "$out/synthetic" "$out/real"
  "$venv/bin/python" scripts/flow-reference.py inputs examples "$out"
fi
"$venv/bin/python" scripts/flow-reference.py compare "$out" "$CARGO_TARGET_DIR/release/leoma-gpu"
