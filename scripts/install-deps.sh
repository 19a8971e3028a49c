#!/usr/bin/env bash
# Installs the system packages leoma-gpu builds and tests with, on Debian or
# Ubuntu (as root, or with sudo): ffmpeg and its development libraries
# (video-rs links them), clang/libclang (bindgen), pkg-config, and a font for
# the example's text overlay. Idempotent: does nothing when all are present.
# The Rust toolchain (cargo >= 1.85) must already be on PATH (https://rustup.rs).
set -euo pipefail

packages=(ffmpeg libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libavfilter-dev
          libavdevice-dev libswresample-dev clang libclang-dev pkg-config fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# Node.js runs the chain tests' local subtensor node (tests/chain_node).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: installing nodejs npm" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: cargo not found; install Rust (https://rustup.rs) and retry" >&2
  exit 1
fi
