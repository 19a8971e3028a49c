// Runs leoma-gpu against a real subtensor runtime executed by chopsticks from
// a raw chain spec (the subtensor repository's scripts/specs/raonet.json,
// spec 218), and checks that the runtime agrees with the test node
// (tests/chain_node/node.cjs) on what matters:
//   1. `weights set --winner` is accepted: signature, extensions and call
//      pass the real runtime's checks; WeightsSet + ExtrinsicSuccess;
//   2. a second `weights set` at once is refused before submission (rate limit);
//   3. leoma-gpu's signed extrinsics, submitted after the hotkey is
//      deregistered or the version key raised, fail in the real runtime with
//      HotKeyNotRegisteredInSubNet / IncorrectWeightVersionKey (the errors the
//      test node gives for those states);
//   4. with commit-reveal on, leoma-gpu refuses: spec 218 has no timelocked
//      commit call.
// Usage (see scripts/chopsticks-check.sh): node chopsticks_check.cjs CHOPSTICKS_BIN SPEC.json LEOMA_BIN
'use strict';
const { spawn, spawnSync } = require('child_process');
const WebSocket = require('ws');
const { TypeRegistry, Metadata } = require('@polkadot/types');
const { expandMetadata } = require('@polkadot/types/metadata/decorate');
const { compactStripLength, u8aToHex, hexToU8a } = require('@polkadot/util');
const { cryptoWaitReady, sr25519PairFromSeed, encodeAddress } = require('@polkadot/util-crypto');

const [chopsticks, spec, leoma] = process.argv.slice(2);
const PORT = 8011 + Math.floor(Math.random() * 1000);
const URL = `ws://127.0.0.1:${PORT}`;
const seed = (b) => '0x' + b.repeat(32);
const addr = (b) => encodeAddress(sr25519PairFromSeed(hexToU8a(seed(b))).publicKey, 42);
const results = [];
const check = (name, ok, detail) => {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
};

function rpc(method, params) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(URL);
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })));
    ws.on('message', (m) => {
      const r = JSON.parse(m);
      if (r.id !== 1) return;
      ws.close();
      r.error ? reject(new Error(JSON.stringify(r.error))) : resolve(r.result);
    });
  });
}

