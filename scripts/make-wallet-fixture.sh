#!/usr/bin/env bash
# Regenerate the wallet test fixture with the real bittensor-wallet package:
#
#   scripts/make-wallet-fixture.sh    tests/fixtures/wallet/wallets/test-wallet/hotkeys/*
#                                     tests/fixtures/wallet/expected.json
#
# What it does: makes (once) a throwaway venv outside the repository, installs the
# pinned bittensor-wallet from PyPI into it, and runs scripts/make-wallet-fixture.py,
# which creates a wallet in a temporary directory with bittensor-wallet's own
# Wallet.regenerate_hotkey (the code path btcli uses), copies the hotkey files
# byte for byte into the fixture (mode 600) and records the address, the public
# key and a signature made by bittensor-wallet in expected.json.
#
# The keys are THROWAWAY TEST KEYS from Substrate's public development phrase:
# no funds, never to be used (see tests/fixtures/wallet/README.md).
# sr25519 signatures are randomised and bittensor-wallet writes the JSON fields
# in hash-map order, so a rerun changes the bytes but not the key or address.
#
# Environment:
#   LEOMA_CACHE_DIR        default ${XDG_CACHE_HOME:-~/.cache}/leoma-gpu
#   WALLET_VENV            the venv (default $LEOMA_CACHE_DIR/wallet-venv; created if missing)
#   BITTENSOR_WALLET_PIN   default bittensor-wallet==4.1.1
#   PYTHON                 interpreter for a new venv (default python3)
# Needs: python3 with venv/pip, network access to PyPI.
set -euo pipefail

PIN=${BITTENSOR_WALLET_PIN:-bittensor-wallet==4.1.1}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")

log() { printf '[make-wallet-fixture] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cache=${LEOMA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/leoma-gpu}
venv=${WALLET_VENV:-$cache/wallet-venv}
case "$venv/" in
    "$repo_root"/*) die "the venv must live outside the repository ($venv)" ;;
esac

if [[ ! -x "$venv/bin/python" ]]; then
    log "creating venv $venv"
    mkdir -p "$(dirname "$venv")"
    "${PYTHON:-python3}" -m venv "$venv"
fi
log "installing $PIN into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$PIN"

out="$repo_root/tests/fixtures/wallet"
mkdir -p "$out"
"$venv/bin/python" "$script_dir/make-wallet-fixture.py" "$out"
log "wrote $out (git does not keep file modes: tests copy the files and chmod 600 them)"
