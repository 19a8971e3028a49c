// A local subtensor test node for leoma-gpu's chain tests.
//
// It serves a real subtensor runtime's metadata (extracted from
// @bitgo/sdk-coin-tao by scripts/fetch-chain-deps.sh) over the JSON-RPC
// methods subxt's legacy backend uses, and it checks every submitted
// extrinsic with @polkadot/types, an implementation independent of subxt:
//
//   - the bytes decode as a signed v4 extrinsic with the runtime's extension
//     list and re-encode to the same bytes (nothing left over or missing);
//   - the sr25519 signature verifies over the signer payload rebuilt here
//     from the call, the extension values and this chain's own spec and
//     transaction versions, genesis hash and mortality birth-block hash;
//   - the nonce is the account's, the mortality period has not passed;
//   - the call decodes with the real metadata.
//
// Accepted extrinsics go into a new block. SubtensorModule::set_weights,
// commit_crv3_weights and commit_timelocked_weights are applied with the
// runtime's checks in the runtime's order (subtensor's do_set_weights /
// do_commit_crv3_weights at spec 219); the block's System.Events carry
// ExtrinsicSuccess or ExtrinsicFailed with the real module error index.
// State is served through state_getStorage under the real storage keys.
//
// Test controls: dev_newBlock({count}) (chopsticks' name), and test_* methods
// to read and patch the model and to inject faults.
//
// Usage: node node.cjs --material FILE.json --state FILE.json [--port N]
// Prints "LISTENING <port>" on stdout once ready.
'use strict';

const fs = require('fs');
const { WebSocketServer } = require('ws');
const { TypeRegistry, Metadata } = require('@polkadot/types');
const { expandMetadata } = require('@polkadot/types/metadata/decorate');
const {
  u8aToHex, hexToU8a, u8aConcat, compactStripLength, compactToU8a, u8aEq, stringToU8a,
  bnToU8a,
} = require('@polkadot/util');
const { blake2AsU8a, cryptoWaitReady, sr25519Verify, encodeAddress } = require('@polkadot/util-crypto');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const material = JSON.parse(fs.readFileSync(arg('--material'), 'utf8'));
const initial = JSON.parse(fs.readFileSync(arg('--state'), 'utf8'));
const port = Number(arg('--port', '0'));

// polkadot-js warns that it treats subtensor's own extensions as carrying no
// data; the check below proves that from the metadata, so the warning is noise.
const warn = console.warn;
console.warn = (...a) => { if (!String(a.join(' ')).includes('Unknown signed extensions')) warn(...a); };

const registry = new TypeRegistry();
const metadata = new Metadata(registry, material.metadata);
registry.setMetadata(metadata);
const decorated = expandMetadata(registry, metadata);
const latest = metadata.asLatest;
const SPEC_VERSION = Number(material.specVersion);
const TX_VERSION = Number(material.txVersion);
const GENESIS = material.genesisHash;

// Extensions polkadot-js does not know must be zero-sized in this runtime
// (subtensor's marker extensions are), or the node could not verify anything.
const declared = metadata.version === 14
  ? metadata.asV14.extrinsic.signedExtensions.map((e) => ({ identifier: e.identifier, type: e.type, implicit: e.additionalSigned }))
  : latest.extrinsic.transactionExtensions;
for (const ext of declared) {
  const id = ext.identifier.toString();
  const known = ['CheckNonZeroSender', 'CheckSpecVersion', 'CheckTxVersion', 'CheckGenesis', 'CheckMortality',
    'CheckNonce', 'CheckWeight', 'ChargeTransactionPayment', 'CheckMetadataHash'];
  if (known.includes(id)) continue;
  for (const ty of [ext.type, ext.implicit]) {
    const def = registry.lookup.getTypeDef(ty);
    if (def.type !== 'Null' && !(def.sub && def.sub.length === 0)) {
      throw new Error(`runtime extension ${id} carries data (${def.type}); the test node cannot verify it`);
    }
  }
}

function pallet(name) {
  const p = latest.pallets.find((x) => x.name.toString() === name);
  if (!p) throw new Error(`metadata has no pallet ${name}`);
  return p;
}

