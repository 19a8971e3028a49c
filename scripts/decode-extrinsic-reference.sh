#!/usr/bin/env bash
# Golden output for tests/chain_golden.rs: leoma-gpu signs a winner-take-all
# set_weights (dry run, against the local test node on the real spec-219
# mainnet metadata), and @polkadot/types, an independent decoder, decodes the
# extrinsic and verifies its signature over the signer payload it rebuilds.
# Writes tests/golden/chain/set_weights_spec219.json.
#   LEOMA_BIN  the leoma-gpu binary (default: built with cargo --release)
set -euo pipefail
cd "$(dirname "$0")/.."
cache=$(bash scripts/fetch-chain-deps.sh)
export NODE_PATH="$cache/node/node_modules"
material="$cache/material/mainnet.json"
bin=${LEOMA_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --bin leoma-gpu >&2
  bin="${CARGO_TARGET_DIR:-target}/release/leoma-gpu"
fi
tmp=$(mktemp -d)
node_pid=""
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

seed() { printf '0x'; for _ in $(seq 32); do printf '%s' "$1"; done; }
ss58() { node -e "const u=require('@polkadot/util-crypto');u.cryptoWaitReady().then(()=>console.log(u.encodeAddress(u.sr25519PairFromSeed(require('@polkadot/util').hexToU8a('$(seed "$1")')).publicKey,42)))"; }
cat >"$tmp/state.json" <<JSON
{"block": 1000, "subnets": {"7": {"tempo": 360, "weightsRateLimit": 100, "neurons": [
  {"hotkey": "$(ss58 33)", "permit": false},
  {"hotkey": "$(ss58 11)", "permit": true},
  {"hotkey": "$(ss58 22)", "permit": false}]}}}
JSON
mkfifo "$tmp/in"
node tests/chain_node/node.cjs --material "$material" --state "$tmp/state.json" <"$tmp/in" >"$tmp/node.out" &
node_pid=$!
exec 3>"$tmp/in"
for _ in $(seq 50); do grep -q LISTENING "$tmp/node.out" && break; sleep 0.1; done
port=$(sed -n 's/^LISTENING //p' "$tmp/node.out")
LEOMA_HOTKEY_SEED=$(seed 11) "$bin" weights set --network finney --chain-endpoint "ws://127.0.0.1:$port" \
  --netuid 7 --uid 2 --dry-run >"$tmp/dry.json"
ext=$(node -e "console.log(require('$tmp/dry.json').signed.extrinsic_hex)")
birth=$(node -e "console.log(require('$tmp/dry.json').plan.subnet.block_hash)")
node scripts/decode-extrinsic.cjs "$material" "$ext" "$birth" >"$tmp/polkadot.json"
mkdir -p tests/golden/chain
node -e "
const dry = require('$tmp/dry.json'), pj = require('$tmp/polkadot.json');
const out = {
  about: 'leoma-gpu weights set --dry-run (validator seed 0x11.., netuid 7, uid 2) on the spec-219 mainnet metadata, decoded by @polkadot/types',
  material: '@bitgo/sdk-coin-tao 1.16.4 mainnet',
  birth_block: dry.plan.subnet.block, birth_block_hash: dry.plan.subnet.block_hash,
  leoma: { call_hex: dry.signed.call_hex, signer_payload_hex: dry.signed.signer_payload_hex,
           extrinsic_hex: dry.signed.extrinsic_hex, decoded_call: dry.signed.decoded_call,
           extensions: dry.signed.extensions, nonce: dry.signed.nonce, signer: dry.signed.signer },
  polkadot: pj,
};
if (!pj.signature_valid || !pj.reencodes_identically) { console.error('polkadot-js rejects the extrinsic'); process.exit(1); }
require('fs').writeFileSync('tests/golden/chain/set_weights_spec219.json', JSON.stringify(out, null, 2) + '\n');
"
echo "wrote tests/golden/chain/set_weights_spec219.json" >&2
