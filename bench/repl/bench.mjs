// bench/repl/bench.mjs: replication benchmarks (issue 13; docs/REPLICATION.md), real processes on
// loopback: `valori serve` as the leader, `valori follow` as followers (build/native/valori, or
// VALORI_SERVER_BIN), and the npm package's follower (Valori.follow: the wasm core in this Node
// process; skipped with a note when js/dist has no wasm build).
//
//   node bench/repl/bench.mjs --quick   ~1 min: small sizes, every measurement once (the check that
//                                       the script runs: ctest bench_repl_quick)
//   node bench/repl/bench.mjs --full    the numbers for bench/REPORT.md: run on a quiet machine
//   ... --only bootstrap                only some of the parts below (apply, bootstrap, lag; comma-separated)
//   ... --leader-threads N              the leader's --threads (default: the server's default, 4)
//
// Measures, each printed as a markdown row and written as JSON lines to bench/out/repl-MODE.jsonl:
//   1. leader ingest: durable single-record writes/s with --clients concurrent clients (group commit),
//      and durable vectors/s in batches of 1000 (binary ingest);
//   2. follower apply rate: a follower stopped while the leader takes those writes, then started: the
//      records it applies per second to catch up (events/s for single-record events, vectors/s for
//      batches), next to the leader's ingest rate; the same for the npm package's follower (a directory
//      follower closed at height 0, then reopened: wasm apply + fsync per group commit);
//   3. bootstrap time: a new follower of a collection of Fashion-MNIST vectors (60k x 784 with --full,
//      5k with --quick; Debian's dataset-fashion-mnist), from the process start to the leader's root;
//      and for the npm package's follower in memory (Node), and in headless Chromium (memory and
//      idb://; playwright-core and Debian's Chromium, the page served by the leader), from
//      Valori.follow() to its resolution;
//   4. lag under sustained ingest at half the leader's measured single-write rate, with 1 and 3
//      followers: for each acknowledged write (height h, its acknowledgement reaching this client at
//      t0) the moment t1 record h arrives on the follower's own replication stream (a follower
//      streams only records it holds durable); t1 - t0 (0 when the follower had it first) is the lag
//      from the leader's durable ack to the follower's durable apply, plus one loopback hop; p50 and
//      p99 over the run; and for one npm-package follower in this process (until its waitForHeight
//      resolves). One stream per follower, no request per write: the client measures, it does not
//      load the followers.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { BIN, ROOT, request, startValori, stopServer, tmpDir, vectorsBody } from '../../tests/server/helpers.js';

const args = process.argv.slice(2);
const MODE = args.includes('--full') ? 'full' : 'quick';
// --only apply,bootstrap,lag: run only those parts (all three by default)
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
for (const w of ONLY || []) if (!['apply', 'bootstrap', 'lag'].includes(w)) throw new Error(`--only: unknown part ${w} (apply, bootstrap, lag)`);
const want = (part) => !ONLY || ONLY.includes(part);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : def; };
const P = MODE === 'full'
  ? { singles: opt('--singles', 5000), batches: opt('--batches', 50), dim: 128, boot: 60000, lagSeconds: opt('--lag-seconds', 30), clients: opt('--clients', 16) }
  : { singles: opt('--singles', 400), batches: opt('--batches', 4), dim: 32, boot: 5000, lagSeconds: opt('--lag-seconds', 3), clients: opt('--clients', 8) };
const OUT = path.join(ROOT, 'bench/out');
fs.mkdirSync(OUT, { recursive: true });
const JSONL = path.join(OUT, `repl-${MODE}.jsonl`);
fs.writeFileSync(JSONL, '');
const now = () => Number(process.hrtime.bigint()) / 1e9;
const dirs = [];
const procs = [];

let SECTION = '';
function section(title) { // a heading on stdout, and the section of every row emitted after it
  SECTION = title;
  console.log(`\n## ${title}\n`);
}
function emit(row) { // engine/kind/section: the result line bench/run.sh --full joins (bench/report_server.py)
  fs.appendFileSync(JSONL, JSON.stringify({ engine: 'valori', kind: 'repl-row', mode: MODE, section: SECTION, ...row }) + '\n');
  console.log(`| ${row.measure} | ${row.value} | ${row.unit} | ${row.note || ''} |`);
}

