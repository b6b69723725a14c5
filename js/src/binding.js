// binding.js: the thin typed binding over the wasm ABI (wasm/bindings.c, listed in wasm/exports.txt).
// One Binding per open database handle. Each method takes values already converted by convert.js
// (Float32Array, bigint, Uint8Array, BigUint64Array, plain numbers), copies them into the wasm heap,
// makes one C call, reads the result structs with the layouts C reported (vw_layout_json), and
// either returns plain JS values or throws the ValoriError for C's result code. It knows nothing of
// promises, queues, paths or backends (the Valori class in index.js does).
//
// Memory: every temporary lives in a per-handle scratch buffer in the wasm heap, reused across calls
// and freed by close(); the heap views (HEAPU8, HEAPU32...) are re-read after every call that may
// allocate, because memory growth replaces them.
import { errorFromCode, errorNamed } from './errors.js';

const TWO32 = 4294967296;

/** Reusable, growable buffers in the wasm heap, one set per database. */
export class Scratch {
  constructor(core) { this.core = core; this.slots = new Map(); }
  /** A buffer of at least `size` bytes (never 0: a zero-length array still gets a real pointer). */
  get(slot, size) {
    const s = this.slots.get(slot);
    if (s && s.size >= size) return s.ptr;
    const m = this.core.m;
    const cap = Math.max(64, size, s ? s.size * 2 : 0);
    const p = m._malloc(cap);
    if (!p) throw errorNamed(this.core, 'ENOMEM', `${cap} bytes of scratch`);
    if (s) m._free(s.ptr);
    this.slots.set(slot, { ptr: p, size: cap });
    return p;
  }
  free() {
    for (const s of this.slots.values()) this.core.m._free(s.ptr);
    this.slots.clear();
  }
}

function causeOf(backend) {
  if (!backend || !backend.lastError) return undefined;
  const e = backend.lastError;
  backend.lastError = null;
  return e.cause || e;
}

/** The error of a failed open, with the store's report (reason, file, offset) when there is one. */
function openError(core, rc, label, rep, backend) {
  const m = core.m, R = core.L.recovery;
  const detailPtr = m.HEAPU32[(rep + R.detail) >> 2];
  const detail = detailPtr ? m.UTF8ToString(detailPtr) : '';
  const file = m.UTF8ToString(rep + R.file);
  const offset = m.HEAPU64[(rep + R.offset) >> 3];
  const err = errorFromCode(core, rc, `open ${label}`, causeOf(backend));
  if (detail) err.message += `: ${detail}`;
  if (file) err.message += ` (file ${file}, offset ${offset})`;
  return err;
}

export class Binding {
  /**
   * Opens a database (vw_open). `o`: { dim, metric, m, efc, efs, index, traversal (a word from
   * traversalInt8; 0 or absent = none), flags, sync, snapshotEvery (bigint), segmentBytes (bigint) };
   * vfsId 0 = in memory. Throws ValoriError.
   */
  static open(core, label, o, vfsId, backend) {
    const m = core.m, R = core.L.recovery;
    const n = m.lengthBytesUTF8(label) + 1;
    const p = m._malloc(8 + R.size + n);
    if (!p) throw errorNamed(core, 'ENOMEM', 'open');
    try {
      const out = p, rep = p + 8, str = p + 8 + R.size;
      m.stringToUTF8(label, str, n);
      const rc = m._vw_open(str, o.dim, o.metric, o.m, o.efc, o.efs, o.index, o.traversal ?? 0, o.flags, o.sync,
        o.snapshotEvery, o.segmentBytes, vfsId, out, rep);
      if (rc) throw openError(core, rc, label, rep, backend);
      return new Binding(core, m.HEAPU32[out >> 2], backend);
    } finally {
      m._free(p);
    }
  }

