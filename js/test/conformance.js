// conformance.js: the JS side of tests/conformance/bad_calls.json (the C side is
// tests/conformance/conformance.c). runCall() makes one call of the table through the package and
// describes its result in the runner's text encoding; with `mutate`, every buffer handed to the
// call is overwritten right after the call returns its promise (before the write queue or the
// read runs), which must not change what the call does.
import { Valori } from '../src/index.js';

const encoder = new TextEncoder();
const SPECIAL = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** A JSON float as the binary32 value both sides pass (C: (float)double; JS: Math.fround). */
const f32 = (x) => (typeof x == 'number' ? Math.fround(x) : SPECIAL[x]);
const u64 = (x) => BigInt(x);

function vectorOf(table, c) {
  return Float32Array.from(c.vector ?? new Array(table.dim).fill(0), f32);
}

function bytesOf(m) {
  if (m === undefined) return undefined;
  if (m === null) return null;
  if (typeof m == 'string') return encoder.encode(m);
  return new Uint8Array(m.zeros);
}

function listOf(v) {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.map(u64);
  return Array.from({ length: v.count }, (_, i) => BigInt(i + 1));
}

function rowsOf(table, rows) {
  if (Array.isArray(rows)) return rows;
  return Array.from({ length: rows.repeat }, () => rows.row);
}

const q16 = (x) => Math.round(x * 65536);
const describeHits = (hits) => `h=${hits.map((h) => `${h.id}:${h.distanceRaw}`).join(';')}`;
const describeReach = (r) => `n=${r.map((x) => `${x.node}:${x.via}:${x.depth}`).join(';')}`;

/** Overwrites every buffer and array a call was given (the caller reusing its memory). */
function scribble(bufs) {
  for (const b of bufs) {
    if (b instanceof Float32Array) b.fill(7.5);
    else if (b instanceof Uint8Array) b.fill(0xee);
    else if (Array.isArray(b)) {
      for (let i = 0; i < b.length; i++) b[i] = typeof b[i] == 'bigint' ? 4242n : b[i] instanceof Float32Array ? new Float32Array(b[i].length).fill(-3) : 'scribbled';
      b.push(typeof b[0] == 'bigint' ? 4343n : 'extra');
    }
  }
}

/**
 * Starts one call of the table on `db` (the database of the table's dim); returns a promise of its
 * result text ('' for writes without one). `bufs` collects what it handed over, for scribble().
 */