const LEADER_THREADS = args.includes('--leader-threads') ? ['--threads', String(opt('--leader-threads', 4))] : [];
async function leader(extra = []) {
  const data = tmpDir('bench-leader');
  dirs.push(data);
  const s = await startValori(['serve', '--listen', '127.0.0.1:0', '--data', data, '--snapshot-every', '0', ...LEADER_THREADS, ...extra]);
  procs.push(s);
  return s;
}
async function follower(url, data = tmpDir('bench-follower')) {
  if (!dirs.includes(data)) dirs.push(data);
  const s = await startValori(['follow', url, '--listen', '127.0.0.1:0', '--data', data]);
  s.data = data;
  procs.push(s);
  return s;
}
async function ok(p, what) {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.json;
}
async function waitHeight(srv, coll, h, timeoutS = 3600) {
  const t0 = now();
  for (;;) {
    const r = await request(srv, 'GET', `/v1/collections/${coll}/state?min_height=${h}&wait_ms=30000`);
    if (r.status === 200) return r.json;
    if (now() - t0 > timeoutS) throw new Error(`height ${h} not reached in ${timeoutS} s: ${r.text}`);
  }
}
function randVec(dim, k) {
  const v = new Array(dim);
  let s = k * 2654435761 >>> 0;
  for (let i = 0; i < dim; i++) { s = (s * 1664525 + 1013904223) >>> 0; v[i] = ((s >>> 8) % 2001 - 1000) / 64; }
  return v;
}
/** The npm package (js/src), or null when the wasm core is not built (js/dist). */
async function npmValori() {
  if (!fs.existsSync(path.join(ROOT, 'js/dist/valori.wasm'))) return null;
  return (await import('../../js/src/index.js')).Valori;
}

/** A Node follower's catch-up from its stored height to h1: seconds from Valori.follow to h1. */
async function jsCatchUp(V, url, dir, h1) {
  const t0 = now();
  const f = await V.follow(url, { path: dir });
  await new Promise((resolve) => {
    if (f.status().height >= h1) { resolve(); return; }
    const off = f.on('height', ({ height }) => { if (height >= h1) { off(); resolve(); } });
  });
  const dt = now() - t0;
  await f.close();
  return dt;
}

/** CPU seconds (user + system) a child process has used so far (Linux /proc). */
const cpuOf = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
};
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

/** n single-record writes by `clients` concurrent clients; resolves the rate. */
async function singles(srv, coll, n, clients, dim, base = 0) {
  let next = 0;
  const t0 = now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < n) {
      const k = next++;
      await ok(request(srv, 'POST', `/v1/collections/${coll}/records`, { body: { vector: randVec(dim, base + k) } }), 'insert');
    }
  }));
  return n / (now() - t0);
}

async function batches(srv, coll, n, dim, base = 0) {
  const t0 = now();
  for (let b = 0; b < n; b++) {
    const v = new Float32Array(1000 * dim);
    for (let i = 0; i < 1000; i++) v.set(randVec(dim, base + b * 1000 + i), i * dim);
    await ok(request(srv, 'POST', `/v1/collections/${coll}/records/batch`, { headers: { 'Content-Type': 'application/vnd.valori.vectors' }, body: vectorsBody(v, dim) }), 'batch');
  }
  return (n * 1000) / (now() - t0);
}

/** Catch-up of a follower stopped at height h0 while the leader moved on: records applied per second. */
async function catchUp(l, coll, fdata, h1) {
  const t0 = now();
  const f = await follower(`${l.url}/v1/collections/${coll}`, fdata);
  await waitHeight(f, coll, h1);
  const dt = now() - t0;
  await stopServer(f);
  return dt;
}