  /**
   * The traversal word of an int8 compact traversal copy for components in [lo, hi]
   * (valori_traversal_int8; lo and hi become binary32 as the C parameters are). Throws ValoriError
   * EINVAL for what C refuses (not finite, lo > hi, outside the Q16.16 range).
   */
  static traversalInt8(core, lo, hi) {
    const m = core.m;
    const p = m._malloc(4);
    if (!p) throw errorNamed(core, 'ENOMEM', 'traversal');
    try {
      const rc = m._valori_traversal_int8(lo, hi, p);
      if (rc) throw errorFromCode(core, rc, `traversal.int8 [${lo}, ${hi}]`);
      return m.HEAPU32[p >> 2];
    } finally {
      m._free(p);
    }
  }

  /** Decodes snapshot bytes into a new in-memory database (vw_snapshot_load). */
  static load(core, bytes) {
    const m = core.m;
    const p = m._malloc(8 + Math.max(1, bytes.length));
    if (!p) throw errorNamed(core, 'ENOMEM', 'snapshot');
    try {
      m.HEAPU8.set(bytes, p + 8);
      const rc = m._vw_snapshot_load(p + 8, bytes.length, p);
      if (rc) throw errorFromCode(core, rc, 'fromSnapshot');
      return new Binding(core, m.HEAPU32[p >> 2], null);
    } finally {
      m._free(p);
    }
  }

  /**
   * Builds a database from a leader's snapshot file (vw_bootstrap, valori_bootstrap): vfsId 0 = in
   * memory, else a new durable store in the (empty) directory of that backend. `o`: { sync,
   * snapshotEvery (bigint), segmentBytes (bigint) }. Throws ValoriError (ECORRUPT, EVERSION for a
   * damaged or foreign file; EEXIST for a directory that holds a store).
   */
  static bootstrap(core, label, o, vfsId, backend, bytes) {
    const m = core.m;
    const n = m.lengthBytesUTF8(label) + 1;
    const p = m._malloc(8 + n + Math.max(1, bytes.length));
    if (!p) throw errorNamed(core, 'ENOMEM', 'bootstrap');
    try {
      const out = p, str = p + 8, file = p + 8 + n;
      m.stringToUTF8(label, str, n);
      m.HEAPU8.set(bytes, file);
      const rc = m._vw_bootstrap(str, o.sync, o.snapshotEvery, o.segmentBytes, vfsId, file, bytes.length, out);
      if (rc) throw errorFromCode(core, rc, `bootstrap ${label}`, causeOf(backend));
      return new Binding(core, m.HEAPU32[out >> 2], backend);
    } finally {
      m._free(p);
    }
  }

  constructor(core, handle, backend) {
    this.core = core;
    this.m = core.m;
    this.h = handle;
    this.backend = backend;
    this.scratch = new Scratch(core);
  }

  // ---- helpers

  check(rc, ctx) {
    if (rc) throw errorFromCode(this.core, rc, ctx, causeOf(this.backend));
  }

  putF32(slot, f) {
    const p = this.scratch.get(slot, f.length * 4);
    this.m.HEAPF32.set(f, p >> 2);
    return p;
  }

  /** A BigUint64Array in the heap; a zero-length array still gets a (non-NULL) pointer. */
  putU64(slot, a) {
    const p = this.scratch.get(slot, a.length * 8);
    this.m.HEAPU64.set(a, p >> 3);
    return p;
  }

  putU32(slot, a) {
    const p = this.scratch.get(slot, a.length * 4);
    this.m.HEAPU32.set(a, p >> 2);
    return p;
  }

  /** Bytes in the heap, or 0 (NULL) for null / empty. */
  putBytes(slot, b) {
    if (!b || !b.length) return 0;
    const p = this.scratch.get(slot, b.length);
    this.m.HEAPU8.set(b, p);
    return p;
  }

  u64at(p) { return this.m.HEAPU64[p >> 3]; }
  u32at(p) { return this.m.HEAPU32[p >> 2]; }

  // ---- records

  insert(vec, tag, meta) {
    const out = this.scratch.get('out', 8);
    const pv = this.putF32('vec', vec);
    const pm = this.putBytes('meta', meta);
    this.check(this.m._vw_insert(this.h, pv, tag, pm, meta ? meta.length : 0, out), 'insert');
    return this.u64at(out);
  }