function startCall(table, db, c, bufs) {
  const keep = (x) => { if (x !== undefined && x !== null) bufs.push(x); return x; };
  switch (c.op) {
    case 'insert': {
      const opts = {};
      if (c.tag !== undefined) opts.tag = u64(c.tag);
      if (c.meta !== undefined) opts.meta = keep(bytesOf(c.meta));
      return db.insert(keep(vectorOf(table, c)), opts).then((id) => `id=${id}`);
    }
    case 'batch':
    case 'batch_flat': {
      const rows = rowsOf(table, c.rows);
      const opts = {};
      if (rows.some((r) => r.tag !== undefined)) opts.tags = keep(rows.map((r) => u64(r.tag ?? 0)));
      if (rows.some((r) => r.meta !== undefined)) opts.metas = keep(rows.map((r) => keep(bytesOf(r.meta) ?? null)));
      let vectors;
      if (c.op === 'batch_flat') {
        vectors = new Float32Array(rows.length * table.dim);
        rows.forEach((r, i) => vectors.set(vectorOf(table, r), i * table.dim));
      } else {
        vectors = rows.map((r) => keep(vectorOf(table, r)));
      }
      return db.insertBatch(keep(vectors), opts).then((ids) => `id=${ids[0]}`);
    }
    case 'update': {
      const ch = {};
      if (c.vector !== undefined) ch.vector = keep(vectorOf(table, c));
      if (c.tag !== undefined) ch.tag = u64(c.tag);
      if (c.meta !== undefined) ch.meta = keep(bytesOf(c.meta));
      return db.update(u64(c.id), ch).then(() => '');
    }
    case 'set_meta': return db.setMeta(u64(c.id), keep(bytesOf(c.meta))).then(() => '');
    case 'delete': return db.delete(u64(c.id)).then(() => '');
    case 'search':
    case 'search_expand': {
      const opts = { k: c.k ?? 10, ef: c.ef ?? 0 };
      if (c.mode !== undefined) opts.mode = c.mode;
      if (c.tags !== undefined) opts.tags = keep(listOf(c.tags));
      if (c.op === 'search') return db.search(keep(vectorOf(table, c)), opts).then(describeHits);
      opts.hops = c.hops ?? 1;
      opts.maxNodes = c.max_nodes ?? 1000;
      if (c.dir !== undefined) opts.dir = c.dir;
      return db.searchExpand(keep(vectorOf(table, c)), opts).then((r) => `${describeHits(r.hits)} ${describeReach(r.nodes)}`);
    }
    case 'expand': {
      const opts = { hops: c.hops ?? 1, maxNodes: c.max_nodes ?? 1000 };
      if (c.dir !== undefined) opts.dir = c.dir;
      return db.expand(keep(listOf(c.seeds)), opts).then(describeReach);
    }
    case 'neighbors': {
      const opts = {};
      if (c.dir !== undefined) opts.dir = c.dir;
      if (c.kind !== undefined) opts.kind = c.kind;
      return db.neighbors(u64(c.node), opts).then((es) =>
        `e=${es.map((e) => `${e.id}:${e.from}:${e.to}:${e.kind}:${e.weight === null ? '-' : q16(e.weight)}`).join(';')}`);
    }
    case 'node_create': {
      const opts = { kind: c.kind ?? 0 };
      if (c.record !== undefined) opts.record = u64(c.record);
      if (c.meta !== undefined) opts.label = keep(bytesOf(c.meta));
      return db.createNode(opts).then((id) => `id=${id}`);
    }
    case 'node_delete': return db.deleteNode(u64(c.id)).then(() => '');
    case 'edge_create': {
      const opts = { kind: c.kind ?? 0 };
      if (c.weight !== undefined) opts.weight = f32(c.weight);
      return db.createEdge(u64(c.from), u64(c.to), opts).then((id) => `id=${id}`);
    }
    case 'edge_delete': return db.deleteEdge(u64(c.id)).then(() => '');
    case 'get':
      return db.get(u64(c.id)).then((r) => {
        if (!r) throw Object.assign(new Error('no record'), { code: 'ENOTFOUND' });
        return `r=${r.tag}:${r.meta ? r.meta.length : 0}:${Array.from(r.vector, q16).join(',')}`;
      });
    case 'open': {
      const hnsw = {};
      if (c.m !== undefined) hnsw.m = c.m;
      if (c.efc !== undefined) hnsw.efConstruction = c.efc;
      if (c.efs !== undefined) hnsw.efSearch = c.efs;
      const opts = { path: ':memory:', dim: c.dim, hnsw };
      if (c.metric !== undefined) opts.metric = c.metric;
      if (c.index !== undefined) opts.index = c.index;
      return Valori.open(opts).then((x) => x.close()).then(() => '');
    }
    case 'apply': {
      const ev = keep(Uint8Array.from(c.event.match(/../g) || [], (h) => parseInt(h, 16)));
      return db.apply(ev).then(() => '');
    }
    default: throw new Error(`unknown op ${c.op}`);
  }
}

/** Runs one call; resolves { code, result } ('OK' and the result text, or the error's code). */
export async function runCall(table, db, c, { mutate = false } = {}) {
  const bufs = [];
  let p;
  try {
    p = startCall(table, db, c, bufs);
  } catch (e) {
    p = Promise.reject(e);
  }
  if (mutate) scribble(bufs);
  try {
    return { code: 'OK', result: await p };
  } catch (e) {
    if (!e || typeof e.code != 'string') throw e;
    return { code: e.code, result: '' };
  }
}

/** Starts every call of `calls` without waiting in between (they queue); resolves their outcomes. */
export function runAllAtOnce(table, db, calls, opts) {
  return Promise.all(calls.map((c) => runCall(table, db, c, opts)));
}

/** Opens an in-memory database of the table's dim with its setup calls applied. */
export async function openWithSetup(table, open = (o) => Valori.open(o)) {
  const db = await open({ dim: table.dim });
  for (const c of table.setup) {
    const r = await runCall(table, db, c);
    if (r.code !== 'OK') throw new Error(`setup call ${JSON.stringify(c)} failed: ${r.code}`);
  }
  return db;
}
