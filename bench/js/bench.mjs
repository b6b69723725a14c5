#!/usr/bin/env node
// bench.mjs: Valori's WebAssembly build in Node against the JavaScript/WebAssembly vector-search
// peers (engines.mjs), on the exact data, queries and ground truth of the C drivers (an export
// written by `bench_prepare --export`, see bench/data.h), measured the way valori_bench measures:
//   build    all base rows inserted (batches where the API has them), vectors/s, memory
//   search   k nearest over an ef list: queries/s (median of --runs passes over the same queries,
//            one thread, after an untimed warm-up pass of up to 1000 queries) and tie-aware
//            recall@k computed exactly as bench_recall in bench/data.c
// Every engine runs in its own child process (a crash, a hang or a failed install of one peer
// cannot take the others down, and memory figures are per engine); a peer that cannot be loaded or
// fails is reported as a "js-error" line and as one line on stderr (what failed, at which stage,
// and the engine's last message: voy-search, for one, panics on data with many equal
// coordinates); what engines print themselves (a panic message and its stack) is kept for that
// line and not echoed, unless VALORI_BENCH_VERBOSE=1. Valori failing makes the exit status nonzero.
// With --native-check BIN, the native build of the same Valori core (bench/js/valori_native_check.c)
// then builds the same store from the same export and must give the same state root, index digest
// and search results as the wasm build; any difference makes the exit status nonzero.
//
// Output: JSON lines on stdout in the protocol of bench/common.h (engine, kind, mode, dataset,
// metric, n, nq, dim, M, efc, ...), plus "runtime": "wasm" | "node-addon"; kinds js-meta,
// js-build, js-search, js-error, js-identity (fields: bench/report.py). Progress on stderr.
//
// Usage: node bench/js/bench.mjs --data bench/data/export-<dataset>-n<n>-q<nq>.json [options]
//   --dataset NAME      optional: the export must hold this dataset
//   --mode LABEL        label copied into every line (custom)
//   --nq N              use the first N queries of the export (0 = all)
//   --ef LIST           ef values (10,20,40,80,160,320); --k K (10); --M M (16); --efc EFC (200)
//   --runs R            timed passes over the queries per ef, median reported (3)
//   --batch B           rows per insert call where the API has batches (1000, as valori_bench)
//   --engines LIST      subset of valori-wasm,hnswlib-wasm,edgevec,voy,hnswlib-node,usearch (all)
//   --data-for E=FILE   engine E uses another (smaller) export, for a peer that cannot finish
//                       the full set in reasonable time (repeatable)
//   --rebuild-ef LIST   ef values for engines whose ef is fixed at construction (edgevec): one
//                       build per value (default: the --ef list)
//   --timeout S         seconds per engine before its process is killed and reported (1800)
//   --traversal T       none | int8: Valori's store keeps the int8 compact traversal copy over the
//                       base data's [min, max] (valori_traversal_int8, as valori_bench --traversal
//                       int8; OpenOptions.traversal); every valori-wasm line then says
//                       "traversal":"int8" (default rows carry no such field). valori-wasm only.
//   --native-check BIN  path of valori_native_check; --check-nq N queries compared (1000)
//   --install-log FILE  npm ci output, quoted in the error lines of peers that fail to load
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadExport, recall, checkDist } from './data.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ALL = ['valori-wasm', 'hnswlib-wasm', 'edgevec', 'voy', 'hnswlib-node', 'usearch'];
const RUNTIME = { 'valori-wasm': 'wasm', 'hnswlib-wasm': 'wasm', edgevec: 'wasm', voy: 'wasm',
  'hnswlib-node': 'node-addon', usearch: 'node-addon' };
const PKG = { 'hnswlib-wasm': 'hnswlib-wasm', edgevec: 'edgevec', voy: 'voy-search', 'hnswlib-node': 'hnswlib-node', usearch: 'usearch' };

const log = (...a) => process.stderr.write(`[js-bench] ${a.join(' ')}\n`);