// ---------------------------------------------------------------- model

const model = {
  accounts: {}, // hex public key -> { nonce, free }
  subnets: {}, // netuid -> subnet
  commitRevealVersion: initial.commitRevealVersion ?? 4,
  minStake: 0,
};

function normKey(k) {
  if (typeof k !== 'string') throw new Error(`bad key ${k}`);
  return k.startsWith('0x') ? k.toLowerCase() : u8aToHex(registry.createType('AccountId32', k).toU8a());
}

function loadSubnet(s) {
  return {
    tempo: s.tempo ?? 360,
    weightsRateLimit: s.weightsRateLimit ?? 100,
    weightsVersionKey: s.weightsVersionKey ?? 0,
    commitRevealEnabled: s.commitRevealEnabled ?? false,
    revealPeriodEpochs: s.revealPeriodEpochs ?? 1,
    maxWeightsLimit: s.maxWeightsLimit ?? 65535,
    minAllowedWeights: s.minAllowedWeights ?? 1,
    neurons: (s.neurons || []).map((n) => ({
      hotkey: normKey(n.hotkey),
      permit: !!n.permit,
      lastUpdate: n.lastUpdate ?? 0,
    })),
    weights: {},
    crv3Commits: {},
  };
}

for (const [netuid, s] of Object.entries(initial.subnets || {})) model.subnets[netuid] = loadSubnet(s);
for (const [k, a] of Object.entries(initial.accounts || {})) model.accounts[normKey(k)] = { nonce: a.nonce ?? 0, free: a.free ?? 1e12 };

const clone = (x) => JSON.parse(JSON.stringify(x));

// ---------------------------------------------------------------- blocks

const hashes = []; // number -> hash (0x)
const bodies = {}; // number -> [extrinsic hex]
const events = {}; // number -> Uint8Array (encoded Vec<EventRecord>)
const snapshots = []; // [{ from, model, storage? }]
const headers = {}; // number -> header JSON (only kept for recent/real blocks)
let head = 0;

function makeHeader(number, extrinsics) {
  const parentHash = number === 0 ? '0x' + '00'.repeat(32) : hashes[number - 1];
  const stateRoot = u8aToHex(blake2AsU8a(stringToU8a(JSON.stringify(model) + number)));
  const extrinsicsRoot = u8aToHex(blake2AsU8a(u8aConcat(...extrinsics.map(hexToU8a), new Uint8Array())));
  const header = registry.createType('Header', {
    parentHash, number, stateRoot, extrinsicsRoot, digest: { logs: [] },
  });
  return header;
}

function headerJson(h) {
  return {
    parentHash: h.parentHash.toHex(),
    number: '0x' + h.number.toBn().toString(16),
    stateRoot: h.stateRoot.toHex(),
    extrinsicsRoot: h.extrinsicsRoot.toHex(),
    digest: { logs: [] },
  };
}

function pushBlock(extrinsics, eventBytes) {
  const number = hashes.length;
  const header = makeHeader(number, extrinsics);
  hashes.push(number === 0 ? GENESIS : header.hash.toHex());
  headers[number] = headerJson(header);
  bodies[number] = extrinsics;
  if (eventBytes) events[number] = eventBytes;
  head = number;
  const last = snapshots[snapshots.length - 1];
  const json = JSON.stringify(model);
  if (!last || last.json !== json) snapshots.push({ from: number, model: clone(model), json });
  return number;
}

function snapshotAt(number) {
  let s = snapshots[0];
  for (const x of snapshots) if (x.from <= number) s = x;
  return s;
}

function numberOf(hash) {
  if (hash == null) return head;
  const n = hashes.lastIndexOf(hash.toLowerCase());
  if (n < 0) throw rpcError(-32000, `unknown block ${hash}`);
  return n;
}

// Genesis (the material's hash) and blocks up to the start block.
const startBlock = initial.block ?? 1000;
pushBlock([], null);
while (hashes.length <= startBlock) pushBlock([], null);

