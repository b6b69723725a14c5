// A Valori store on the filesystem, from Node: insert notes with (toy) embeddings, link them in the
// knowledge graph, search, search-then-expand, close, reopen, and show the state root.
// Run from the repository root: `npm run build:wasm && node examples/node/index.js [dir]`.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { Valori } from 'valori'; // js/, through the repository's npm workspace; `npm i valori` elsewhere

const dir = process.argv[2] || fs.mkdtempSync(path.join(os.tmpdir(), 'valori-example-'));

// Toy 4-dimensional "embeddings"; real ones come from a model.
const notes = [
  ['cats purr when content', [0.9, 0.1, 0.0, 0.2]],
  ['dogs wag their tails', [0.8, 0.3, 0.1, 0.1]],
  ['the stock market fell', [0.0, 0.9, 0.8, 0.1]],
  ['interest rates rose', [0.1, 0.8, 0.9, 0.0]],
  ['kittens are young cats', [0.95, 0.05, 0.0, 0.3]],
];
const PETS = 1, FINANCE = 2; // tags

const db = await Valori.open({ path: dir, dim: 4 }); // Node >= 24: `await using db = ...`
try {
  // insertBatch is atomic: all five notes or none; ids are bigints 1n..5n
  const ids = await db.insertBatch(notes.map(([, v]) => new Float32Array(v)), {
    tags: notes.map((_, i) => (i === 2 || i === 3 ? FINANCE : PETS)),
    metas: notes.map(([text]) => text),
  });
  // a node per note, and an edge "kitten -> cat" (kind 1 = is-a)
  const nodes = [];
  for (const id of ids) nodes.push(await db.createNode({ kind: 0, record: id, label: `note ${id}` }));
  await db.createEdge(nodes[4], nodes[0], { kind: 1, weight: 0.9 });

  const query = new Float32Array([0.9, 0.1, 0.0, 0.25]);
  const hits = await db.search(query, { k: 3, tag: PETS });
  const dec = new TextDecoder();
  for (const h of hits) {
    const r = await db.get(h.id);
    console.log(`hit ${h.id} distance ${h.distance.toFixed(4)}  "${dec.decode(r.meta)}"`);
  }
  const { nodes: around } = await db.searchExpand(query, { k: 1, hops: 1, dir: 'both' });
  console.log('graph around the best hit:', around.map((n) => `node ${n.node} (depth ${n.depth})`).join(', '));
  console.log('state root', await db.stateRoot());
} finally {
  await db.close(); // waits for queued writes and makes them durable; errors are reported
}

const again = await Valori.open({ path: dir });
console.log(`reopened ${dir}: ${(await again.stats()).records} records, state root ${await again.stateRoot()}`);
await again.close();