function parseArgs(argv) {
  const o = { data: null, dataset: null, mode: 'custom', nq: 0, efs: [10, 20, 40, 80, 160, 320], k: 10, M: 16, efc: 200, runs: 3,
    batch: 1000, engines: ALL, dataFor: {}, rebuildEf: null, timeout: 1800, nativeCheck: null, checkNq: 1000,
    installLog: null, child: null, idsOut: null, traversal: 'none' };
  const list = (v) => v.split(',').map((x) => { const n = Number(x); if (!Number.isInteger(n) || n < 1) throw new Error(`bad number ${x}`); return n; });
  const int = (v) => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new Error(`bad number ${v}`); return n; };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '-h' || a === '--help') {
      process.stderr.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
      process.exit(0);
    }
    if (v === undefined) throw new Error(`${a} needs a value`);
    i++;
    switch (a) {
      case '--data': o.data = v; break;
      case '--dataset': o.dataset = v; break;
      case '--mode': o.mode = v; break;
      case '--nq': o.nq = int(v); break;
      case '--ef': o.efs = list(v); break;
      case '--k': o.k = int(v); break;
      case '--M': o.M = int(v); break;
      case '--efc': o.efc = int(v); break;
      case '--runs': o.runs = Math.max(1, int(v)); break;
      case '--batch': o.batch = Math.max(1, int(v)); break;
      case '--engines': o.engines = v.split(','); break;
      case '--data-for': { const [e, f] = v.split('='); o.dataFor[e] = f; break; }
      case '--rebuild-ef': o.rebuildEf = list(v); break;
      case '--timeout': o.timeout = int(v); break;
      case '--native-check': o.nativeCheck = v; break;
      case '--check-nq': o.checkNq = int(v); break;
      case '--install-log': o.installLog = v; break;
      case '--child': o.child = v; break;
      case '--ids-out': o.idsOut = v; break;
      case '--traversal':
        if (v !== 'none' && v !== 'int8') throw new Error(`--traversal none|int8, not ${v}`);
        o.traversal = v;
        break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  for (const e of o.engines) if (!ALL.includes(e)) throw new Error(`unknown engine ${e} (${ALL.join(', ')})`);
  if (!o.child && o.traversal !== 'none' && o.engines.some((e) => e !== 'valori-wasm')) {
    throw new Error('--traversal applies to Valori only: add --engines valori-wasm');
  }
  if (!o.data) throw new Error('--data EXPORT.json is required (bench_prepare --export writes it)');
  return o;
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

/** The common opening fields of every line (bench_json_head) plus runtime. */
function head(o, ds, engine, kind) {
  return { engine, kind, mode: o.mode, dataset: ds.name, metric: ds.metric, n: ds.n, nq: ds.nq, dim: ds.dim,
    M: o.M, efc: o.efc, runtime: RUNTIME[engine],
    ...(o.traversal !== 'none' && engine === 'valori-wasm' ? { traversal: o.traversal } : {}) };
}
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// ---------------------------------------------------------------- child: one engine
async function child(o) {
  const name = o.child;
  // stdout carries only the JSON lines: whatever an engine prints (Emscripten's console.log, a Rust
  // panic message and stack through console.error) is kept, the last of it for js-error, and goes
  // to stderr only with VALORI_BENCH_VERBOSE=1 (the parent says in one line why a peer failed).
  let said = '';
  const verbose = process.env.VALORI_BENCH_VERBOSE === '1';
  const say = (...a) => { const t = a.map(String).join(' '); said = (said + t + '\n').slice(-2000); if (verbose) process.stderr.write(t + '\n'); };
  console.log = console.info = console.debug = console.warn = console.error = say;
  const { ENGINES } = await import('./engines.mjs');
  const ds = loadExport(o.dataFor[name] || o.data, { nq: o.nq });
  checkDist(ds); // our distance reproduces the C ground truth bit for bit, or we stop here
  log(`${name}: ${ds.name} ${ds.n} x ${ds.dim}, ${ds.nq} queries (export checked in ${ds.checkMs.toFixed(0)} ms)`);
  let stage = 'load';
  try {
    const eng = await ENGINES[name].open({ ds, M: o.M, efc: o.efc, k: o.k, batch: o.batch, traversal: o.traversal });
    emit({ ...head(o, ds, name, 'js-meta'), version: eng.version, package: PKG[name] || 'valori (js/, build-wasm/)',
      node: process.version, v8: process.versions.v8, platform: `${os.platform()}-${os.arch()}`, threads: 1,
      ef_mode: eng.efMode, notes: eng.notes, ...(eng.meta || {}) });
    const { k } = o;
    const qv = Array.from({ length: ds.nq }, (_, q) => (eng.searchByIndex ? q : ds.queries.subarray(q * ds.dim, (q + 1) * ds.dim)));
    const ids = new Int32Array(ds.nq * k).fill(-1);
    const outs = Array.from({ length: ds.nq }, (_, q) => ids.subarray(q * k, (q + 1) * k));
    const nres = new Int32Array(ds.nq);
    eng.prepareQueries?.();
    const efs = eng.efMode === 'none' ? [null] : eng.efMode === 'rebuild' ? (o.rebuildEf || o.efs) : o.efs;
    const idsFile = o.idsOut ? fs.openSync(o.idsOut, 'w') : null;
    const build = async (ef) => {
      stage = 'build';
      global.gc?.();
      const rss0 = process.memoryUsage().rss, c0 = cpuNow(), t0 = performance.now();
      const info = await eng.build(ef);
      const s = (performance.now() - t0) / 1000, cpu = cpuNow() - c0;
      const rss = process.memoryUsage().rss - rss0;
      log(`${name}: built ${ds.n} in ${s.toFixed(2)} s (${(ds.n / s).toFixed(0)} vectors/s)${ef ? ` for ef ${ef}` : ''}`);
      return { s, cpu, rss, info };
    };
    let first = null, last = null;
    for (const ef of efs) {
      if (!first || eng.efMode === 'rebuild') {
        const b = last = await build(ef);
        if (!first) {
          first = b;
          const mem = await eng.memory();
          emit({ ...head(o, ds, name, 'js-build'), build_s: +b.s.toFixed(4), cpu_s: +b.cpu.toFixed(4),
            vectors_per_s: +(ds.n / b.s).toFixed(1), batch: b.info.batch, api: b.info.api,
            engine_bytes: mem.engineBytes, engine_bytes_what: mem.engineBytesWhat || null,
            bytes_per_vector: mem.engineBytes ? +(mem.engineBytes / ds.n).toFixed(1) : null,
            wasm_memory_bytes: mem.wasmMemoryBytes, rss_delta_bytes: b.rss, builds: eng.efMode === 'rebuild' ? efs.length : 1,
            ...(eng.extra ? await eng.extra() : {}) });
        }
      }
      stage = 'search';
      await eng.prepareEf(ef);
      if (ef === efs[0]) { // untimed warm-up: JIT and wasm tier-up happen here, not in the first timed run
        const m = Math.min(ds.nq, 1000);
        if (eng.asyncSearch) for (let q = 0; q < m; q++) await eng.search(qv[q], outs[q]);
        else for (let q = 0; q < m; q++) eng.search(qv[q], outs[q]);
      }
      const times = [], cpus = [];
      for (let r = 0; r < o.runs; r++) {
        const c0 = cpuNow(), t0 = performance.now();
        if (eng.asyncSearch) for (let q = 0; q < ds.nq; q++) nres[q] = await eng.search(qv[q], outs[q]);
        else for (let q = 0; q < ds.nq; q++) nres[q] = eng.search(qv[q], outs[q]);
        times.push((performance.now() - t0) / 1000);
        cpus.push(cpuNow() - c0);
      }
      if (eng.verify) await eng.verify(qv, outs, nres);
      let rs = 0, returned = 0;
      for (let q = 0; q < ds.nq; q++) { rs += recall(ds, q, k, outs[q], nres[q]); returned += nres[q]; }
      const med = median(times), rec = rs / ds.nq;
      log(`${name}: ef ${ef ?? '-'}: recall@${k} ${rec.toFixed(4)}, ${(ds.nq / med).toFixed(0)} QPS`);
      emit({ ...head(o, ds, name, 'js-search'), ef, ef_applies: ef !== null, k, qps: +(ds.nq / med).toFixed(1),
        recall: +rec.toFixed(5), avg_returned: +(returned / ds.nq).toFixed(3), runs: o.runs, median_s: +med.toFixed(4),
        cpu_s: +median(cpus).toFixed(4), ...(eng.efMode === 'rebuild' ? { rebuild_s: +last.s.toFixed(4) } : {}) });
      if (idsFile !== null) { // ids of the compared queries, -1 padded, for the native check
        const m = Math.min(o.checkNq, ds.nq);
        for (let q = 0; q < m; q++) for (let j = nres[q]; j < k; j++) outs[q][j] = -1;
        fs.writeSync(idsFile, new Uint8Array(ids.buffer, 0, m * k * 4));
      }
      ids.fill(-1);
    }
    if (idsFile !== null) fs.closeSync(idsFile);
    await eng.close();
  } catch (e) {
    emit({ ...head(o, ds, name, 'js-error'), stage, error: String(e?.stack || e).split('\n').slice(0, 6).join('\n'),
      engine_output: said.split('\n').filter((l) => !/^\s*at |^\s*(Stack:|Error)?\s*$/.test(l)).slice(-3).join('\n').slice(0, 600) || null });
    process.exitCode = 1;
  }
}

// ---------------------------------------------------------------- parent: every engine in turn
function runChild(o, name, args, dsHead) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--max-old-space-size=8192', '--expose-gc', fileURLToPath(import.meta.url), ...args, '--child', name],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    let tail = '', timedOut = false;
    p.stderr.on('data', (b) => { process.stderr.write(b); tail = (tail + b.toString()).slice(-3000); });
    const rl = readline.createInterface({ input: p.stdout });
    rl.on('line', (l) => {
      let r;
      try { r = JSON.parse(l); } catch { process.stderr.write(`[js-bench] ${name}: not JSON on stdout: ${l.slice(0, 200)}\n`); return; }
      lines.push(r);
      emit(r);
      if (r.kind === 'js-error') sayError(name, r);
    });
    const timer = setTimeout(() => { timedOut = true; p.kill('SIGKILL'); }, o.timeout * 1000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const failed = code !== 0 || timedOut;
      if (failed && !lines.some((r) => r.kind === 'js-error')) {
        const r = { ...dsHead(name), kind: 'js-error', stage: timedOut ? 'timeout' : 'crash',
          error: timedOut ? `killed after ${o.timeout} s` : `exit ${code ?? signal}: ${tail.trim().split('\n').slice(-6).join('\n')}` };
        lines.push(r);
        emit(r);
        sayError(name, r);
      }
      resolve({ failed, lines });
    });
  });
}