// ---------------------------------------------------------------- storage

function entry(palletName, item) {
  const p = decorated.query[palletName];
  return p && p[item];
}
function need(palletName, item) {
  const e = entry(palletName, item);
  if (!e) throw new Error(`metadata has no ${palletName}.${item}`);
  return e;
}
function valueType(e) {
  return registry.createLookupType(e.meta.type.isMap ? e.meta.type.asMap.value : e.meta.type.asPlain);
}
function put(map, e, keys, value) {
  const key = u8aToHex(compactStripLength(e(...keys))[1]);
  map.set(key, u8aToHex(registry.createType(valueType(e), value).toU8a()));
}

function storageOf(snap, number) {
  if (!snap.storage) {
    const m = snap.model;
    const st = new Map();
    const S = (item) => need('subtensorModule', item);
    for (const [netuidStr, s] of Object.entries(m.subnets)) {
      const netuid = Number(netuidStr);
      put(st, S('networksAdded'), [netuid], true);
      put(st, S('tempo'), [netuid], s.tempo);
      put(st, S('weightsSetRateLimit'), [netuid], s.weightsRateLimit);
      put(st, S('weightsVersionKey'), [netuid], s.weightsVersionKey);
      put(st, S('commitRevealWeightsEnabled'), [netuid], s.commitRevealEnabled);
      put(st, S('revealPeriodEpochs'), [netuid], s.revealPeriodEpochs);
      put(st, S('subnetworkN'), [netuid], s.neurons.length);
      put(st, S('maxWeightsLimit'), [netuid], s.maxWeightsLimit);
      put(st, S('minAllowedWeights'), [netuid], s.minAllowedWeights);
      put(st, S('validatorPermit'), [netuid], s.neurons.map((n) => n.permit));
      put(st, S('lastUpdate'), [netuid], s.neurons.map((n) => n.lastUpdate));
      s.neurons.forEach((n, uid) => {
        put(st, S('uids'), [netuid, n.hotkey], uid);
        put(st, S('keys'), [netuid, uid], n.hotkey);
      });
      for (const [uid, w] of Object.entries(s.weights)) put(st, S('weights'), [netuid, Number(uid)], w);
      for (const [epoch, commits] of Object.entries(s.crv3Commits)) {
        const e = entry('subtensorModule', 'cRV3WeightCommits') || entry('subtensorModule', 'timelockedWeightCommits');
        put(st, e, [netuid, Number(epoch)], commits);
      }
    }
    const crv = entry('subtensorModule', 'commitRevealWeightsVersion');
    if (crv) put(st, crv, [], m.commitRevealVersion);
    for (const [who, a] of Object.entries(m.accounts)) {
      put(st, need('system', 'account'), [who], {
        nonce: a.nonce, consumers: 0, providers: 1, sufficients: 0,
        data: { free: a.free, reserved: 0, frozen: 0, flags: 0 },
      });
    }
    snap.storage = st;
  }
  return snap.storage;
}

function getStorage(keyHex, number) {
  const key = keyHex.toLowerCase();
  const evKey = u8aToHex(compactStripLength(need('system', 'events')())[1]);
  if (key === evKey) return events[number] ? u8aToHex(events[number]) : '0x00';
  const numKey = u8aToHex(compactStripLength(need('system', 'number')())[1]);
  if (key === numKey) return u8aToHex(registry.createType('u32', number).toU8a());
  const v = storageOf(snapshotAt(number), number).get(key);
  return v === undefined ? null : v;
}

// ---------------------------------------------------------------- events and errors

function eventBytes(palletName, eventName, fields) {
  const p = pallet(palletName);
  const variants = registry.lookup.getSiType(p.events.unwrap().type).def.asVariant.variants;
  const v = variants.find((x) => x.name.toString() === eventName);
  if (!v) throw new Error(`metadata has no event ${palletName}.${eventName}`);
  if (v.fields.length !== fields.length) throw new Error(`${eventName} takes ${v.fields.length} fields`);
  const parts = v.fields.map((f, i) => registry.createType(registry.createLookupType(f.type), fields[i]).toU8a());
  return u8aConcat(new Uint8Array([p.index.toNumber(), v.index.toNumber()]), ...parts);
}