async function applyRates() {
  section(`Follower apply rate against the leader's ingest (${P.dim}-d, HNSW M 16, ef_construction 200)`);
  console.log('| measure | value | unit | note |\n|---|---|---|---|');
  const l = await leader();
  const V = await npmValori();
  if (!V) console.log('| npm package follower | skipped | | js/dist has no wasm build (npm run build:wasm) |');
  for (const [coll, kind] of [['singles', 'single'], ['batches', 'batch']]) {
    await ok(request(l, 'POST', '/v1/collections', { body: { name: coll, dim: P.dim } }), 'create');
    const fdata = tmpDir('bench-follower');
    dirs.push(fdata);
    const f = await follower(`${l.url}/v1/collections/${coll}`, fdata); // bootstraps at height 0
    await waitHeight(f, coll, 0);
    await stopServer(f);
    const jdir = path.join(tmpDir('bench-jsfollower'), 'store');
    dirs.push(path.dirname(jdir));
    if (V) await (await V.follow(`${l.url}/v1/collections/${coll}`, { path: jdir })).close(); // bootstrapped at 0
    let rate, events;
    if (kind === 'single') {
      rate = await singles(l, coll, P.singles, P.clients, P.dim);
      events = P.singles;
      emit({ measure: 'leader ingest, durable single-record writes', value: rate.toFixed(0), unit: 'events/s', note: `${P.clients} clients, group commit` });
    } else {
      rate = await batches(l, coll, P.batches, P.dim);
      events = P.batches;
      emit({ measure: 'leader ingest, durable batches of 1000', value: rate.toFixed(0), unit: 'vectors/s', note: `${P.batches} batches` });
    }
    const h1 = (await ok(request(l, 'GET', `/v1/collections/${coll}/state`), 'state')).height;
    const dt = await catchUp(l, coll, fdata, h1);
    if (kind === 'single') emit({ measure: 'follower apply (catch-up), single-record events', value: (events / dt).toFixed(0), unit: 'events/s', note: `${events} events in ${dt.toFixed(2)} s incl. process start; leader ${rate.toFixed(0)}/s` });
    else emit({ measure: 'follower apply (catch-up), batches of 1000', value: ((events * 1000) / dt).toFixed(0), unit: 'vectors/s', note: `${events} events in ${dt.toFixed(2)} s incl. process start; leader ${rate.toFixed(0)}/s` });
    if (!V) continue;
    const jt = await jsCatchUp(V, `${l.url}/v1/collections/${coll}`, jdir, h1);
    const native = kind === 'single' ? events / dt : (events * 1000) / dt;
    if (kind === 'single') emit({ measure: 'npm follower (wasm, Node, directory) apply, single-record events', value: (events / jt).toFixed(0), unit: 'events/s', note: `${events} events in ${jt.toFixed(2)} s incl. reopen; native ${native.toFixed(0)}/s` });
    else emit({ measure: 'npm follower (wasm, Node, directory) apply, batches of 1000', value: ((events * 1000) / jt).toFixed(0), unit: 'vectors/s', note: `${events} events in ${jt.toFixed(2)} s incl. reopen; native ${native.toFixed(0)}/s` });
  }
  await stopServer(l);
}

function fmnist(n) {
  const f = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
  if (!fs.existsSync(f)) return null;
  const b = zlib.gunzipSync(fs.readFileSync(f));
  const count = Math.min(n, b.readUInt32BE(4));
  const v = new Float32Array(count * 784);
  for (let i = 0; i < count * 784; i++) v[i] = b[16 + i];
  return { v, n: count, dim: 784 };
}