/** One line on stderr for a js-error: a peer that cannot be measured on this data is a result the
 * report lists, not an alarm; Valori failing is (the run fails), so it gets the whole error. */
function sayError(name, r) {
  const first = (t, n) => { const l = String(t || '').split('\n').map((x) => x.trim()).find((x) => x) || ''; return l.length > n ? `${l.slice(0, n)}...` : l; };
  if (name === 'valori-wasm') { log(`${name}: FAILED at ${r.stage}: ${r.error}`); return; }
  const said = first(r.engine_output, 160);
  log(`${name}: not measured, failed at ${r.stage} (${first(r.error, 120)}${said ? `; the engine said: ${said}` : ''}); reported as js-error`);
}

function childArgs(o) {
  const a = ['--data', o.data, '--mode', o.mode, '--nq', String(o.nq), '--ef', o.efs.join(','), '--k', String(o.k),
    '--M', String(o.M), '--efc', String(o.efc), '--runs', String(o.runs), '--batch', String(o.batch),
    '--check-nq', String(o.checkNq), '--traversal', o.traversal];
  for (const [e, f] of Object.entries(o.dataFor)) a.push('--data-for', `${e}=${f}`);
  if (o.rebuildEf) a.push('--rebuild-ef', o.rebuildEf.join(','));
  return a;
}