  /** n records from flat (n*dim floats), tags (BigUint64Array or null), metas ({flat, lens} or null). */
  insertBatch(n, flat, tags, metas) {
    const out = this.scratch.get('out', 8);
    const pv = this.putF32('batch', flat);
    const pt = tags ? this.putU64('tags', tags) : 0;
    const pl = metas ? this.putU32('lens', metas.lens) : 0;
    const pm = metas ? this.putBytes('meta', metas.flat) : 0;
    this.check(this.m._vw_insert_batch(this.h, n, pv, pt, pm, pl, out), 'insertBatch');
    return this.u64at(out);
  }

  delete(id) { this.check(this.m._vw_delete(this.h, id), 'delete'); }

  /**
   * One UPDATE_RECORD event (valori_update_record): vec (Float32Array), tag (bigint) and meta
   * (Uint8Array; null = clear) are used when `fields` (VALORI_UPDATE_* bits) selects them.
   */
  updateRecord(id, fields, vec, tag, meta) {
    const pv = vec ? this.putF32('vec', vec) : 0;
    const pm = this.putBytes('meta', meta);
    this.check(this.m._vw_update_record(this.h, id, fields, pv, tag, pm, meta ? meta.length : 0), 'update');
  }

  setMeta(id, meta) {
    const pm = this.putBytes('meta', meta);
    this.check(this.m._vw_set_meta(this.h, id, pm, meta ? meta.length : 0), 'setMeta');
  }

  /** { vector, tag, meta } or null when there is no such record. */
  get(id, dim) {
    const m = this.m, s = this.scratch;
    let cap = 256;
    for (;;) {
      const pv = s.get('getvec', dim * 4);
      const out = s.get('out', 16);
      const pm = s.get('getmeta', cap);
      const rc = m._vw_get(this.h, id, pv, out, pm, cap, out + 8);
      if (rc === this.core.C.codes.ENOTFOUND) return null;
      this.check(rc, 'get');
      const len = this.u32at(out + 8);
      if (len > cap) { cap = len; continue; }
      return {
        vector: m.HEAPF32.slice(pv >> 2, (pv >> 2) + dim),
        tag: this.u64at(out),
        meta: len ? m.HEAPU8.slice(pm, pm + len) : null,
      };
    }
  }

  // ---- search

  /** Hit buffer for k results. C refuses k above MAX_K before writing, so no more is needed. */
  hitBuffer(k) {
    return this.scratch.get('hits', Math.min(k, this.core.C.limits.MAX_K) * this.core.L.hit.size);
  }

  hits(p, n) {
    const L = this.core.L.hit, m = this.m;
    const hits = new Array(n);
    for (let i = 0; i < n; i++) {
      const b = p + i * L.size;
      const raw = m.HEAP64[(b + L.distance) >> 3];
      hits[i] = { id: m.HEAPU64[(b + L.id) >> 3], distance: Number(raw) / TWO32, distanceRaw: raw };
    }
    return hits;
  }

  reach(p, n) {
    const L = this.core.L.reach, m = this.m;
    const r = new Array(n);
    for (let i = 0; i < n; i++) {
      const b = p + i * L.size;
      r[i] = { node: m.HEAPU64[(b + L.node_id) >> 3], via: m.HEAPU64[(b + L.via_edge) >> 3], depth: m.HEAPU32[(b + L.depth) >> 2] };
    }
    return r;
  }

  /** tags: BigUint64Array (possibly empty: a non-NULL pointer with ntags 0) or null (no filter). */
  search(q, k, ef, mode, tags) {
    const out = this.scratch.get('out', 8);
    const pq = this.putF32('vec', q);
    const pt = tags ? this.putU64('tags', tags) : 0;
    const ph = this.hitBuffer(k);
    this.check(this.m._vw_search(this.h, pq, k, ef, mode, tags ? tags.length : 0, pt, ph, out), 'search');
    return this.hits(ph, this.u32at(out));
  }

