// Decodes a signed extrinsic with @polkadot/types (independent of subxt) and
// checks its sr25519 signature over the signer payload polkadot-js rebuilds.
// Usage: node decode-extrinsic.cjs MATERIAL.json EXTRINSIC_HEX BIRTH_BLOCK_HASH
// (NODE_PATH must point at the node_modules of scripts/fetch-chain-deps.sh.)
'use strict';
const fs = require('fs');
const { TypeRegistry, Metadata } = require('@polkadot/types');
const { u8aToHex, hexToU8a } = require('@polkadot/util');
const { blake2AsU8a, cryptoWaitReady, sr25519Verify, encodeAddress } = require('@polkadot/util-crypto');

const [materialPath, hex, birthHash] = process.argv.slice(2);
const material = JSON.parse(fs.readFileSync(materialPath, 'utf8'));
const warn = console.warn;
console.warn = (...a) => { if (!String(a.join(' ')).includes('Unknown signed extensions')) warn(...a); };
const registry = new TypeRegistry();
registry.setMetadata(new Metadata(registry, material.metadata));

cryptoWaitReady().then(() => {
  const ext = registry.createType('Extrinsic', hex);
  const sig = ext.inner.signature;
  const payload = registry.createType('ExtrinsicPayload', {
    method: ext.method.toHex(),
    era: ext.era.toHex(),
    nonce: ext.nonce,
    tip: ext.tip,
    specVersion: Number(material.specVersion),
    transactionVersion: Number(material.txVersion),
    genesisHash: material.genesisHash,
    blockHash: birthHash,
    mode: sig.mode,
    metadataHash: null,
  }, { version: 4 });
  const payloadU8a = payload.toU8a({ method: true });
  const signed = payloadU8a.length > 256 ? blake2AsU8a(payloadU8a, 256) : payloadU8a;
  const out = {
    decoder: `@polkadot/types ${require('@polkadot/types/packageInfo').packageInfo.version}`,
    runtime: `${material.specName} spec ${material.specVersion} tx ${material.txVersion}`,
    reencodes_identically: ext.toHex() === hex.toLowerCase(),
    version: ext.version & 0x7f,
    signed: ext.isSigned,
    signer: encodeAddress(sig.signer.value.toU8a(), 42),
    signature_type: sig.multiSignature.type,
    signature: sig.multiSignature.value.toHex(),
    era: ext.era.toJSON(),
    nonce: ext.nonce.toNumber(),
    tip: ext.tip.toString(),
    metadata_hash_mode: sig.mode.toString(),
    call: {
      pallet: ext.method.section,
      name: ext.method.method,
      args: Object.fromEntries(ext.method.argsEntries.map(([k, v]) => [k, v.toJSON()])),
    },
    call_hex: ext.method.toHex(),
    signer_payload: u8aToHex(payloadU8a),
    signature_valid: sr25519Verify(signed, sig.multiSignature.value, sig.signer.value.toU8a()),
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
});