async function bootstrap() {
  section('Bootstrap of a new follower');
  console.log('| measure | value | unit | note |\n|---|---|---|---|');
  const d = fmnist(P.boot);
  const data = d || { v: new Float32Array(P.boot * 784).map((_, i) => (i * 7919) % 256), n: P.boot, dim: 784 };
  const l = await leader(['--static', ROOT]);
  await ok(request(l, 'POST', '/v1/collections', { body: { name: 'fmnist', dim: data.dim } }), 'create');
  for (let i = 0; i < data.n; i += 1000) {
    const m = Math.min(1000, data.n - i);
    await ok(request(l, 'POST', '/v1/collections/fmnist/records/batch', { headers: { 'Content-Type': 'application/vnd.valori.vectors' },
      body: vectorsBody(data.v.subarray(i * data.dim, (i + m) * data.dim), data.dim) }), 'batch');
  }
  const cp = await ok(request(l, 'POST', '/v1/collections/fmnist/checkpoint'), 'checkpoint');
  const snap = await request(l, 'GET', '/v1/collections/fmnist/replication/snapshot');
  const t0 = now();
  const f = await follower(`${l.url}/v1/collections/fmnist`);
  const st = await waitHeight(f, 'fmnist', cp.height);
  const dt = now() - t0;
  if (st.root !== cp.root) throw new Error('the bootstrapped root differs from the leader\'s');
  emit({ measure: `bootstrap, ${data.n} x ${data.dim}${d ? ' Fashion-MNIST' : ' synthetic (no dataset-fashion-mnist)'}`, value: dt.toFixed(2), unit: 's',
    note: `snapshot ${(snap.body.length / 1048576).toFixed(1)} MiB; from process start to the leader's root` });
  await stopServer(f);
  const V = await npmValori();
  if (V) {
    const j0 = now();
    const jf = await V.follow(`${l.url}/v1/collections/fmnist`);
    const jdt = now() - j0;
    const root = jf.status().root;
    await jf.close();
    if (root !== cp.root) throw new Error('the npm follower\'s bootstrapped root differs from the leader\'s');
    emit({ measure: `bootstrap, npm follower (wasm, Node, memory), ${data.n} x ${data.dim}`, value: jdt.toFixed(2), unit: 's',
      note: 'from Valori.follow() to its resolution at the leader\'s root (download + valori_bootstrap)' });
    await chromiumBootstrap(l, cp, data);
  }
  await stopServer(l);
}

const mib = (n) => (n / 1048576).toFixed(0);

/** The npm package's follower in headless Chromium: bootstrap time in memory and into IndexedDB. */
async function chromiumBootstrap(l, cp, data) {
  const exe = process.env.CHROMIUM || '/usr/bin/chromium';
  let chromium;
  try { ({ chromium } = await import('playwright-core')); } catch { chromium = null; }
  if (!chromium || !fs.existsSync(exe)) {
    console.log('| bootstrap, npm follower in Chromium | skipped | | no playwright-core or no Chromium |');
    return;
  }
  const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    for (const where of [':memory:', 'idb://bench-bootstrap']) {
      // a fresh page each: a wasm heap never shrinks, so the second bootstrap must not inherit the first's
      const page = await browser.newPage();
      await page.goto(`${l.url}/js/test/fixtures/follow-page.html`);
      await page.waitForFunction(() => window.ready === true);
      const r = await page.evaluate(async ([u, p]) => {
        const { Valori } = await import('/js/src/index.js');
        const t0 = performance.now();
        try {
          const s = await window.startFollower(u, p);
          const dt = (performance.now() - t0) / 1000;
          await window.f.close();
          return { dt, root: s.root, heap: await Valori.memoryBytes() };
        } catch (e) { return { error: `${e.code || ''} ${e.message}`, heap: await Valori.memoryBytes() }; }
      }, [`${l.url}/v1/collections/fmnist`, where]);
      await page.close();
      const measure = `bootstrap, npm follower (wasm, Chromium, ${where === ':memory:' ? 'memory' : 'idb://'}), ${data.n} x ${data.dim}`;
      if (r.error) { // reported as a row, not hidden: the report says what failed and why
        emit({ measure, value: 'failed', unit: '', note: `${r.error.slice(0, 200)}; wasm memory ${mib(r.heap)} MiB` });
        continue;
      }
      if (r.root !== cp.root) throw new Error(`the Chromium follower's root (${where}) differs from the leader's`);
      emit({ measure, value: r.dt.toFixed(2), unit: 's', note: `from Valori.follow() to its resolution at the leader's root, in the page; wasm memory afterwards ${mib(r.heap)} MiB (Valori.memoryBytes())` });
    }
  } finally {
    await browser.close();
  }
}

/**
 * Lag with `nfollowers` native followers, or (V given) one npm-package follower in this process
 * (a directory store; the lag is until its 'height' event, no HTTP round trip).
 */
