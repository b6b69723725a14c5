// engines.mjs: one adapter per engine measured by bench.mjs. Every adapter is opened with
// { ds, M, efc, k, batch } and returns:
//   version, runtime ('wasm' | 'node-addon'), notes (how it was configured and what it cannot do),
//   efMode: 'query' (ef per search), 'set' (setEf on the built index), 'reload' (ef fixed when the
//           index object is created: build once, then reload per ef), 'rebuild' (ef fixed at
//           construction and no way to reload: one build per ef), 'none' (no ef at all),
//   build(rows) -> { batch, api }: inserts base rows 0..n-1 with ids = row index (timed by the caller),
//   prepareEf(ef): switches to ef (not timed), search(q, out) -> number of results written to out
//   (base indices), sync or async (asyncSearch tells), memory() -> { engineBytes, engineBytesWhat,
//   wasmMemoryBytes }, extra() -> fields for the build row, close().
// Inputs are converted to the form each API takes (number[] for hnswlib-node, resource objects for
// voy) before the clock starts; conversions an API does internally are part of its time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tagClass } from './data.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Version of an installed benchmark dependency (bench/js/node_modules). */
export function packageVersion(pkg) {
  return JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

const rowOf = (a, dim, i) => a.subarray(i * dim, (i + 1) * dim);

// ---- Valori, this repository's wasm build through the public package API
async function valoriWasm({ ds, M, efc, k, batch, traversal = 'none' }) {
  const { Valori } = await import(pathToFileURL(path.join(HERE, '../../js/src/index.js')).href);
  const C = await Valori.constants();
  const { dim } = ds;
  // traversal 'int8': the compact traversal copy over the base data's [min, max], as valori_bench
  // --traversal int8 takes it (so both builds record the same traversal word)
  let range = null;
  if (traversal === 'int8') {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < ds.base.length; i++) { const v = ds.base[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
    range = [lo, hi];
  }
  const db = await Valori.open({ path: ':memory:', dim, metric: ds.metric, hnsw: { m: M, efConstruction: efc },
    ...(range ? { traversal: { int8: range } } : {}) });
  const trav = (await db.stats()).traversal;
  let first = 0n, ef = 0;
  const effBatch = Math.min(batch, C.limits.MAX_BATCH);
  const batchTags = []; // valori_bench's tags, one array per batch, made before the clock starts
  for (let i = 0; i < ds.n; i += effBatch)
    batchTags.push(Array.from({ length: Math.min(effBatch, ds.n - i) }, (_, j) => tagClass(i + j)));
  // What a browser downloads: the wasm core, its Emscripten loader and the package's own JS.
  const gz = (b) => zlib.gzipSync(b, { level: 9 }).length;
  const file = (p) => fs.readFileSync(path.join(HERE, '../..', p));
  // Every module a browser can load: all of js/src but the Node-only backend and lock.
  const browserJs = fs.readdirSync(path.join(HERE, '../../js/src'))
    .filter((f) => f.endsWith('.js') && f !== 'backend-node.js' && f !== 'node-lock.js').sort();
  const pkgJs = Buffer.concat(browserJs.map((f) => file(`js/src/${f}`)));
  const wasmBin = file('build-wasm/valori.wasm'), mjs = file('build-wasm/valori.mjs');
  return {
    version: C.version,
    runtime: 'wasm',
    meta: { wasm_bytes: wasmBin.length, wasm_gz_bytes: gz(wasmBin), mjs_bytes: mjs.length, mjs_gz_bytes: gz(mjs),
      package_js_bytes: pkgJs.length, package_js_gz_bytes: gz(pkgJs),
      ...(trav ? { traversal_range: range, traversal_word: trav.word, traversal_shift: trav.shift, traversal_center: trav.center } : {}) },
    efMode: 'query',
    asyncSearch: true,
    notes: `in-memory database (':memory:')${trav ? `, traversal: { int8: [${range}] } (the int8 compact traversal copy)` : ''}; insertBatch of ${effBatch} rows (one atomic event each) with ` +
      `valori_bench's tags; search(q, {k, ef, mode: 'hnsw'}), one awaited promise per query; after the timed ` +
      `runs at each ef, an untimed pass checks what valori_bench checks in its loop ((distance, id) order, ` +
      `id range) and that the answers equal the timed run's`,
    async build() {
      for (let i = 0; i < ds.n; i += effBatch) {
        const nb = Math.min(effBatch, ds.n - i);
        const ids = await db.insertBatch(ds.base.subarray(i * dim, (i + nb) * dim), { tags: batchTags[i / effBatch] });
        if (i === 0) first = ids[0];
        if (ids.length !== nb || ids[0] !== first + BigInt(i) || ids[nb - 1] !== first + BigInt(i + nb - 1))
          throw new Error('Valori: record ids are not consecutive');
      }
      return { batch: effBatch, api: 'insertBatch' };
    },
    prepareEf(e) { ef = e; },
    async search(q, out) {
      const hits = await db.search(q, { k, ef, mode: 'hnsw' });
      for (let j = 0; j < hits.length && j < k; j++) out[j] = Number(hits[j].id - first);
      return hits.length;
    },
    /** The API contract the numbers rely on, checked outside the timed loop on the same queries. */
    async verify(qs, outs, nres) {
      const n = BigInt(ds.n);
      for (let q = 0; q < qs.length; q++) {
        const hits = await db.search(qs[q], { k, ef, mode: 'hnsw' });
        if (hits.length > k) throw new Error('Valori: more than k hits');
        if (hits.length !== nres[q]) throw new Error(`Valori: query ${q} answered differently in the check pass`);
        for (let j = 0; j < hits.length; j++) {
          const h = hits[j], idx = h.id - first;
          if (idx < 0n || idx >= n) throw new Error('Valori: hit id outside the inserted range');
          if (j > 0 && (h.distanceRaw < hits[j - 1].distanceRaw ||
              (h.distanceRaw === hits[j - 1].distanceRaw && h.id <= hits[j - 1].id)))
            throw new Error('Valori: hits not ordered by (distance, id)');
          if (Number(idx) !== outs[q][j]) throw new Error(`Valori: query ${q} answered differently in the check pass`);
        }
      }
    },
    async memory() {
      const st = await db.stats();
      if (st.records !== ds.n) throw new Error(`Valori: stats.records ${st.records} != ${ds.n}`);
      return { engineBytes: st.vectorBytes + st.indexBytes + st.otherBytes,
        engineBytesWhat: 'stats(): vectorBytes + indexBytes + otherBytes', wasmMemoryBytes: await Valori.memoryBytes() };
    },
    async extra() {
      return { state_root: await db.stateRoot(), index_digest: await db.indexDigest() };
    },
    async close() { await db.close(); },
  };
}

// ---- hnswlib-wasm: hnswlib 0.7 compiled with Emscripten, published for browsers
async function hnswlibWasm({ ds, M, efc, k, batch }) {
  // The package's Emscripten build is web-only ("not compiled for this environment" in Node); with
  // a `window` global it takes its web path, which works in Node because the .wasm is inlined.
  globalThis.window ??= globalThis;
  const { loadHnswlib } = await import('hnswlib-wasm/dist/hnswlib.js');
  // It then mounts IDBFS and syncs it; without IndexedDB that sync fails (a logged error; nothing
  // here is persisted), and loadHnswlib gives up after waiting 4 s. The second call returns the
  // already loaded module.
  // The failed sync prints an Emscripten abort message; it is expected, so it is held back here and
  // summed up in one calm line (the full text with VALORI_BENCH_VERBOSE=1).
  const held = [];
  const keep = { error: console.error, warn: console.warn, log: console.log };
  console.error = console.warn = console.log = (...a) => held.push(a.map(String).join(' '));
  let lib;
  try {
    try { lib = await loadHnswlib(); } catch { lib = await loadHnswlib(); }
  } finally {
    Object.assign(console, keep);
  }
  if (held.length) {
    process.stderr.write('[js-bench] hnswlib-wasm: its IDBFS mount cannot sync in Node (expected; nothing of it is persisted)\n');
    if (process.env.VALORI_BENCH_VERBOSE === '1') process.stderr.write(held.join('\n') + '\n');
  }
  const { dim } = ds;
  const ix = new lib.HierarchicalNSW(ds.metric === 'ip' ? 'ip' : 'l2', dim, '');
  ix.initIndex(ds.n, M, efc, 100);
  return {
    version: packageVersion('hnswlib-wasm'),
    runtime: 'wasm',
    efMode: 'set',
    notes: `HierarchicalNSW('${ds.metric}', dim, ''), initIndex(n, M, efc, seed 100) as hnswlib_bench; ` +
      `addPoints in batches of ${batch} (Float32Array rows); setEfSearch; searchKnn. Loaded in Node through ` +
      `a window shim (the published build is web-only; its IDBFS mount cannot sync without IndexedDB, ` +
      `which the benchmark does not need); the published build keeps Emscripten assertions on`,
    async build() {
      for (let i = 0; i < ds.n; i += batch) {
        const m = Math.min(ds.n, i + batch), items = [], labels = [];
        for (let j = i; j < m; j++) { items.push(rowOf(ds.base, dim, j)); labels.push(j); }
        ix.addPoints(items, labels, false);
      }
      if (ix.getCurrentCount() !== ds.n) throw new Error(`hnswlib-wasm holds ${ix.getCurrentCount()} points`);
      return { batch, api: 'addPoints' };
    },
    prepareEf(e) { ix.setEfSearch(e); },
    search(q, out) {
      const r = ix.searchKnn(q, k, undefined).neighbors;
      for (let j = 0; j < r.length; j++) out[j] = r[j];
      return r.length;
    },
    memory() { return { engineBytes: null, wasmMemoryBytes: lib.HEAP8.length }; },
    close() { ix.delete?.(); },
  };
}

// ---- edgevec: Rust HNSW compiled to wasm (wasm-bindgen)
async function edgevec({ ds, M, efc, k, batch }) {
  const ev = await import('edgevec');
  // The wasm-bindgen "web" target fetches edgevec_bg.wasm by URL, which Node's fetch cannot do for
  // files: hand it the bytes instead (the package's own initSync).
  ev.initSync({ module: fs.readFileSync(path.join(path.dirname(require.resolve('edgevec')), 'edgevec_bg.wasm')) });
  const { dim } = ds;
  const metric = ds.metric === 'ip' ? 'dot' : 'l2';
  let db = null, efSearch = 0, ids = null;
  const inv = new Int32Array(ds.n + 2); // edgevec id -> base index (ids start at 1)
  const make = (ef) => {
    const cfg = new ev.EdgeVecConfig(dim);
    cfg.metric = metric;
    cfg.m = M;
    cfg.m0 = 2 * M;
    cfg.ef_construction = efc;
    cfg.ef_search = ef;
    return new ev.EdgeVec(cfg);
  };
  return {
    version: packageVersion('edgevec'),
    runtime: 'wasm',
    efMode: 'rebuild',
    notes: `EdgeVecConfig: metric '${metric}', m=${M}, m0=${2 * M}, ef_construction=${efc}; insertBatchFlat in ` +
      `batches of ${batch}; search(q, k). ef_search can only be set in the config before the index is ` +
      `built (searchFiltered's efSearch option did not change unfiltered results), so the index is ` +
      `built once per ef point`,
    async build(ef) {
      db?.free();
      db = make(ef);
      efSearch = ef;
      inv.fill(-1);
      for (let i = 0; i < ds.n; i += batch) {
        const m = Math.min(ds.n, i + batch);
        ids = db.insertBatchFlat(ds.base.subarray(i * dim, m * dim), m - i);
        if (ids.length !== m - i) throw new Error(`edgevec inserted ${ids.length} of ${m - i}`);
        for (let j = 0; j < ids.length; j++) {
          if (ids[j] >= inv.length) throw new Error(`edgevec id ${ids[j]} out of the expected range`);
          inv[ids[j]] = i + j;
        }
      }
      return { batch, api: 'insertBatchFlat' };
    },
    prepareEf(e) { if (e !== efSearch) throw new Error('edgevec: ef changes need a rebuild'); },
    search(q, out) {
      const r = db.search(q, k);
      for (let j = 0; j < r.length; j++) out[j] = inv[r[j].id];
      return r.length;
    },
    memory() { return { engineBytes: db.memoryUsage(), engineBytesWhat: 'memoryUsage()', wasmMemoryBytes: null }; },
    close() { db?.free(); db = null; },
  };
}

// ---- voy-search: Rust kd-tree (kiddo) compiled to wasm (wasm-bindgen, bundler target)
async function voy({ ds, k }) {
  // 'voy_search.js' imports the .wasm as an ES module (bundler target), which Node does not do:
  // instantiate voy_search_bg.wasm here with the package's own glue (voy_search_bg.js).
  const dir = path.dirname(require.resolve('voy-search/package.json'));
  const glue = await import(pathToFileURL(path.join(dir, 'voy_search_bg.js')).href);
  const mod = new WebAssembly.Module(fs.readFileSync(path.join(dir, 'voy_search_bg.wasm')));
  const inst = new WebAssembly.Instance(mod, { './voy_search_bg.js': glue });
  glue.__wbg_set_wasm(inst.exports);
  const { dim } = ds;
  // The resource, in the form the API takes, made before the clock starts.
  const embeddings = new Array(ds.n);
  for (let i = 0; i < ds.n; i++) embeddings[i] = { id: String(i), title: '', url: '', embeddings: Array.from(rowOf(ds.base, dim, i)) };
  let index = null;
  return {
    version: packageVersion('voy-search'),
    runtime: 'wasm',
    efMode: 'none',
    notes: 'kd-tree (kiddo 2.1), exact nearest neighbours, squared L2 only; no M, ef_construction or ef; ' +
      'the whole base is passed to the constructor as one resource (objects with number[] embeddings, ' +
      'string ids), which it indexes in one go',
    build() {
      if (ds.metric !== 'l2') throw new Error('voy supports only L2');
      index = new glue.Voy({ embeddings });
      if (index.size() !== ds.n) throw new Error(`voy holds ${index.size()} of ${ds.n}`);
      return { batch: ds.n, api: 'new Voy(resource)' };
    },
    prepareEf() {},
    search(q, out) {
      const r = index.search(q, k).neighbors;
      for (let j = 0; j < r.length; j++) out[j] = Number(r[j].id);
      return r.length;
    },
    memory() { return { engineBytes: null, wasmMemoryBytes: inst.exports.memory.buffer.byteLength }; },
    close() { index?.free(); index = null; },
  };
}

// ---- hnswlib-node: hnswlib 0.8 as a native Node addon (compiled by node-gyp at install)
async function hnswlibNode({ ds, M, efc, k }) {
  const { HierarchicalNSW } = require('hnswlib-node');
  const { dim } = ds;
  const ix = new HierarchicalNSW(ds.metric === 'ip' ? 'ip' : 'l2', dim);
  ix.initIndex(ds.n, M, efc, 100);
  // The API takes number[] only: convert before the clock starts (rows and queries).
  const rows = new Array(ds.n);
  for (let i = 0; i < ds.n; i++) rows[i] = Array.from(rowOf(ds.base, dim, i));
  const qs = new Map();
  return {
    version: packageVersion('hnswlib-node'),
    runtime: 'node-addon',
    efMode: 'set',
    notes: `initIndex(n, M, efc, seed 100) as hnswlib_bench; addPoint one row at a time (the API has no batch ` +
      `insert); setEf; searchKnn. The API takes number[]: rows and queries are converted before timing`,
    prepareQueries() { for (let q = 0; q < ds.nq; q++) qs.set(q, Array.from(rowOf(ds.queries, dim, q))); },
    build() {
      for (let i = 0; i < ds.n; i++) ix.addPoint(rows[i], i);
      rows.length = 0;
      if (ix.getCurrentCount() !== ds.n) throw new Error(`hnswlib-node holds ${ix.getCurrentCount()} points`);
      return { batch: 1, api: 'addPoint' };
    },
    prepareEf(e) { ix.setEf(e); },
    searchByIndex: true, // search(qi, out): the query as converted beforehand
    search(qi, out) {
      const r = ix.searchKnn(qs.get(qi), k).neighbors;
      for (let j = 0; j < r.length; j++) out[j] = r[j];
      return r.length;
    },
    memory() { return { engineBytes: null, wasmMemoryBytes: null }; },
    close() {},
  };
}

// ---- usearch: native addon (prebuilt binary shipped in the package)
async function usearch({ ds, M, efc, k, batch }) {
  const us = await import('usearch');
  const { dim } = ds;
  const metric = ds.metric === 'ip' ? 'ip' : 'l2sq';
  const make = (ef) => new us.Index({ dimensions: dim, metric, quantization: 'f32', connectivity: M,
    expansion_add: efc, expansion_search: ef, multi: false });
  let ix = make(64);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'valori-bench-usearch-')), 'index.usearch');
  let saved = false;
  return {
    version: packageVersion('usearch'),
    runtime: 'node-addon',
    efMode: 'reload',
    notes: `Index({metric: '${metric}', quantization: 'f32', connectivity: ${M}, expansion_add: ${efc}}); add in ` +
      `batches of ${batch} with threads=1; search(q, k, threads=1). expansion_search (ef) is fixed when an ` +
      `Index object is created, so the built index is saved once and loaded into a new Index per ef ` +
      `(not timed)`,
    build() {
      for (let i = 0; i < ds.n; i += batch) {
        const m = Math.min(ds.n, i + batch);
        const keys = new BigUint64Array(m - i);
        for (let j = i; j < m; j++) keys[j - i] = BigInt(j);
        ix.add(keys, ds.base.subarray(i * dim, m * dim), 1);
      }
      if (ix.size() !== ds.n) throw new Error(`usearch holds ${ix.size()} of ${ds.n}`);
      return { batch, api: 'add' };
    },
    prepareEf(e) {
      if (!saved) { ix.save(file); saved = true; }
      ix = make(e);
      ix.load(file);
      if (ix.size() !== ds.n) throw new Error(`usearch reload holds ${ix.size()} of ${ds.n}`);
    },
    search(q, out) {
      const r = ix.search(q, k, 1);
      const c = Math.min(r.keys.length, k);
      for (let j = 0; j < c; j++) out[j] = Number(r.keys[j]);
      return c;
    },
    memory() { return { engineBytes: null, wasmMemoryBytes: null }; },
    close() { fs.rmSync(path.dirname(file), { recursive: true, force: true }); },
  };
}

/** name -> { open, pkg (npm package, null for Valori), runtime } in report order. */
export const ENGINES = {
  'valori-wasm': { open: valoriWasm, pkg: null, runtime: 'wasm' },
  'hnswlib-wasm': { open: hnswlibWasm, pkg: 'hnswlib-wasm', runtime: 'wasm' },
  edgevec: { open: edgevec, pkg: 'edgevec', runtime: 'wasm' },
  voy: { open: voy, pkg: 'voy-search', runtime: 'wasm' },
  'hnswlib-node': { open: hnswlibNode, pkg: 'hnswlib-node', runtime: 'node-addon' },
  usearch: { open: usearch, pkg: 'usearch', runtime: 'node-addon' },
};
