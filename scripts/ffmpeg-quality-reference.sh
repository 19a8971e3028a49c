#!/usr/bin/env bash
# Reference SSIM / PSNR / MSE of two same-sized 8-bit single-channel images,
# computed by ffmpeg's own `ssim` and `psnr` filters (used by the tests to
# cross-check our implementation).
#
#   scripts/ffmpeg-quality-reference.sh REF_IMAGE DIST_IMAGE
#
# Prints one JSON line:
#   {"ssim_y": <float>, "psnr_y": <float or "inf">, "mse_y": <float>}
#
# Inputs are expected to be 8-bit grey (`gray` pixel format), e.g. PGM (P5,
# maxval 255) files holding a luma plane, so ffmpeg compares exactly those
# bytes; anything else is rejected rather than converted.
#
# Notes on what ffmpeg computes:
# - ffmpeg's first input is the "main" (distorted) one, the second the
#   reference; both metrics are symmetric anyway.
# - SSIM is ffmpeg's x264-style SSIM (8x8 windows on a 4-pixel grid, no
#   Gaussian weighting), printed with 6 decimals.
# - PSNR is 10*log10(255^2/MSE); ffmpeg prints "inf" for identical inputs.
# - mse_y is derived from the 6-decimal PSNR (255^2 / 10^(psnr/10)), which is
#   far more precise than the 2-decimal mse_y in ffmpeg's psnr stats file; the
#   two are cross-checked. Identical inputs give mse_y 0.
set -euo pipefail

die() { printf 'ffmpeg-quality-reference: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 REF_IMAGE DIST_IMAGE"
ref=$1
dist=$2
for f in "$ref" "$dist"; do
  [[ -f $f && -r $f ]] || die "not a readable file: $f"
done
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  die "ffmpeg/ffprobe not found (apt-get install ffmpeg)"
fi

# Inputs are read as single images; -pattern_type none keeps a '%' in a file
# name from being taken as an image-sequence pattern.
IN=(-f image2 -pattern_type none)

pix_fmt_of() {
  ffprobe -v error "${IN[@]}" -select_streams v:0 \
    -show_entries stream=pix_fmt,width,height -of csv=p=0 "$1" 2>/dev/null || true
}
ref_info=$(pix_fmt_of "$ref")
dist_info=$(pix_fmt_of "$dist")
[[ $ref_info == *,gray ]] || die "REF is not an 8-bit grey image (ffprobe: '${ref_info:-unreadable}'): $ref"
[[ $dist_info == *,gray ]] || die "DIST is not an 8-bit grey image (ffprobe: '${dist_info:-unreadable}'): $dist"
[[ ${ref_info%,gray} == "${dist_info%,gray}" ]] ||
  die "size mismatch: REF ${ref_info%,gray} vs DIST ${dist_info%,gray} (width,height)"

# The stats file name goes into the filter graph, so keep it free of
# characters the graph parser would interpret (hence /tmp, not $TMPDIR).
tmp=$(mktemp -d /tmp/ffmpeg-quality-reference.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
stats="$tmp/psnr.log"

if ! log=$(ffmpeg -nostdin -hide_banner -nostats -loglevel info \
  "${IN[@]}" -i "$dist" "${IN[@]}" -i "$ref" \
  -filter_complex "[0:v]split[d1][d2];[1:v]split[r1][r2];[d1][r1]ssim;[d2][r2]psnr=stats_file=$stats" \
  -f null - 2>&1); then
  printf '%s\n' "$log" >&2
  die "ffmpeg failed"
fi

# Summary lines (gray input -> a single "Y"/"y" component):
#   [Parsed_ssim_2 @ 0x..] SSIM Y:0.934567 (11.848) All:0.934567 (11.848)
#   [Parsed_psnr_3 @ 0x..] PSNR y:28.123456 average:28.123456 min:... max:...
ssim_y=$(grep -o 'SSIM Y:[0-9.]*' <<<"$log" | tail -n1 | cut -d: -f2 || true)
psnr_y=$(grep -o 'PSNR y:[0-9.inf]*' <<<"$log" | tail -n1 | cut -d: -f2 || true)
[[ $ssim_y =~ ^[0-9]+(\.[0-9]+)?$ ]] || { printf '%s\n' "$log" >&2; die "could not parse SSIM from ffmpeg"; }
[[ $psnr_y =~ ^([0-9]+(\.[0-9]+)?|inf)$ ]] || { printf '%s\n' "$log" >&2; die "could not parse PSNR from ffmpeg"; }
stats_mse=$(grep -o 'mse_y:[0-9.]*' "$stats" | tail -n1 | cut -d: -f2 || true)
[[ $stats_mse =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "could not parse mse_y from ffmpeg's psnr stats file"

if [[ $psnr_y == inf ]]; then
  mse_y=0
  psnr_json='"inf"'
else
  mse_y=$(awk -v p="$psnr_y" 'BEGIN { printf "%.6f", 65025 / exp(p / 10 * log(10)) }')
  psnr_json=$psnr_y
fi
# Cross-check against ffmpeg's own (2-decimal) mse_y.
awk -v a="$mse_y" -v b="$stats_mse" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.006 + 1e-6 * b) }' ||
  die "mse_y from PSNR ($mse_y) disagrees with ffmpeg's stats file ($stats_mse)"

printf '{"ssim_y": %s, "psnr_y": %s, "mse_y": %s}\n' "$ssim_y" "$psnr_json" "$mse_y"