function record(extrinsicIndex, evBytes) {
  const phase = registry.createType('Phase', { ApplyExtrinsic: extrinsicIndex }).toU8a();
  return u8aConcat(phase, evBytes, compactToU8a(0));
}

function moduleError(palletName, errorName) {
  const p = pallet(palletName);
  const variants = registry.lookup.getSiType(p.errors.unwrap().type).def.asVariant.variants;
  const v = variants.find((x) => x.name.toString() === errorName);
  if (!v) throw new Error(`metadata has no error ${palletName}.${errorName}`);
  return { Module: { index: p.index.toNumber(), error: u8aToHex(new Uint8Array([v.index.toNumber(), 0, 0, 0])) } };
}

// The real runtime reports the (zero, Pays::No) fee of every signed extrinsic.
const feePaid = (who) => eventBytes('TransactionPayment', 'TransactionFeePaid', [who, 0, 0]);

const dispatchInfo = { weight: { refTime: 1000000, proofSize: 0 }, class: 'Normal', paysFee: 'No' };

// ---------------------------------------------------------------- runtime logic (subtensor, spec 219)

class DispatchFail extends Error {
  constructor(name) { super(name); this.errorName = name; }
}
const ensure = (cond, name) => { if (!cond) throw new DispatchFail(name); };

function uidOf(s, who) {
  const i = s.neurons.findIndex((n) => n.hotkey === who);
  return i < 0 ? null : i;
}

function epochIndex(s, netuid, block) {
  return Math.floor((block + netuid + 1) / (s.tempo + 1));
}

function shouldRunEpoch(s, netuid, block) {
  // blocks_until_next_epoch == 0
  if (s.tempo === 0) return false;
  const adjusted = block + netuid + 1;
  return s.tempo - (adjusted % (s.tempo + 1)) === 0;
}

function checkRateLimit(s, uid, block) {
  const last = s.neurons[uid].lastUpdate;
  if (last === 0) return true;
  return block - last >= s.weightsRateLimit;
}

function doSetWeights(who, netuid, uids, values, versionKey, block) {
  ensure(netuid !== 0, 'CanNotSetRootNetworkWeights');
  ensure(uids.length === values.length, 'WeightVecNotEqualSize');
  const s = model.subnets[netuid];
  ensure(!!s, 'SubNetworkDoesNotExist');
  ensure(uids.length <= s.neurons.length, 'UidsLengthExceedUidsInSubNet');
  const uid = uidOf(s, who);
  ensure(uid !== null, 'HotKeyNotRegisteredInSubNet');
  ensure(s.weightsVersionKey === 0 || versionKey >= s.weightsVersionKey, 'IncorrectWeightVersionKey');
  if (!s.commitRevealEnabled) ensure(checkRateLimit(s, uid, block), 'SettingWeightsTooFast');
  const selfWeight = values.length === 1 && uids[0] === uid;
  ensure(selfWeight || s.neurons[uid].permit, 'NeuronNoValidatorPermit');
  ensure(new Set(uids).size === uids.length, 'DuplicateUids');
  ensure(uids.every((u) => u < s.neurons.length), 'UidVecContainInvalidOne');
  const minAllowed = Math.min(s.neurons.length, s.minAllowedWeights);
  ensure(selfWeight || values.length >= minAllowed, 'WeightVecLengthIsLow');
  const max = Math.max(...values);
  const upscaled = values.map((v) => (max === 0 ? 0 : Number((BigInt(v) * 65535n) / BigInt(max))));
  ensure(selfWeight || s.maxWeightsLimit === 65535 || Math.max(...upscaled) <= s.maxWeightsLimit, 'MaxWeightExceeded');
  s.weights[uid] = uids.map((u, i) => [u, upscaled[i]]);
  if (!s.commitRevealEnabled) s.neurons[uid].lastUpdate = block;
  return [['SubtensorModule', 'WeightsSet', [netuid, uid]]];
}

