#!/usr/bin/env bash
# Regenerate the tiny Qwen3-VL reference checkpoint and its transformers goldens,
# or write random weights with Qwen3-VL-2B's shapes for the benchmark:
#
#   scripts/make-qwen3vl-reference.sh            models/tiny/qwen3_vl/ + tests/golden/qwen3_vl/
#   scripts/make-qwen3vl-reference.sh --2b DIR   2B-shaped random weights (bfloat16, ~4.3 GB,
#                                                NOT committed) with the processor and tokenizer
#   scripts/make-qwen3vl-reference.sh --time DIR transformers' own forward on those weights and the
#                                                benchmark's inputs (CPU, 2 threads), for comparison
#
# Uses the pinned venv of scripts/make-reference-models.sh (same pins plus
# torchvision, which transformers' Qwen3-VL video processor needs), the Qwen
# tokenizer from scripts/fetch-qwen-tokenizer.sh and the example clips from
# scripts/fetch-examples.sh; then runs scripts/make-qwen3vl-reference.py offline.
# Re-running gives byte-identical files.
#
# Environment: LEOMA_CACHE_DIR, PYREF_VENV, PYTHON as for make-reference-models.sh.
set -euo pipefail

TORCHVISION_PIN=torchvision==0.29.2

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")
log() { printf '[make-qwen3vl-reference] %s\n' "$*" >&2; }

cache=${LEOMA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/leoma-gpu}
venv=${PYREF_VENV:-$cache/pyref}
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import transformers, torch' 2>/dev/null; then
  log "building the reference venv with scripts/make-reference-models.sh's pins"
  LEOMA_PYREF_ONLY=1 "$script_dir/make-reference-models.sh"
fi
if ! "$venv/bin/python" -c 'import torchvision' 2>/dev/null; then
  log "installing $TORCHVISION_PIN into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary :all: --no-deps \
    "$TORCHVISION_PIN" >&2
fi
tokenizer=$("$script_dir/fetch-qwen-tokenizer.sh" | tail -n1)
"$script_dir/fetch-examples.sh" "$repo_root/examples" >/dev/null

args=()
case ${1:-} in
  --2b)
    [[ -n ${2:-} ]] || { log "--2b needs an output directory"; exit 2; }
    args=(--shapes 2b --out "$2") ;;
  --time)
    [[ -n ${2:-} ]] || { log "--time needs the 2B directory"; exit 2; }
    args=(--time "$2") ;;
esac
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 exec "$venv/bin/python" "$script_dir/make-qwen3vl-reference.py" \
  --repo "$repo_root" --tokenizer "$tokenizer" "${args[@]}"