async function parent(o) {
  const meta = JSON.parse(fs.readFileSync(o.data, 'utf8'));
  if (o.dataset && o.dataset !== meta.dataset) throw new Error(`--dataset ${o.dataset}, but ${o.data} holds ${meta.dataset}`);
  const dsHead = (name) => {
    const f = o.dataFor[name] ? JSON.parse(fs.readFileSync(o.dataFor[name], 'utf8')) : meta;
    return head(o, { name: f.dataset, metric: f.metric, n: f.n, nq: o.nq ? Math.min(o.nq, f.nq) : f.nq, dim: f.dim }, name, '');
  };
  const installTail = o.installLog && fs.existsSync(o.installLog) ? fs.readFileSync(o.installLog, 'utf8').trim().split('\n').slice(-8).join('\n') : null;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-js-bench-'));
  let valoriFailed = false, identityFailed = false, wasmBuild = null;
  const idsWasm = path.join(tmp, 'ids-wasm.bin'), idsNative = path.join(tmp, 'ids-native.bin');
  try {
    for (const name of o.engines) {
      const t0 = Date.now();
      log(`${name}: starting (${RUNTIME[name]})`);
      const args = childArgs(o);
      if (name === 'valori-wasm' && o.nativeCheck) args.push('--ids-out', idsWasm);
      const r = await runChild(o, name, args, dsHead);
      if (!r.failed || name === 'valori-wasm') log(`${name}: ${r.failed ? 'FAILED' : 'done'} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      if (r.failed && installTail && name !== 'valori-wasm')
        emit({ ...dsHead(name), kind: 'js-error', stage: 'install', error: `npm ci in bench/js failed:\n${installTail}` });
      if (name === 'valori-wasm') {
        valoriFailed = r.failed;
        wasmBuild = r.lines.find((l) => l.kind === 'js-build');
      }
    }
    if (o.nativeCheck && wasmBuild && !valoriFailed) identityFailed = !nativeCheck(o, wasmBuild, idsWasm, idsNative);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (valoriFailed) log('Valori wasm FAILED: the run fails');
  if (identityFailed) log('Valori wasm and native DIFFER on the same data: the run fails');
  process.exitCode = valoriFailed || identityFailed ? 1 : 0;
}

/** Builds the same store natively and compares root, index digest and result ids. */
function nativeCheck(o, wb, idsWasm, idsNative) {
  const bin = (o.dataFor['valori-wasm'] || o.data).replace(/\.json$/, '.bin'); // the data the wasm run had
  const m = Math.min(o.checkNq, wb.nq);
  const args = ['--from', bin, '--nq', String(m), '--ef', o.efs.join(','), '--k', String(o.k), '--M', String(o.M),
    '--efc', String(o.efc), '--batch', String(wb.batch), '--ids-out', idsNative,
    ...(o.traversal !== 'none' ? ['--traversal', o.traversal] : [])];
  log(`native check: ${o.nativeCheck} ${args.join(' ')}`);
  const t0 = Date.now();
  const out = execFileSync(o.nativeCheck, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const nat = JSON.parse(out.trim().split('\n').pop());
  const a = new Int32Array(fs.readFileSync(idsWasm).buffer.slice(0)), b = new Int32Array(fs.readFileSync(idsNative).buffer.slice(0));
  const per = m * o.k, differing = {};
  let same = a.length === b.length && a.length === per * o.efs.length;
  for (let e = 0; e < o.efs.length && a.length === b.length; e++) {
    let d = 0;
    for (let q = 0; q < m; q++) {
      const off = e * per + q * o.k;
      for (let j = 0; j < o.k; j++) if (a[off + j] !== b[off + j]) { d++; break; }
    }
    differing[o.efs[e]] = d;
    if (d) same = false;
  }
  const ds = { name: wb.dataset, metric: wb.metric, n: wb.n, nq: wb.nq, dim: wb.dim };
  const r = { ...head(o, ds, 'valori-wasm', 'js-identity'), against: 'valori native (valori_native_check, same core, same export)',
    state_root_wasm: wb.state_root, state_root_native: nat.state_root, index_digest_wasm: wb.index_digest,
    index_digest_native: nat.index_digest, same_state_root: wb.state_root === nat.state_root,
    same_index_digest: wb.index_digest === nat.index_digest, queries_compared: m, efs: o.efs,
    differing_queries: differing, same_results: same, native_build_s: nat.build_s, check_s: (Date.now() - t0) / 1000 };
  r.identical = r.same_state_root && r.same_index_digest && r.same_results;
  emit(r);
  log(`native check: state root ${r.same_state_root ? 'same' : 'DIFFERENT'}, index digest ${r.same_index_digest ? 'same' : 'DIFFERENT'}, ` +
    `results of ${m} queries x ${o.efs.length} ef ${same ? 'identical' : 'DIFFERENT ' + JSON.stringify(differing)}`);
  return r.identical;
}

const o = parseArgs(process.argv.slice(2));
if (o.child) await child(o);
else await parent(o);