function doCommitTimelocked(who, netuid, commit, revealRound, version, block) {
  const s = model.subnets[netuid];
  ensure(!!s, 'SubNetworkDoesNotExist');
  ensure(s.commitRevealEnabled, 'CommitRevealDisabled');
  if (version !== null) ensure(version === model.commitRevealVersion, 'IncorrectCommitRevealVersion');
  const uid = uidOf(s, who);
  ensure(uid !== null, 'HotKeyNotRegisteredInSubNet');
  ensure(checkRateLimit(s, uid, block), 'CommittingWeightsTooFast');
  const epoch = shouldRunEpoch(s, netuid, block) ? epochIndex(s, netuid, block) + 1 : epochIndex(s, netuid, block);
  const list = (s.crv3Commits[epoch] = s.crv3Commits[epoch] || []);
  ensure(list.filter((c) => c[0] === who).length < 10, 'TooManyUnrevealedCommits');
  list.push([who, commit, revealRound]);
  s.neurons[uid].lastUpdate = block;
  const hash = u8aToHex(blake2AsU8a(hexToU8a(commit)));
  const name = entry('subtensorModule', 'timelockedWeightCommits') ? 'TimelockedWeightsCommitted' : 'CRV3WeightsCommitted';
  return [['SubtensorModule', name, version === null ? [who, netuid, hash] : [who, netuid, hash, revealRound]]];
}

function dispatch(who, method, block) {
  const a = method.args;
  const name = `${method.section}.${method.method}`;
  switch (name) {
    case 'subtensorModule.setWeights': {
      const netuid = a[0].toNumber();
      const s = model.subnets[netuid];
      if (s && s.commitRevealEnabled) throw new DispatchFail('CommitRevealEnabled');
      return doSetWeights(who, netuid, a[1].map((x) => x.toNumber()), a[2].map((x) => x.toNumber()), BigInt(a[3].toString()), block);
    }
    case 'subtensorModule.commitCrv3Weights':
      return doCommitTimelocked(who, a[0].toNumber(), a[1].toHex(), Number(a[2].toString()), null, block);
    case 'subtensorModule.commitTimelockedWeights':
      return doCommitTimelocked(who, a[0].toNumber(), a[1].toHex(), Number(a[2].toString()), a[3].toNumber(), block);
    default:
      return null;
  }
}

// ---------------------------------------------------------------- extrinsic checks

class PoolError extends Error {
  constructor(code, message, data) { super(message); this.code = code; this.data = data; }
}
const invalid = (data) => new PoolError(1010, 'Invalid Transaction', data);

const applied = []; // log for tests

function verify(hex) {
  let ext;
  try {
    ext = registry.createType('Extrinsic', hex);
  } catch (e) {
    throw new PoolError(1002, 'Verification Error: Runtime error: Could not decode extrinsic', String(e.message || e));
  }
  if (ext.toHex() !== hex.toLowerCase()) {
    throw new PoolError(1002, 'Verification Error: Runtime error: Could not decode extrinsic', 'bytes do not re-encode identically');
  }
  if ((ext.version & 0x7f) !== 4 || !ext.isSigned) throw invalid('only signed v4 extrinsics are accepted by this test node');
  const sig = ext.inner.signature; // ExtrinsicSignatureV4: signer, multiSignature, era, nonce, tip, mode
  if (sig.multiSignature.type !== 'Sr25519') throw invalid('Transaction has a bad signature (not sr25519)');
  if (sig.signer.type !== 'Id') throw invalid('signer is not MultiAddress::Id');
  const who = u8aToHex(sig.signer.value.toU8a());
  // Mortality: the birth block must exist and the period must not have passed.
  const era = sig.era;
  let birthHash = GENESIS;
  const current = head + 1; // the block this would go into
  if (era.isMortalEra) {
    const m = era.asMortalEra;
    const birth = m.birth(current);
    const death = m.death(current);
    if (birth > head) throw invalid('Transaction has a future birth block');
    if (current >= death) throw invalid('Transaction has an ancient birth block');
    birthHash = hashes[birth];
  }
  const payload = registry.createType('ExtrinsicPayload', {
    method: ext.method.toHex(),
    era: era.toHex(),
    nonce: sig.nonce,
    tip: sig.tip,
    specVersion: SPEC_VERSION,
    transactionVersion: TX_VERSION,
    genesisHash: GENESIS,
    blockHash: birthHash,
    mode: sig.mode ?? 0,
    metadataHash: null,
  }, { version: 4 });
  let msg = payload.toU8a({ method: true });
  if (msg.length > 256) msg = blake2AsU8a(msg, 256);
  if (!sr25519Verify(msg, sig.multiSignature.asSr25519, hexToU8a(who))) {
    throw invalid('Transaction has a bad signature');
  }
  const account = model.accounts[who] || { nonce: 0, free: 0 };
  const nonce = sig.nonce.toNumber();
  if (nonce < account.nonce) throw invalid('Transaction is outdated');
  if (nonce > account.nonce) throw invalid('Transaction will be valid in the future (this test node keeps no future queue)');
  return { ext, who, payloadHex: u8aToHex(payload.toU8a({ method: true })) };
}

