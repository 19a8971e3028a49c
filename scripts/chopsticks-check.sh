#!/usr/bin/env bash
# Checks leoma-gpu's extrinsics and the test node's rules against a real
# subtensor runtime, run locally by chopsticks (npm) from a raw chain spec
# holding the runtime: the subtensor repository's scripts/specs/raonet.json
# (spec 218). Not part of scripts/test.sh: the runtime is not in this
# repository and is not fetched by it.
#   scripts/chopsticks-check.sh PATH/TO/subtensor/scripts/specs/raonet.json
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:?usage: scripts/chopsticks-check.sh RAW_CHAIN_SPEC.json}
cache=$(bash scripts/fetch-chain-deps.sh)
chop="$HOME/.cache/leoma-gpu/chopsticks"
if [ ! -x "$chop/node_modules/.bin/chopsticks" ]; then
  mkdir -p "$chop"
  (cd "$chop" && { [ -f package.json ] || npm init -y >/dev/null; } \
    && npm install --no-audit --no-fund --loglevel=error @acala-network/chopsticks@1.5.1 >&2)
fi
bin=${LEOMA_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --bin leoma-gpu >&2
  bin="${CARGO_TARGET_DIR:-target}/release/leoma-gpu"
fi
NODE_PATH="$cache/node/node_modules" node scripts/chopsticks_check.cjs \
  "$chop/node_modules/.bin/chopsticks" "$spec" "$bin"