/** When each RECORD frame arrives on a server's own replication stream: a follower streams only what
 * it holds durable, so the arrival of height h is the moment h is applied and durable on it (plus one
 * loopback hop), measured without a request per write. Returns {arrivals: Map height -> time, stop}. */
async function watchStream(srv, coll) {
  const pos = await ok(request(srv, 'GET', `/v1/collections/${coll}/replication`), 'position');
  const ctl = new AbortController();
  const res = await fetch(`${srv.url}/v1/collections/${coll}/replication/stream?from=${pos.height + 1}&chain=${pos.chain}`,
    { signal: ctl.signal, headers: { 'X-Valori-Follower': 'bench-lag' } });
  if (res.status !== 200) throw new Error(`stream of ${srv.url}: ${res.status} ${await res.text()}`);
  const arrivals = new Map();
  const done = (async () => {
    let buf = Buffer.alloc(0);
    try {
      for await (const chunk of res.body) {
        const t = now();
        buf = buf.length ? Buffer.concat([buf, chunk]) : Buffer.from(chunk);
        while (buf.length >= 8) { // frame = type, version, flags, len | payload | crc (REPLICATION.md section 5)
          const len = buf.readUInt32LE(4);
          if (buf.length < 12 + len) break;
          if (buf[0] === 2) arrivals.set(Number(buf.readBigUInt64LE(8 + 8)), t); // RECORD: the record's height
          buf = buf.subarray(12 + len);
        }
      }
    } catch (e) { if (e.name !== 'AbortError') throw e; }
  })();
  return { arrivals, stop: async () => { ctl.abort(); await done.catch(() => undefined); } };
}

async function lag(nfollowers, rate, l, coll, V = null) {
  const fs2 = [];
  for (let i = 0; i < nfollowers; i++) fs2.push(await follower(`${l.url}/v1/collections/${coll}`));
  const h = (await ok(request(l, 'GET', `/v1/collections/${coll}/state`), 'state')).height;
  for (const f of fs2) await waitHeight(f, coll, h);
  for (const f of fs2) f.watch = await watchStream(f, coll);
  let js = null;
  if (V) {
    const d = tmpDir('bench-jslag');
    dirs.push(d);
    js = await V.follow(`${l.url}/v1/collections/${coll}`, { path: path.join(d, 'store') });
    await js.waitForHeight(h, { waitMs: 30000 });
    fs2.push({ js });
  }
  const lags = [];
  const acks = []; // [height, time the leader's acknowledgement reached the client]
  const interval = 1 / rate;
  const cpu0 = { leader: cpuOf(l.child.pid), followers: fs2.filter((f) => !f.js).map((f) => cpuOf(f.child.pid)), self: process.cpuUsage() };
  const t0 = now();
  let k = 0;
  const inflight = [];
  let active = 0;
  while (now() - t0 < P.lagSeconds) {
    const due = t0 + k * interval;
    if (now() < due) await new Promise((r) => setTimeout(r, Math.max(0, (due - now()) * 1000)));
    while (active >= 64) await new Promise((r) => setTimeout(r, 1)); // bounded connections; the pace slips instead
    k++;
    active++;
    inflight.push((async () => {
      const w = await ok(request(l, 'POST', `/v1/collections/${coll}/records`, { body: { vector: randVec(P.dim, 1e6 + k) } }), 'insert');
      const ta = now();
      acks.push([w.height, ta]);
      if (js) {
        await js.waitForHeight(w.height, { waitMs: 30000 });
        lags.push(now() - ta);
      }
      active--;
    })());
  }
  try {
    await Promise.all(inflight);
  } catch (e) { // the npm follower fell behind (ETIMEOUT): closed before the row reports it
    if (js) await js.close().catch(() => undefined);
    throw e;
  }
  const top = Math.max(...acks.map((a) => a[0]));
  for (const f of fs2) {
    if (f.js) continue;
    const until = now() + 60;
    while (!f.watch.arrivals.has(top) && now() < until) await new Promise((r) => setTimeout(r, 20));
  }
  const wall = now() - t0; // the CPU each process used from the first write until every follower had the last
  const self = process.cpuUsage(cpu0.self);
  const cpu = { wall, leader: cpuOf(l.child.pid) - cpu0.leader, followers: fs2.filter((f) => !f.js).map((f, i) => cpuOf(f.child.pid) - cpu0.followers[i]),
    self: (self.user + self.system) / 1e6 };
  for (const f of fs2) {
    if (f.js) continue;
    for (const [hh, ta] of acks) {
      const t = f.watch.arrivals.get(hh);
      if (t === undefined) throw new Error(`height ${hh} never reached the follower's stream`);
      lags.push(Math.max(0, t - ta)); // 0: the follower had it before the ack reached the client
    }
    await f.watch.stop();
    await stopServer(f);
  }
  if (js) await js.close();
  return { p50: pct(lags, 0.5), p99: pct(lags, 0.99), n: lags.length, writes: k, cpu };
}