function include(hex) {
  const { ext, who, payloadHex } = verify(hex);
  if (faults.patchOnSubmit) {
    const { netuid, patch } = faults.patchOnSubmit;
    faults.patchOnSubmit = null;
    Object.assign(model.subnets[netuid], patch);
  }
  const block = head + 1;
  model.accounts[who] = model.accounts[who] || { nonce: 0, free: 0 };
  model.accounts[who].nonce += 1;
  let evs;
  let outcome;
  const before = clone(model.subnets);
  try {
    const r = dispatch(who, ext.method, block);
    if (r === null) throw new PoolError(-32000, `test node: ${ext.method.section}.${ext.method.method} is not modelled`);
    evs = r.map(([p, e, f]) => eventBytes(p, e, f));
    evs.push(feePaid(who));
    evs.push(eventBytes('System', 'ExtrinsicSuccess', [dispatchInfo]));
    outcome = 'success';
  } catch (e) {
    if (e instanceof PoolError) { model.accounts[who].nonce -= 1; throw e; }
    if (!(e instanceof DispatchFail)) throw e;
    model.subnets = before; // a failed dispatch changes nothing but the nonce
    evs = [feePaid(who), eventBytes('System', 'ExtrinsicFailed', [moduleError('SubtensorModule', e.errorName), dispatchInfo])];
    outcome = `SubtensorModule.${e.errorName}`;
  }
  const recs = evs.map((b) => record(0, b));
  const number = pushBlock([hex.toLowerCase()], u8aConcat(compactToU8a(recs.length), ...recs));
  const entryLog = {
    block: number,
    hash: u8aToHex(blake2AsU8a(hexToU8a(hex))),
    signer: encodeAddress(who, 42),
    nonce: ext.nonce.toNumber(),
    era: ext.era.toJSON(),
    call: `${ext.method.section}.${ext.method.method}`,
    args: ext.method.toHuman().args,
    signerPayload: payloadHex,
    outcome,
  };
  applied.push(entryLog);
  return { number, hash: hashes[number], txHash: entryLog.hash };
}

// ---------------------------------------------------------------- JSON-RPC

function rpcError(code, message, data) {
  const e = new Error(message);
  e.rpc = { code, message, data };
  return e;
}

const faults = { dropOnSubmit: null, patchOnSubmit: null };
const subscribers = new Set(); // { ws, id, kind }
let nextSub = 1;

function runtimeVersion() {
  return {
    specName: material.specName || 'node-subtensor',
    implName: material.specName || 'node-subtensor',
    authoringVersion: 1,
    specVersion: SPEC_VERSION,
    implVersion: 1,
    apis: [],
    transactionVersion: TX_VERSION,
    stateVersion: 1,
  };
}

function notifyHeads() {
  const h = headers[head];
  for (const s of subscribers) {
    if (s.kind === 'head') send(s.ws, { jsonrpc: '2.0', method: s.method, params: { subscription: s.id, result: h } });
  }
}

