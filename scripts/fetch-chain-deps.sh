#!/usr/bin/env bash
# Everything the chain tests need, into a cache outside the clone:
#  - the test node's npm packages (@polkadot/types, @polkadot/util-crypto, ws),
#    pinned by tests/chain_node/package-lock.json and installed with `npm ci`;
#  - real subtensor runtime material (metadata, genesis hash, spec and
#    transaction versions of mainnet spec 219 and testnet spec 224) extracted
#    from the npm package @bitgo/sdk-coin-tao (only the package's own tarball,
#    without its dependencies).
# Prints the cache directory. Idempotent.
#   LEOMA_CHAIN_CACHE  cache directory (default ~/.cache/leoma-gpu/chain)
set -euo pipefail
cd "$(dirname "$0")/.."
BITGO_VERSION=1.16.4
cache=${LEOMA_CHAIN_CACHE:-$HOME/.cache/leoma-gpu/chain}
mkdir -p "$cache/node" "$cache/material"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "fetch-chain-deps: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

lock=tests/chain_node/package-lock.json
stamp="$cache/node/.lock-sha256"
want=$(cat "$lock" tests/chain_node/package.json | sha256sum | cut -d' ' -f1)
if [ ! -d "$cache/node/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  cp tests/chain_node/package.json "$lock" "$cache/node/"
  (cd "$cache/node" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$want" >"$stamp"
fi

if [ ! -s "$cache/material/mainnet.json" ] || [ ! -s "$cache/material/testnet.json" ] \
   || [ "$(cat "$cache/material/.version" 2>/dev/null)" != "$BITGO_VERSION" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "@bitgo/sdk-coin-tao@$BITGO_VERSION" >/dev/null && tar xzf ./*.tgz)
  for net in mainnet testnet; do
    node scripts/extract-tao-material.cjs "$tmp/package/dist/src/resources/$net.js" \
      "$cache/material/$net.json"
  done
  echo "$BITGO_VERSION" >"$cache/material/.version"
fi
echo "$cache"