function leomaGpu(args) {
  const r = spawnSync(leoma, ['weights', ...args, '--network', URL, '--netuid', '1'], {
    env: { ...process.env, LEOMA_HOTKEY_SEED: seed('11'), RUST_LOG: 'warn' },
    encoding: 'utf8',
    timeout: 120000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function main() {
  await cryptoWaitReady();
  const node = spawn(chopsticks, [`--genesis=${spec}`, `--port=${PORT}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let log = '';
    node.stdout.on('data', (d) => { log += d; if (log.includes('RPC listening')) resolve(); });
    node.on('exit', (c) => reject(new Error(`chopsticks exited ${c}: ${log.slice(-2000)}`)));
    setTimeout(() => reject(new Error('chopsticks did not start in 120 s')), 120000);
  });
  try {
    const version = await rpc('state_getRuntimeVersion', []);
    console.log(`runtime: ${version.specName} spec ${version.specVersion}`);
    const registry = new TypeRegistry();
    const metadata = new Metadata(registry, await rpc('state_getMetadata', []));
    registry.setMetadata(metadata);
    const query = expandMetadata(registry, metadata).query;
    const V = addr('11'), M = addr('22');
    await rpc('dev_setStorage', [{
      System: { Account: [[[V], { providers: 1, data: { free: '1000000000000' } }]] },
      SubtensorModule: {
        SubnetworkN: [[[1], 3]],
        Uids: [[[1, V], 1], [[1, M], 2]],
        Keys: [[[1, 1], V], [[1, 2], M]],
        ValidatorPermit: [[[1], [false, true, false]]],
        LastUpdate: [[[1], [0, 0, 0]]],
        CommitRevealWeightsEnabled: [[[1], false]],
        // No epoch during the check: the runtime's epoch would hand out
        // validator permits by stake and undo the state set here.
        Tempo: [[[1], 10000]],
      },
    }]);
    const eventsAtHead = async () => {
      const key = u8aToHex(compactStripLength(query.system.events())[1]);
      const raw = await rpc('state_getStorage', [key]);
      return registry.createType('Vec<EventRecord>', raw).map((r) => {
        const e = r.event;
        const name = `${e.section}.${e.method}`;
        if (name === 'system.ExtrinsicFailed') {
          const d = e.data[0];
          if (d.isModule) {
            const m = registry.findMetaError(d.asModule);
            return `${name}(${m.section}.${m.name})`;
          }
        }
        return name;
      });
    };

    // 1. accepted by the real runtime
    const set = leomaGpu(['set', '--winner', M]);
    let events = [];
    try { events = JSON.parse(set.stdout).included.events; } catch (e) { /* reported below */ }
    check('set_weights accepted by the runtime', set.code === 0 && events.includes('SubtensorModule::WeightsSet')
      && events.includes('System::ExtrinsicSuccess'), `exit ${set.code}, events ${JSON.stringify(events)} ${set.stderr.trim()}`);
    const weightsKey = u8aToHex(compactStripLength(query.subtensorModule.weights(1, 1))[1]);
    const stored = registry.createType('Vec<(u16,u16)>', await rpc('state_getStorage', [weightsKey])).toJSON();
    check('weights stored on chain', JSON.stringify(stored) === '[[2,65535]]', JSON.stringify(stored));

    // 2. rate limit, read before acting
    const again = leomaGpu(['set', '--uid', '0']);
    check('second set refused before submission (rate limit)', again.code === 3 && again.stderr.includes('rate limit'),
      `exit ${again.code}: ${again.stderr.trim()}`);

    // 3. the same dispatch errors as the test node. (A revoked validator
    // permit cannot be staged: the runtime hands permits out again by stake
    // in the next block's on_initialize.)
    await rpc('dev_newBlock', [{ count: 100 }]);
    const dry = leomaGpu(['set', '--uid', '0', '--dry-run']);
    const ext = JSON.parse(dry.stdout).signed.extrinsic_hex;
    await rpc('dev_setStorage', [{ SubtensorModule: { Uids: [[[1, V], null]] } }]);
    await rpc('author_submitExtrinsic', [ext]);
    await rpc('dev_newBlock', [{ count: 1 }]);
    events = await eventsAtHead();
    check('an unregistered hotkey fails with HotKeyNotRegisteredInSubNet in the runtime',
      events.includes('system.ExtrinsicFailed(subtensorModule.HotKeyNotRegisteredInSubNet)'), JSON.stringify(events));
    await rpc('dev_setStorage', [{ SubtensorModule: { Uids: [[[1, V], 1]] } }]);

    // 3b. a version key above ours: IncorrectWeightVersionKey
    await rpc('dev_newBlock', [{ count: 100 }]);
    await rpc('dev_setStorage', [{ SubtensorModule: { ValidatorPermit: [[[1], [false, true, false]]] } }]);
    const dry2 = leomaGpu(['set', '--uid', '2', '--dry-run']);
    const ext2 = JSON.parse(dry2.stdout).signed.extrinsic_hex;
    await rpc('dev_setStorage', [{ SubtensorModule: { WeightsVersionKey: [[[1], 7]] } }]);
    await rpc('author_submitExtrinsic', [ext2]);
    await rpc('dev_newBlock', [{ count: 1 }]);
    events = await eventsAtHead();
    check('a raised version key fails with IncorrectWeightVersionKey in the runtime',
      events.includes('system.ExtrinsicFailed(subtensorModule.IncorrectWeightVersionKey)'), JSON.stringify(events));
    await rpc('dev_setStorage', [{ SubtensorModule: { WeightsVersionKey: [[[1], 0]] } }]);

    // 4. commit-reveal on a runtime without a timelocked commit call
    await rpc('dev_setStorage', [{ SubtensorModule: {
      ValidatorPermit: [[[1], [false, true, false]]], CommitRevealWeightsEnabled: [[[1], true]] } }]);
    await rpc('dev_newBlock', [{ count: 100 }]);
    const cr = leomaGpu(['set', '--winner', M]);
    check('commit-reveal refused on spec 218 (no timelocked commit call)', cr.code === 2
      && cr.stderr.includes('commit_crv3_weights'), `exit ${cr.code}: ${cr.stderr.trim()}`);
  } finally {
    node.kill();
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