function send(ws, obj) {
  if (ws.readyState === 1) ws.send(JSON.stringify(obj));
}

function newBlocks(count) {
  for (let i = 0; i < count; i++) pushBlock([], null);
  notifyHeads();
  return hashes[head];
}

const withLength = (u8a) => u8aConcat(compactToU8a(u8a.length), u8a);

function stateCall(method, dataHex) {
  const data = hexToU8a(dataHex || '0x');
  switch (method) {
    case 'Metadata_metadata_at_version': {
      const v = registry.createType('u32', data).toNumber();
      if (v === metadata.version) return u8aToHex(u8aConcat(new Uint8Array([1]), withLength(hexToU8a(material.metadata))));
      return '0x00';
    }
    case 'Metadata_metadata_versions':
      return u8aToHex(registry.createType('Vec<u32>', [metadata.version]).toU8a());
    case 'Metadata_metadata':
      return u8aToHex(withLength(hexToU8a(material.metadata)));
    case 'AccountNonceApi_account_nonce': {
      const who = u8aToHex(data.slice(0, 32));
      return u8aToHex(registry.createType('u32', (model.accounts[who] || { nonce: 0 }).nonce).toU8a());
    }
    default:
      throw rpcError(-32000, `test node: runtime API ${method} is not served`);
  }
}

function handle(ws, req) {
  const p = req.params || [];
  switch (req.method) {
    case 'rpc_methods': return { methods: Object.keys(METHODS) };
    case 'system_chain': return material.chainName || 'Bittensor';
    case 'system_name': return 'leoma-gpu test node';
    case 'system_version': return '0.0.0';
    case 'system_health': return { peers: 0, isSyncing: false, shouldHavePeers: false };
    case 'system_properties': return { ss58Format: 42, tokenDecimals: 9, tokenSymbol: 'TAO' };
    case 'system_accountNextIndex': {
      const who = normKey(p[0]);
      return (model.accounts[who] || { nonce: 0 }).nonce;
    }
    case 'chain_getBlockHash': {
      if (p[0] === undefined || p[0] === null) return hashes[head];
      const n = typeof p[0] === 'string' ? parseInt(p[0], p[0].startsWith('0x') ? 16 : 10) : p[0];
      return n <= head ? hashes[n] : null;
    }
    case 'chain_getFinalizedHead': return hashes[head];
    case 'chain_getHeader': {
      const n = numberOf(p[0]);
      return headers[n];
    }
    case 'chain_getBlock': {
      const n = numberOf(p[0]);
      return { block: { header: headers[n], extrinsics: bodies[n] || [] }, justifications: null };
    }
    case 'state_getRuntimeVersion': return runtimeVersion();
    case 'state_getMetadata': return material.metadata;
    case 'state_call': return stateCall(p[0], p[1]);
    case 'state_getStorage': return getStorage(p[0], numberOf(p[1]));
    case 'chain_subscribeNewHeads':
    case 'chain_subscribeFinalizedHeads':
    case 'chain_subscribeAllHeads': {
      const id = String(nextSub++);
      const method = { chain_subscribeNewHeads: 'chain_newHead', chain_subscribeFinalizedHeads: 'chain_finalizedHead', chain_subscribeAllHeads: 'chain_allHead' }[req.method];
      subscribers.add({ ws, id, kind: 'head', method });
      setImmediate(() => send(ws, { jsonrpc: '2.0', method, params: { subscription: id, result: headers[head] } }));
      return id;
    }
    case 'state_subscribeRuntimeVersion': {
      const id = String(nextSub++);
      setImmediate(() => send(ws, { jsonrpc: '2.0', method: 'state_runtimeVersion', params: { subscription: id, result: runtimeVersion() } }));
      return id;
    }
    case 'chain_unsubscribeNewHeads':
    case 'chain_unsubscribeFinalizedHeads':
    case 'chain_unsubscribeAllHeads':
    case 'state_unsubscribeRuntimeVersion':
    case 'author_unwatchExtrinsic':
      for (const s of subscribers) if (s.id === p[0]) subscribers.delete(s);
      return true;
    case 'author_submitExtrinsic': {
      const drop = faults.dropOnSubmit; faults.dropOnSubmit = null;
      if (drop === 'before') { ws.terminate(); return undefined; }
      const r = include(p[0]);
      notifyHeads();
      if (drop === 'after') { ws.terminate(); return undefined; }
      return r.txHash;
    }
    case 'author_submitAndWatchExtrinsic': {
      const drop = faults.dropOnSubmit; faults.dropOnSubmit = null;
      if (drop === 'before') { ws.terminate(); return undefined; }
      const r = include(p[0]);
      const id = String(nextSub++);
      setImmediate(() => {
        if (drop === 'after') { notifyHeads(); ws.terminate(); return; }
        const note = (result) => send(ws, { jsonrpc: '2.0', method: 'author_extrinsicUpdate', params: { subscription: id, result } });
        note('ready');
        note({ inBlock: r.hash });
        note({ finalized: r.hash });
        notifyHeads();
      });
      return id;
    }
    // chopsticks-compatible block production
    case 'dev_newBlock': {
      const count = (p[0] && p[0].count) || 1;
      return newBlocks(count);
    }
    // test controls
    case 'test_head': return { number: head, hash: hashes[head] };
    case 'test_applied': return applied;
    case 'test_model': return model;
    case 'test_patchSubnet': {
      const [netuid, patch] = p;
      const s = model.subnets[netuid];
      if (!s) throw rpcError(-32602, `no subnet ${netuid}`);
      for (const [k, v] of Object.entries(patch)) {
        if (k === 'neurons') s.neurons = v.map((n) => ({ hotkey: normKey(n.hotkey), permit: !!n.permit, lastUpdate: n.lastUpdate ?? 0 }));
        else s[k] = v;
      }
      pushBlock([], null);
      notifyHeads();
      return true;
    }
    case 'test_fault': {
      Object.assign(faults, p[0] || {});
      return faults;
    }
    default:
      throw rpcError(-32601, `Method not found: ${req.method}`);
  }
}

