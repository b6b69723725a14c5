// data.mjs: the benchmark data as bench_prepare --export wrote it (bench_dataset_export in
// bench/data.h), and the pieces of bench/data.c and bench/common.c the JS driver must reproduce
// exactly: the exact distance (bench_dist's fixed summation order, in doubles), tie-aware recall
// (bench_recall) and the filter tag of a record (bench_tag_class), so that recall and the stored
// state agree with the C drivers to the last bit.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const MAGIC = 'VBENCHX1';
const HEADER = 64;

// CRC-32 (zlib's polynomial), continuing from crc; a table-driven fallback for Node versions
// without zlib.crc32 (added in 20.15).
let table = null;
function crc32(buf, crc) {
  if (typeof zlib.crc32 === 'function') {
    let c = crc;
    for (let off = 0; off < buf.length; off += 1 << 30) c = zlib.crc32(buf.subarray(off, off + (1 << 30)), c);
    return c >>> 0;
  }
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < buf.length; i++) c = table[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Reads an export (its JSON sidecar path). Checks the magic, version, shape, size and CRC-32 of
 * everything. Returns { name, metric, n, nq, dim, gtK, base, queries, gtIds, gtDist } with
 * Float32Array / Uint32Array / Float64Array; with nq given, only the first nq queries are kept.
 * The file is read straight into those arrays (no whole-file buffer that would be freed later and
 * blur the resident-memory figures of the engines).
 */
export function loadExport(sidecar, { nq } = {}) {
  const meta = JSON.parse(fs.readFileSync(sidecar, 'utf8'));
  if (meta.format !== 'valori-bench-export' || meta.magic !== MAGIC || meta.version !== 1)
    throw new Error(`${sidecar}: not a version 1 valori-bench-export sidecar`);
  const file = path.join(path.dirname(sidecar), meta.file);
  const bad = (what) => { throw new Error(`${file}: ${what} (rerun bench_prepare --export)`); };
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size !== meta.bytes) bad(`size ${size}, sidecar says ${meta.bytes}`);
    const hb = Buffer.alloc(HEADER);
    if (fs.readSync(fd, hb, 0, HEADER, 0) !== HEADER || hb.toString('latin1', 0, 8) !== MAGIC) bad('bad magic');
    const u64 = (off) => Number(hb.readBigUInt64LE(off));
    const h = { version: hb.readUInt32LE(8), metric: hb.readUInt32LE(12), n: u64(16), nq: u64(24), dim: u64(32),
      gtK: u64(40), crc: hb.readUInt32LE(48), payload: u64(56) };
    if (h.version !== 1 || h.n !== meta.n || h.nq !== meta.nq || h.dim !== meta.dim || h.gtK !== meta.gt_k ||
        h.crc !== meta.crc32 || HEADER + h.payload !== size || (h.metric === 1 ? 'ip' : 'l2') !== meta.metric)
      bad('header does not match its sidecar');
    const { n, dim, gtK } = h;
    const o = meta.offsets;
    if (o.base !== HEADER || o.queries !== HEADER + n * dim * 4 || o.gt_ids !== o.queries + h.nq * dim * 4 ||
        o.gt_dist !== o.gt_ids + h.nq * gtK * 4 || o.gt_dist + h.nq * gtK * 8 !== size)
      bad('offsets do not match the shape');
    const t0 = performance.now();
    let crc = 0;
    const read = (arr, pos) => { // fills arr from pos and chains the CRC over all of it
      const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
      for (let off = 0; off < bytes.length;) {
        const got = fs.readSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 28), pos + off);
        if (got <= 0) bad('short read');
        off += got;
      }
      crc = crc32(bytes, crc);
      return arr;
    };
    const base = read(new Float32Array(n * dim), o.base);
    const queries = read(new Float32Array(h.nq * dim), o.queries);
    const gtIds = read(new Uint32Array(h.nq * gtK), o.gt_ids);
    const gtDist = read(new Float64Array(h.nq * gtK), o.gt_dist);
    if (crc !== h.crc) bad(`CRC-32 ${crc} != ${h.crc}`);
    const take = nq ? Math.min(nq, h.nq) : h.nq;
    return { name: meta.dataset, metric: meta.metric, n, nq: take, dim, gtK, file, base,
      queries: queries.subarray(0, take * dim), gtIds: gtIds.subarray(0, take * gtK),
      gtDist: gtDist.subarray(0, take * gtK), checkMs: performance.now() - t0 };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * bench_dist of bench/data.c: eight interleaved partial sums in double, combined as
 * ((s0+s4)+(s1+s5))+((s2+s6)+(s3+s7)). JavaScript numbers are doubles and never fused, so this
 * gives bit for bit the C result. a and b are Float32Arrays; ai/bi are row offsets.
 */
