// bench/demo/page.mjs: what the demo page (examples/demo/) costs in headless Chromium with N
// Fashion-MNIST images: first load to a live follower (fresh browser profile: the bootstrap from
// the leader's snapshot into IndexedDB), reload to live (resumed from IndexedDB), local search
// latency (HNSW k 10 ef 64, and exact, on the follower in the page) and the wasm memory.
//   node bench/demo/page.mjs [--images N] [--runs R]        (defaults 10000, 3)
// Needs build/native/valori and js/dist (scripts/build-wasm.sh). The data set is loaded once into
// bench/data/demo-N/ (git-ignored) by `valori import` (as scripts/serve.sh does) and reused. Prints one JSON line per
// run and a summary table (medians).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, runValori, startServer, stopServer } from '../../tests/server/helpers.js';

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const N = arg('--images', 10000), RUNS = arg('--runs', 3);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const site = path.join(ROOT, 'build/demo-bench-site');
const r = spawnSync('bash', [path.join(ROOT, 'scripts/demo-site.sh'), site], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(r.stderr);
const data = path.join(ROOT, `bench/data/demo-${N}`);
const fresh = !fs.existsSync(path.join(data, 'fashion'));
fs.mkdirSync(path.dirname(data), { recursive: true });
if (fresh) {
  console.error(`bench/demo: importing ${N} images into ${data}`);
  const F = '/usr/share/datasets/fashion-mnist';
  const imp = runValori(['import', `${F}/train-images-idx3-ubyte.gz`, '--labels', `${F}/train-labels-idx1-ubyte.gz`,
    '--data', data, '--collection', 'fashion', '--limit', String(N), '--graph', '-q']);
  if (imp.code !== 0) throw new Error(`valori import failed: ${imp.err}`);
}
const srv = await startServer(['--data', data, '--static', site]);
const results = [];
try {
  const snap = await fetch(`${srv.url}/v1/collections/fashion/replication/snapshot`);
  const snapBytes = (await snap.arrayBuffer()).byteLength;
  for (let run = 0; run < RUNS; run++) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-demo-bench-'));
    const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: ARGS, viewport: { width: 1440, height: 1000 } });
    try {
      const page = ctx.pages()[0] || await ctx.newPage();
      const live = async () => {
        await page.waitForFunction('window.valoriDemo && window.valoriDemo.liveMs > 0', undefined, { timeout: 120_000, polling: 20 });
        return page.evaluate(() => ({ liveMs: window.valoriDemo.liveMs, bootstrapped: window.valoriDemo.bootstrapped, height: window.valoriDemo.status.height }));
      };
      await page.goto(`${srv.url}/`);
      const first = await live();
      await page.reload();
      const again = await live();
      const s = await page.evaluate(async () => {
        const { Valori } = await import('/valori/src/index.js');
        const f = window.valoriDemo.follower, st = await f.stats(), next = Number(st.nextRecordId), qs = [];
        for (let i = 0; i < 50; i++) qs.push((await f.get(BigInt(1 + (i * 7919) % (next - 1)))).vector);
        const time = async (opts, n) => {
          const t = [];
          for (let i = 0; i < n; i++) { const t0 = performance.now(); await f.search(qs[i % qs.length], opts); t.push(performance.now() - t0); }
          t.sort((a, b) => a - b);
          return { p50: t[Math.floor(n / 2)], p95: t[Math.floor(n * 0.95)] };
        };
        return { hnsw: await time({ k: 10, ef: 64 }, 200), exact: await time({ k: 10, mode: 'exact' }, 20),
          memoryBytes: await Valori.memoryBytes(), heapUsed: await Valori.heapUsed(), records: st.records };
      });
      const row = { run, images: s.records, snapshotBytes: snapBytes, firstLoadMs: first.liveMs, firstBootstrapped: first.bootstrapped,
        reloadMs: again.liveMs, reloadBootstrapped: again.bootstrapped, searchHnswP50Ms: s.hnsw.p50, searchHnswP95Ms: s.hnsw.p95,
        searchExactP50Ms: s.exact.p50, wasmMemoryMiB: s.memoryBytes / 1048576, wasmHeapUsedMiB: s.heapUsed / 1048576 };
      console.log(JSON.stringify(row));
      results.push(row);
    } finally {
      await ctx.close();
      fs.rmSync(profile, { recursive: true, force: true });
    }
  }
} finally {
  await stopServer(srv);
}
const m = (k) => median(results.map((x) => x[k]));
console.log(`\n| images | snapshot | first load -> live | reload -> live | local search HNSW k10 ef64 p50 / p95 | exact p50 | wasm memory |`);
console.log(`|---|---|---|---|---|---|---|`);
console.log(`| ${results[0].images} | ${(results[0].snapshotBytes / 1e6).toFixed(1)} MB | ${m('firstLoadMs').toFixed(0)} ms | ${m('reloadMs').toFixed(0)} ms | ` +
  `${m('searchHnswP50Ms').toFixed(2)} / ${m('searchHnswP95Ms').toFixed(2)} ms | ${m('searchExactP50Ms').toFixed(1)} ms | ${m('wasmMemoryMiB').toFixed(0)} MiB |`);
console.log(`(medians of ${RUNS} runs; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${os.cpus().length} cores)`);