  searchExpand(q, k, ef, mode, tags, hops, dir, maxNodes) {
    const nodeSize = this.core.L.reach.size;
    let cap = Math.min(maxNodes, 256);
    for (;;) {
      const out = this.scratch.get('out', 16);
      const pq = this.putF32('vec', q);
      const pt = tags ? this.putU64('tags', tags) : 0;
      const ph = this.hitBuffer(k);
      const pr = this.scratch.get('reach', cap * nodeSize);
      this.check(this.m._vw_search_expand(this.h, pq, k, ef, mode, tags ? tags.length : 0, pt, hops, dir, maxNodes,
        ph, out, pr, cap, out + 4), 'searchExpand');
      const nh = this.u32at(out), nn = this.u32at(out + 4);
      if (nn > cap) { cap = nn; continue; } // visited more than the buffer holds: again, with room
      return { hits: this.hits(ph, nh), nodes: this.reach(pr, nn) };
    }
  }

  // ---- knowledge graph

  nodeCreate(kind, record, label) {
    const out = this.scratch.get('out', 8);
    const pl = this.putBytes('meta', label);
    this.check(this.m._vw_node_create(this.h, kind, record, pl, label ? label.length : 0, out), 'createNode');
    return this.u64at(out);
  }

  nodeDelete(id) { this.check(this.m._vw_node_delete(this.h, id), 'deleteNode'); }

  /** weight: a number already at the binary32 boundary, or null (unweighted). */
  edgeCreate(from, to, kind, weight) {
    const out = this.scratch.get('out', 8);
    this.check(this.m._vw_edge_create(this.h, from, to, kind, weight === null ? 0 : 1, weight === null ? 0 : weight, out),
      'createEdge');
    return this.u64at(out);
  }

  edgeDelete(id) { this.check(this.m._vw_edge_delete(this.h, id), 'deleteEdge'); }

  nodeGet(id) {
    const L = this.core.L.node, s = this.scratch, m = this.m;
    let cap = 256;
    for (;;) {
      const pn = s.get('node', L.size);
      const out = s.get('out', 8);
      const pl = s.get('getmeta', cap);
      const rc = m._vw_node_get(this.h, id, pn, pl, cap, out);
      if (rc === this.core.C.codes.ENOTFOUND) return null;
      this.check(rc, 'getNode');
      const len = this.u32at(out);
      if (len > cap) { cap = len; continue; }
      const rec = m.HEAPU64[(pn + L.record_id) >> 3];
      return {
        id: m.HEAPU64[(pn + L.id) >> 3],
        record: rec === 0n ? null : rec,
        kind: m.HEAPU32[(pn + L.kind) >> 2],
        label: len ? m.HEAPU8.slice(pl, pl + len) : null,
      };
    }
  }

  nodeOfRecord(recordId) {
    const out = this.scratch.get('out', 8);
    const rc = this.m._vw_node_of_record(this.h, recordId, out);
    if (rc === this.core.C.codes.ENOTFOUND) return null;
    this.check(rc, 'nodeOfRecord');
    return this.u64at(out);
  }

  /** kind: a number or null (every kind). */
  neighbors(node, dir, kind) {
    const core = this.core, L = core.L.edge, s = this.scratch, m = this.m;
    let cap = 64;
    for (;;) {
      const out = s.get('out', 8);
      const pe = s.get('edges', cap * L.size);
      this.check(m._vw_neighbors(this.h, node, dir, kind === null ? 0 : 1, kind === null ? 0 : kind, pe, cap, out), 'neighbors');
      const n = this.u32at(out);
      if (n > cap) { cap = n; continue; }
      const edges = new Array(n);
      for (let i = 0; i < n; i++) {
        const b = pe + i * L.size;
        edges[i] = {
          id: m.HEAPU64[(b + L.id) >> 3],
          from: m.HEAPU64[(b + L.from) >> 3],
          to: m.HEAPU64[(b + L.to) >> 3],
          kind: m.HEAPU32[(b + L.kind) >> 2],
          weight: m.HEAPU32[(b + L.has_weight) >> 2] ? m.HEAP32[(b + L.weight_q16) >> 2] / core.C.limits.Q16_ONE : null,
        };
      }
      return edges;
    }
  }