async function lagRuns() {
  section('Lag under sustained ingest (leader durable ack to follower apply)');
  console.log('| measure | value | unit | note |\n|---|---|---|---|');
  const l = await leader();
  await ok(request(l, 'POST', '/v1/collections', { body: { name: 'lag', dim: P.dim } }), 'create');
  const max = await singles(l, 'lag', P.singles, P.clients, P.dim, 5e6);
  const rate = max / 2;
  for (const n of [1, 3]) {
    const r = await lag(n, rate, l, 'lag');
    emit({ measure: `lag p50, ${n} follower${n > 1 ? 's' : ''}`, value: (r.p50 * 1000).toFixed(2), unit: 'ms', note: `${r.writes} writes at ${rate.toFixed(0)}/s (half of ${max.toFixed(0)}/s)` });
    const c = r.cpu;
    emit({ measure: `lag p99, ${n} follower${n > 1 ? 's' : ''}`, value: (r.p99 * 1000).toFixed(2), unit: 'ms',
      note: `${r.n} samples; goal < 100 ms; CPU over ${c.wall.toFixed(1)} s: leader ${c.leader.toFixed(1)} s, follower${n > 1 ? 's' : ''} ${c.followers.map((x) => x.toFixed(1)).join(', ')} s, this client ${c.self.toFixed(1)} s` });
  }
  const V = await npmValori();
  if (V) {
    let r;
    try {
      r = await lag(0, rate, l, 'lag', V);
    } catch (e) { // it fell behind for good (ETIMEOUT): a reported row, not a crash of the benchmark
      if (e.code !== 'ETIMEOUT') throw e;
      emit({ measure: 'lag, 1 npm follower (wasm, Node, directory)', value: 'failed', unit: '', note: `fell behind: ${e.message}` });
      await stopServer(l);
      return;
    }
    emit({ measure: 'lag p50, 1 npm follower (wasm, Node, directory)', value: (r.p50 * 1000).toFixed(2), unit: 'ms', note: `${r.writes} writes at ${rate.toFixed(0)}/s; until its waitForHeight (no HTTP round trip: often it had the record before the ack reached the client)` });
    emit({ measure: 'lag p99, 1 npm follower (wasm, Node, directory)', value: (r.p99 * 1000).toFixed(2), unit: 'ms',
      note: `${r.n} samples; goal < 100 ms; CPU over ${r.cpu.wall.toFixed(1)} s: leader ${r.cpu.leader.toFixed(1)} s, this process (client and follower) ${r.cpu.self.toFixed(1)} s` });
  }
  await stopServer(l);
}

try {
  if (!fs.existsSync(BIN)) throw new Error(`no valori binary at ${BIN}: build it first`);
  console.log(`# Replication benchmark (${MODE}), ${new Date().toISOString()}, load ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}${LEADER_THREADS.length ? `, leader --threads ${LEADER_THREADS[1]}` : ''}`);
  if (want('apply')) await applyRates();
  if (want('bootstrap')) await bootstrap();
  if (want('lag')) await lagRuns();
  console.log(`\nresults: ${path.relative(ROOT, JSONL)}`);
} finally {
  for (const p of procs) await stopServer(p, 'SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}
// The results are written and every process is stopped: end here. A lag run the npm follower lost
// (ETIMEOUT) can leave a load-generator request to the stopped leader pending, which would keep this
// process (and bench/run.sh --full) waiting for nothing.
process.exit(0);
