// wasm-vs-native.mjs: insert and search throughput of the wasm build (Node) against the native build
// of the same core on the same data (Fashion-MNIST, 784 dims, pixel values as floats), single thread,
// in-memory database, HNSW M 16 / ef_construction 100, k 10, ef 64; inserts one at a time through the
// public API (JS: awaited promises), searches best of three passes. Also prints the bundle sizes.
// Usage (repository root): node js/bench/wasm-vs-native.mjs [n=5000] [nq=500]
// The native side is compiled here with the project's release flags (-O2, -std=c11, -ffp-contract=off).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { Valori } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const n = Number(process.argv[2] || 5000), nq = Number(process.argv[3] || 500), k = 10, ef = 64;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-bench-'));

function idx(file, count) { // idx3-ubyte: 16-byte header, then count*784 bytes
  const raw = zlib.gunzipSync(fs.readFileSync(file));
  const dim = raw.readUInt32BE(8) * raw.readUInt32BE(12);
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count * dim; i++) out[i] = raw[16 + i];
  return { dim, out };
}
const base = idx('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz', n);
const queries = idx('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz', nq);
const dim = base.dim;
const bin = path.join(tmp, 'data.bin');
fs.writeFileSync(bin, Buffer.concat([Buffer.from(base.out.buffer), Buffer.from(queries.out.buffer)]));

const exe = path.join(tmp, 'native_bench');
execFileSync('gcc', ['-std=c11', '-O2', '-ffp-contract=off', '-fno-fast-math', '-I', path.join(REPO, 'core'),
  ...fs.readdirSync(path.join(REPO, 'core')).filter((f) => f.endsWith('.c')).map((f) => path.join(REPO, 'core', f)),
  path.join(REPO, 'js/bench/native_bench.c'), '-o', exe]);
const native = JSON.parse(execFileSync(exe, [bin, n, nq, dim, k, ef], { encoding: 'utf8' }));

const db = await Valori.open({ dim, hnsw: { m: 16, efConstruction: 100 } });
const row = (a, i) => a.subarray(i * dim, (i + 1) * dim);
let t0 = performance.now();
for (let i = 0; i < n; i++) await db.insert(row(base.out, i), { tag: i % 10 });
let t1 = performance.now();
let checksum = 0n, best = Infinity;
for (let rep = 0; rep < 3; rep++) { // best of three passes, as natively
  checksum = 0n;
  const t = performance.now();
  for (let i = 0; i < nq; i++) checksum += (await db.search(row(queries.out, i), { k, ef }))[0].id;
  best = Math.min(best, performance.now() - t);
}
const wasm = { insert_per_s: n / ((t1 - t0) / 1000), search_per_s: nq / (best / 1000), checksum: Number(checksum), root: await db.stateRoot() };
await db.close();

const size = (f) => fs.statSync(path.join(REPO, 'build-wasm', f)).size;
const gz = (f) => zlib.gzipSync(fs.readFileSync(path.join(REPO, 'build-wasm', f)), { level: 9 }).length;
const jsFiles = ['index.js', 'module.js', 'errors.js', 'backend-idb.js'].map((f) => fs.readFileSync(path.join(REPO, 'js/src', f)));
const pkgJs = Buffer.concat(jsFiles);
console.log(JSON.stringify({
  data: `fashion-mnist ${n} x ${dim}, ${nq} queries, k ${k}, ef ${ef}, M 16, efC 100`,
  native, wasm,
  same_root: native.root === wasm.root, same_results: native.checksum === wasm.checksum,
  wasm_over_native: { insert: +(wasm.insert_per_s / native.insert_per_s).toFixed(3), search: +(wasm.search_per_s / native.search_per_s).toFixed(3) },
  bytes: { wasm: size('valori.wasm'), wasm_gz: gz('valori.wasm'), mjs: size('valori.mjs'), mjs_gz: gz('valori.mjs'),
    package_js_browser: pkgJs.length, package_js_browser_gz: zlib.gzipSync(pkgJs, { level: 9 }).length },
}, null, 1));
fs.rmSync(tmp, { recursive: true, force: true });