  /** seeds: BigUint64Array. */
  expand(seeds, hops, dir, maxNodes) {
    const size = this.core.L.reach.size;
    let cap = Math.min(maxNodes, 256);
    for (;;) {
      const out = this.scratch.get('out', 8);
      const ps = this.putU64('seeds', seeds);
      const pr = this.scratch.get('reach', cap * size);
      this.check(this.m._vw_expand(this.h, ps, seeds.length, hops, dir, maxNodes, pr, cap, out), 'expand');
      const n = this.u32at(out);
      if (n > cap) { cap = n; continue; }
      return this.reach(pr, n);
    }
  }

  // ---- state

  /** valori_stats with C's field names: uint64 fields as bigint, uint32 fields as number. */
  stats() {
    const L = this.core.L.stats, m = this.m;
    const p = this.scratch.get('stats', L.size);
    this.check(m._vw_stats(this.h, p), 'stats');
    const r = {};
    for (const f of ['height', 'records', 'nodes', 'edges', 'next_record_id', 'next_node_id', 'next_edge_id',
      'index_tombstones', 'vector_bytes', 'index_bytes', 'other_bytes']) r[f] = m.HEAPU64[(p + L[f]) >> 3];
    for (const f of ['dim', 'metric', 'hnsw_m', 'hnsw_ef_construction', 'hnsw_ef_search', 'index', 'traversal',
      'traversal_shift']) r[f] = m.HEAPU32[(p + L[f]) >> 2];
    r.traversal_center = m.HEAP32[(p + L.traversal_center) >> 2];
    return r;
  }

  digest(fn, ctx) {
    const p = this.scratch.get('root', 32);
    this.check(fn.call(this.m, this.h, p), ctx);
    return this.m.HEAPU8.slice(p, p + 32);
  }

  stateRoot() { return this.digest(this.m._vw_state_root, 'stateRoot'); }
  indexDigest() { return this.digest(this.m._vw_index_digest, 'indexDigest'); }
  checkState() { this.check(this.m._vw_check(this.h), 'check'); }

  snapshotSave() {
    const m = this.m, out = this.scratch.get('out', 8);
    this.check(m._vw_snapshot_save(this.h, out, out + 4), 'snapshot');
    const p = this.u32at(out), n = this.u32at(out + 4);
    const copy = m.HEAPU8.slice(p, p + n);
    m._vw_buffer_free(this.h, p, n);
    return copy;
  }

  storeSnapshot() { this.check(this.m._vw_snapshot(this.h), 'checkpoint'); }

  /** An event (a real pointer even when empty: C decides what an empty event is). */
  apply(ev) {
    const out = this.scratch.get('out', 8);
    const pe = this.scratch.get('event', ev.length);
    this.m.HEAPU8.set(ev, pe);
    this.check(this.m._vw_apply(this.h, pe, ev.length, out), 'apply');
    return this.u64at(out);
  }

  flush() { this.check(this.m._vw_flush(this.h), 'flush'); }

  // ---- replication

  /** valori_position_get: { height (number), root, chain (Uint8Array(32) each), chainKnown }. */
  position() {
    const L = this.core.L.position, m = this.m;
    const p = this.scratch.get('pos', L.size);
    this.check(m._vw_position_get(this.h, p), 'position');
    return {
      height: Number(m.HEAPU64[(p + L.height) >> 3]),
      root: m.HEAPU8.slice(p + L.root, p + L.root + 32),
      chain: m.HEAPU8.slice(p + L.chain, p + L.chain + 32),
      chainKnown: m.HEAPU32[(p + L.chain_known) >> 2] !== 0,
    };
  }