export function dist(a, ai, b, bi, dim, metric) {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, j = 0;
  if (metric === 'l2') {
    for (; j + 8 <= dim; j += 8) {
      let d;
      d = a[ai + j] - b[bi + j]; s0 += d * d;
      d = a[ai + j + 1] - b[bi + j + 1]; s1 += d * d;
      d = a[ai + j + 2] - b[bi + j + 2]; s2 += d * d;
      d = a[ai + j + 3] - b[bi + j + 3]; s3 += d * d;
      d = a[ai + j + 4] - b[bi + j + 4]; s4 += d * d;
      d = a[ai + j + 5] - b[bi + j + 5]; s5 += d * d;
      d = a[ai + j + 6] - b[bi + j + 6]; s6 += d * d;
      d = a[ai + j + 7] - b[bi + j + 7]; s7 += d * d;
    }
    for (; j < dim; j++) { const d = a[ai + j] - b[bi + j]; s0 += d * d; }
    return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7));
  }
  for (; j + 8 <= dim; j += 8) {
    s0 += a[ai + j] * b[bi + j]; s1 += a[ai + j + 1] * b[bi + j + 1];
    s2 += a[ai + j + 2] * b[bi + j + 2]; s3 += a[ai + j + 3] * b[bi + j + 3];
    s4 += a[ai + j + 4] * b[bi + j + 4]; s5 += a[ai + j + 5] * b[bi + j + 5];
    s6 += a[ai + j + 6] * b[bi + j + 6]; s7 += a[ai + j + 7] * b[bi + j + 7];
  }
  for (; j < dim; j++) s0 += a[ai + j] * b[bi + j];
  return -(((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7)));
}

/**
 * bench_recall of bench/data.c for query qi: a returned base index counts when its exact distance
 * is <= the k-th true distance (ties are not penalised); duplicates count once; denominator
 * min(k, gtK). ids: array-like of base indices (the first k are used).
 */
export function recall(ds, qi, k, ids, nres) {
  const kk = Math.min(k, ds.gtK);
  if (kk === 0) return 1;
  const thr = ds.gtDist[qi * ds.gtK + kk - 1];
  let hit = 0;
  for (let j = 0; j < nres && j < k; j++) {
    let dup = false;
    for (let m = 0; m < j; m++) if (ids[m] === ids[j]) dup = true;
    const id = ids[j];
    if (!dup && id >= 0 && id < ds.n && dist(ds.queries, qi * ds.dim, ds.base, id * ds.dim, ds.dim, ds.metric) <= thr) hit++;
  }
  return Math.min(hit, kk) / kk;
}

/** Checks that dist() reproduces the exported ground-truth distances exactly (a few queries). */
export function checkDist(ds) {
  for (const qi of [0, ds.nq >> 1, ds.nq - 1]) {
    for (let j = 0; j < Math.min(ds.gtK, 10); j++) {
      const id = ds.gtIds[qi * ds.gtK + j];
      const d = dist(ds.queries, qi * ds.dim, ds.base, id * ds.dim, ds.dim, ds.metric);
      if (d !== ds.gtDist[qi * ds.gtK + j])
        throw new Error(`dist() disagrees with the ground truth: query ${qi} #${id}: ${d} != ${ds.gtDist[qi * ds.gtK + j]}`);
    }
  }
}

// ---- filter tags (bench/common.c): the tag valori_bench stores with each record
const M64 = (1n << 64n) - 1n;
const TAG_SALT = 0x7461677361676c74n;
function hash64(x) { // bench_hash64: splitmix64 finalizer of x + golden gamma
  let z = (x + 0x9e3779b97f4a7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}
/** bench_tag_class(i): how many of the moduli 2, 10, 100, 1000 divide hash64(i ^ salt). */
export function tagClass(i) {
  const h = hash64(BigInt(i) ^ TAG_SALT);
  let c = 0;
  for (const m of [2n, 10n, 100n, 1000n]) if (h % m === 0n) c++;
  return c;
}
