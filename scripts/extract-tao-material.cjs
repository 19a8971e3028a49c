// Writes the runtime material that @bitgo/sdk-coin-tao ships for one network
// (its dist/src/resources/{mainnet,testnet}.js) as JSON: genesis hash, chain
// and spec names, spec and transaction versions, and the SCALE metadata.
// Usage: node extract-tao-material.cjs RESOURCE.js OUT.json
'use strict';
const fs = require('fs');
const path = require('path');
const [src, out] = process.argv.slice(2);
const exported = require(path.resolve(src));
const material = Object.values(exported).find((v) => v && typeof v.metadata === 'string');
if (!material) throw new Error(`${src}: no runtime material exported`);
const fields = ['genesisHash', 'chainName', 'specName', 'specVersion', 'txVersion', 'metadata'];
for (const f of fields) if (material[f] === undefined) throw new Error(`${src}: no ${f}`);
if (!/^0x6d657461/.test(material.metadata)) throw new Error(`${src}: metadata lacks the 'meta' magic`);
const json = Object.fromEntries(fields.map((f) => [f, material[f]]));
json.source = `@bitgo/sdk-coin-tao ${path.basename(src)}`;
fs.writeFileSync(out, JSON.stringify(json));
console.error(`${out}: ${json.specName} spec ${json.specVersion} tx ${json.txVersion} genesis ${json.genesisHash}`);