  /**
   * One RECORD payload (Uint8Array) through valori_apply_record (commit) or its dry run
   * valori_check_record. Never throws for the record's sake: returns { rc, height, reason,
   * eventCode, expected, actual } (valori_apply_result; reason 0 unless rc is EDIVERGED).
   */
  applyRecord(rec, commit) {
    const L = this.core.L.apply_result, m = this.m;
    const pr = this.scratch.get('record', rec.length);
    const res = this.scratch.get('applyres', L.size);
    m.HEAPU8.set(rec, pr);
    const rc = m._vw_apply_record(this.h, pr, rec.length, commit ? 1 : 0, res);
    return {
      rc,
      height: Number(m.HEAPU64[(res + L.height) >> 3]),
      reason: m.HEAPU32[(res + L.reason) >> 2],
      eventCode: m.HEAP32[(res + L.event_code) >> 2],
      expected: m.HEAPU8.slice(res + L.expected, res + L.expected + 32),
      actual: m.HEAPU8.slice(res + L.actual, res + L.actual + 32),
    };
  }

  /** Closes the handle and frees the scratch; returns the close error (a ValoriError) or null. */
  close() {
    const rc = this.m._vw_close(this.h);
    const err = rc ? errorFromCode(this.core, rc, 'close', causeOf(this.backend)) : null;
    this.scratch.free();
    this.h = 0;
    return err;
  }
}

/**
 * Splits a replication stream (docs/REPLICATION.md section 5) into frames with the core's decoder
 * (vw_frame_decode: CRC, type, version, lengths; the header is judged before its payload is
 * buffered). push(bytes) returns the whole frames those bytes completed, as plain objects (RECORD
 * and ERROR data copied out of the wasm heap); a damaged frame throws the core's ValoriError
 * (ECORRUPT, EVERSION). Bytes of an incomplete frame wait for the next push.
 */
export class FrameReader {
  constructor(core) {
    this.core = core;
    this.m = core.m;
    this.scratch = new Scratch(core);
    this.pending = new Uint8Array(0);
  }

  push(chunk) {
    const m = this.m, L = this.core.L.frame;
    let buf = chunk;
    if (this.pending.length) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
    }
    const frames = [];
    const p = this.scratch.get('stream', buf.length);
    const fp = this.scratch.get('frame', L.size + 8);
    const up = fp + L.size;
    m.HEAPU8.set(buf, p);
    let off = 0;
    while (off < buf.length) {
      const rc = m._vw_frame_decode(p + off, buf.length - off, fp, up);
      if (rc) throw errorFromCode(this.core, rc, 'a damaged replication frame');
      const used = m.HEAPU32[up >> 2];
      if (!used) break;
      frames.push(this.frame(fp, L));
      off += used;
    }
    this.pending = buf.slice(off);
    return frames;
  }

  frame(fp, L) {
    const m = this.m, C = this.core.C.frame;
    const u64 = (f) => Number(m.HEAPU64[(fp + L[f]) >> 3]);
    const type = m.HEAPU32[(fp + L.type) >> 2];
    const f = { type };
    if (type === C.HELLO || type === C.HEARTBEAT) {
      f.leaderHeight = u64('leader_height');
      f.timeMs = u64('time_ms');
      f.root = m.HEAPU8.slice(fp + L.root, fp + L.root + 32);
    }
    if (type === C.HELLO) {
      f.from = u64('from');
      f.logFirstHeight = u64('log_first_height');
      f.config = Array.from(m.HEAPU32.subarray((fp + L.config) >> 2, ((fp + L.config) >> 2) + 5));
      f.heartbeatMs = m.HEAPU32[(fp + L.heartbeat_ms) >> 2];
    }
    if (type === C.RECORD || type === C.ERROR) {
      const d = m.HEAPU32[(fp + L.data) >> 2], n = u64('data_len');
      f.data = m.HEAPU8.slice(d, d + n);
      if (type === C.RECORD) f.height = u64('height');
      else f.code = m.HEAPU32[(fp + L.code) >> 2];
    }
    return f;
  }

  /** Drops the bytes of an incomplete frame (a new connection starts at a frame boundary). */
  reset() { this.pending = new Uint8Array(0); }

  free() { this.scratch.free(); }
}
