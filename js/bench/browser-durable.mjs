// browser-durable.mjs: the cost of a durable write in headless Chromium (idb://, strict IndexedDB
// commit per acknowledged write or group) and, for reference, in Node on the filesystem (fsync).
// Usage (repository root): node js/bench/browser-durable.mjs
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Valori } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const DIM = 128;

// The measured body, run in the page and in Node: each pattern on a fresh durable store and on a
// fresh in-memory database (same index work); the difference is the cost of durability.
async function measure(Valori, path, DIM, rm) {
  const vec = (i) => Float32Array.from({ length: DIM }, (_, j) => ((i * 31 + j * 17) % 200) / 10 - 10);
  const hnsw = { m: 16, efConstruction: 64 };
  const patterns = {
    // one write at a time, each awaited: one commit per write
    sequential_300: async (db) => { for (let i = 0; i < 300; i++) await db.insert(vec(i)); return 300; },
    // 2000 writes issued at once: group commit
    concurrent_2000: async (db) => { await Promise.all(Array.from({ length: 2000 }, (_, i) => db.insert(vec(i)))); return 2000; },
    // insertBatch of 500 records, 4 times: one event and one commit per batch
    insertBatch_4x500: async (db) => { for (let b = 0; b < 4; b++) await db.insertBatch(Array.from({ length: 500 }, (_, i) => vec(b * 500 + i))); return 2000; },
  };
  const out = {};
  let k = 0;
  for (const [name, run] of Object.entries(patterns)) {
    const time = async (p, extra) => {
      const db = await Valori.open({ path: p, dim: DIM, hnsw, ...extra });
      const t = performance.now();
      const n = await run(db);
      const ms = (performance.now() - t) / n;
      await db.close();
      return ms;
    };
    const durable = await time(path(`d${k}`));
    const relaxed = await time(path(`r${k}`), { durability: 'relaxed' });
    const memory = await time(':memory:');
    k++;
    out[name] = { durable_ms_per_write: durable, relaxed_ms_per_write: relaxed, memory_ms_per_write: memory,
      durability_cost_ms_per_write: durable - memory };
  }
  if (rm) rm();
  return out;
}

const server = http.createServer((req, res) => {
  const file = path.join(REPO, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!file.startsWith(REPO) || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
let chromiumResult;
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/js/test/fixtures/page.html`);
  await page.waitForFunction(() => window.valoriReady === true);
  chromiumResult = await page.evaluate(`(${measure.toString()})(window.Valori, (n) => 'idb://bench-' + n + '-' + Date.now(), ${DIM})`);
} finally {
  await browser.close();
  server.close();
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-durable-'));
const nodeResult = await measure(Valori, (n) => path.join(tmp, n), DIM, () => fs.rmSync(tmp, { recursive: true, force: true }));
const r = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([a, b]) => [a, +b.toFixed(4)]))]));
console.log(JSON.stringify({ dim: DIM, chromium_idb: r(chromiumResult), node_fs: r(nodeResult) }, null, 1));