const METHODS = Object.fromEntries([
  'rpc_methods', 'system_chain', 'system_name', 'system_version', 'system_health', 'system_properties',
  'system_accountNextIndex', 'chain_getBlockHash', 'chain_getFinalizedHead', 'chain_getHeader',
  'chain_getBlock', 'state_getRuntimeVersion', 'state_getMetadata', 'state_call', 'state_getStorage',
  'chain_subscribeNewHeads', 'chain_subscribeFinalizedHeads', 'chain_subscribeAllHeads',
  'state_subscribeRuntimeVersion', 'author_submitExtrinsic', 'author_submitAndWatchExtrinsic',
  'author_unwatchExtrinsic', 'dev_newBlock',
].map((m) => [m, true]));

async function main() {
  await cryptoWaitReady();
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  wss.on('connection', (ws) => {
    ws.on('message', (raw) => {
      let req;
      try {
        req = JSON.parse(raw.toString());
      } catch (e) {
        send(ws, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
        return;
      }
      const reqs = Array.isArray(req) ? req : [req];
      for (const r of reqs) {
        try {
          const result = handle(ws, r);
          if (result !== undefined) send(ws, { jsonrpc: '2.0', id: r.id, result });
        } catch (e) {
          const err = e.rpc || (e instanceof PoolError ? { code: e.code, message: e.message, data: e.data } : { code: -32603, message: String(e.message || e) });
          if (!e.rpc && !(e instanceof PoolError)) process.stderr.write(`test node: ${r.method}: ${e.stack || e}\n`);
          send(ws, { jsonrpc: '2.0', id: r.id, error: err });
        }
      }
    });
    ws.on('close', () => { for (const s of subscribers) if (s.ws === ws) subscribers.delete(s); });
  });
  wss.on('listening', () => {
    process.stdout.write(`LISTENING ${wss.address().port}\n`);
  });
  // Exit with the test process: stdin closes when the parent goes away.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((e) => { process.stderr.write(`test node failed: ${e.stack || e}\n`); process.exit(1); });
