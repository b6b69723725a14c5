// index.js: the `valori` npm package: a typed, promise-based API over the WebAssembly core.
//
// Layers (PGlite / SQLite-WASM style): the Emscripten module (build-wasm/valori.mjs) -> the thin C
// ABI (wasm/bindings.c, every struct layout and constant read from C at start-up, module.js) -> the
// Valori class below. Storage backends are chosen from the path: ':memory:' (default), 'idb://name'
// (browser IndexedDB, backend-idb.js) or a filesystem path / file:// URL (Node, backend-node.js);
// backends are imported lazily so a browser never loads the Node one.
//
// Writes go through one queue per database (WriteQueue): each write is applied to the core in order
// (validation errors reject at once and change nothing), then one commit makes the whole batch
// durable (the core's flush = real fsync in Node; plus one IndexedDB transaction in the browser), and
// only then are the batch's promises resolved: group commit. With { durability: 'relaxed' } a write
// resolves once applied and a background commit (or flush()/close()) makes it durable.
//
// Memory: every temporary in the wasm heap is a per-database scratch buffer reused across calls and
// freed by close(); nothing is allocated per call that is not freed before the call returns.
import { loadCore } from './module.js';
import { ValoriError, errorFromCode, errorNamed } from './errors.js';

export { ValoriError };

const TWO32 = 4294967296;
const U64_MAX = (1n << 64n) - 1n;
const isNode = typeof process == 'object' && !!process.versions && !!process.versions.node && typeof window == 'undefined';
const encoder = new TextEncoder();
const RELAXED_COMMIT_MS = 50;

/** Resolves `path` to a backend kind. */
function parsePath(core, path) {
  if (path === undefined || path === null || path === ':memory:' || path === 'memory://') return { kind: 'memory' };
  if (typeof path != 'string' || path === '') throw errorNamed(core, 'EINVAL', 'path must be a string');
  if (path.startsWith('idb://')) {
    const name = path.slice(6);
    if (!name || name.includes('/')) throw errorNamed(core, 'EINVAL', `bad IndexedDB store name in ${path}`);
    if (typeof indexedDB == 'undefined') throw errorNamed(core, 'EINVAL', 'idb:// needs IndexedDB (a browser or worker)');
    return { kind: 'idb', name };
  }
  if (path.startsWith('memory://')) return { kind: 'memory' };
  if (!isNode) throw errorNamed(core, 'EINVAL', `filesystem paths need Node; use idb://name or :memory: (${path})`);
  if (path.startsWith('file://')) return { kind: 'fs', dir: decodeURIComponent(new URL(path).pathname) };
  return { kind: 'fs', dir: path };
}

function u32(core, v, what, dflt) {
  if (v === undefined || v === null) return dflt;
  if (typeof v != 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw errorNamed(core, 'EINVAL', `${what} must be an integer in [0, 2^32)`);
  }
  return v;
}

function u64(core, v, what) {
  if (typeof v == 'bigint') {
    if (v < 0n || v > U64_MAX) throw errorNamed(core, 'EINVAL', `${what} out of the u64 range`);
    return v;
  }
  if (typeof v == 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw errorNamed(core, 'EINVAL', `${what} must be a non-negative safe integer or a bigint`);
}

function bytes(core, v, what) {
  if (v === undefined || v === null) return null;
  if (v instanceof Uint8Array) return v;
  if (typeof v == 'string') return encoder.encode(v);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw errorNamed(core, 'EINVAL', `${what} must be a Uint8Array, ArrayBuffer or string`);
}

function hex(u8) {
  let s = '';
  for (let i = 0; i < u8.length; i++) s += u8[i].toString(16).padStart(2, '0');
  return s;
}

function enumValue(core, table, v, what, dflt) {
  if (v === undefined || v === null) return dflt;
  if (typeof v == 'string') {
    const k = v.toUpperCase();
    if (Object.prototype.hasOwnProperty.call(table, k)) return table[k];
  }
  throw errorNamed(core, 'EINVAL', `${what} must be one of ${Object.keys(table).map((k) => k.toLowerCase()).join(', ')}`);
}

/** Reusable, growable buffers in the wasm heap, one set per database. */
class Scratch {
  constructor(core) { this.core = core; this.slots = new Map(); }
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

/** Orders writes, applies them, and resolves each batch after one commit (group commit). */
class WriteQueue {
  constructor(db) { this.db = db; this.q = []; this.running = null; }
  push(apply, force = false) {
    return new Promise((resolve, reject) => {
      this.q.push({ apply, force, resolve, reject });
      if (!this.running) this.running = this.run();
    });
  }
  get pending() { return this.q.length > 0; }
  async run() {
    await null; // let callers in the same tick join this batch
    try {
      while (this.q.length) {
        const batch = this.q.splice(0);
        const done = [];
        let force = false;
        for (const op of batch) {
          if (op.marker) { op.resolve(); continue; }
          force = force || op.force;
          try { done.push([op, op.apply()]); } catch (e) { op.reject(e); }
        }
        if (!done.length) continue;
        const durable = !this.db._relaxed || force;
        try {
          if (durable) await this.db._commit();
          else this.db._scheduleCommit();
        } catch (e) {
          for (const [op] of done) op.reject(e);
          continue;
        }
        for (const [op, v] of done) op.resolve(v);
      }
    } finally {
      this.running = null;
    }
  }
  /** Resolves once every write queued so far is applied (not necessarily committed). */
  applied() {
    return new Promise((resolve) => {
      this.q.push({ marker: true, resolve });
      if (!this.running) this.running = this.run();
    });
  }
  /** Resolves once every write queued so far is applied and committed (errors are the writes'). */
  drain() { return this.push(() => undefined, true).catch(() => undefined); }
}

export class Valori {
  /**
   * Opens or creates a database. See index.d.ts for the options.
   * @returns {Promise<Valori>}
   */
  static async open(options = {}) {
    const core = await loadCore();
    if (options === null || typeof options != 'object') throw errorNamed(core, 'EINVAL', 'options must be an object');
    const { C, m } = core;
    const where = parsePath(core, options.path);
    const hnsw = options.hnsw || {};
    const dim = u32(core, options.dim, 'dim', 0);
    const metric = enumValue(core, C.metric, options.metric, 'metric', C.metric.L2);
    const index = enumValue(core, C.index, options.index, 'index', C.index.HNSW);
    if (index === C.index.NONE && ['m', 'M', 'efConstruction', 'efSearch'].some((k) => hnsw[k] !== undefined)) {
      throw errorNamed(core, 'EINVAL', "hnsw parameters given for an index-less store (index: 'none')");
    }
    const M = u32(core, hnsw.m ?? hnsw.M, 'hnsw.m', 0);
    const efc = u32(core, hnsw.efConstruction, 'hnsw.efConstruction', 0);
    const efs = u32(core, hnsw.efSearch, 'hnsw.efSearch', 0);
    const durability = options.durability ?? 'full';
    if (durability !== 'full' && durability !== 'relaxed') throw errorNamed(core, 'EINVAL', "durability must be 'full' or 'relaxed'");
    const readOnly = !!options.readOnly;
    const create = options.create ?? !readOnly;
    const flags = (create ? C.open.CREATE : 0) | (readOnly ? C.open.READONLY : 0);
    const snapshotEvery = options.snapshotEvery === undefined ? 0n : u64(core, options.snapshotEvery, 'snapshotEvery');
    const segDefault = where.kind === 'idb' ? 1 << 20 : 0; // IDB rewrites the tail segment whole per commit
    const segmentBytes = options.segmentBytes === undefined ? BigInt(segDefault) : u64(core, options.segmentBytes, 'segmentBytes');
    if (where.kind === 'memory' && !dim) throw errorNamed(core, 'EINVAL', 'dim is required for an in-memory database');

    let backend = null;
    let vfsId = 0;
    try {
      if (where.kind === 'fs') {
        const { NodeFsBackend } = await import('./backend-node.js');
        backend = new NodeFsBackend(core, where.dir);
        try { backend.prepare(create); } catch (e) { throw vfsError(core, e, `open ${where.dir}`); }
      } else if (where.kind === 'idb') {
        const { IdbBackend } = await import('./backend-idb.js');
        backend = new IdbBackend(core, where.name);
        try { await backend.prepare({ readOnly }); } catch (e) { backend = null; throw vfsError(core, e, `open ${options.path}`); }
        requestPersistence();
      }
      if (backend) vfsId = m.valoriVfs.register(backend);
      const label = String(options.path ?? ':memory:');
      const n = m.lengthBytesUTF8(label) + 1;
      const p = m._malloc(n + 8);
      if (!p) throw errorNamed(core, 'ENOMEM', 'open');
      let h = 0;
      try {
        m.stringToUTF8(label, p + 8, n);
        const rc = m._vw_open(p + 8, dim, metric, M, efc, efs, index, flags, C.sync.RELAXED, snapshotEvery, segmentBytes, vfsId, p);
        if (rc) throw errorFromCode(core, rc, `open ${label}`, backend && backend.lastError && (backend.lastError.cause || backend.lastError));
        h = m.HEAPU32[p >> 2];
      } finally {
        m._free(p);
      }
      return new Valori(core, h, backend, vfsId, { durability, kind: where.kind, path: label });
    } catch (e) {
      if (vfsId) m.valoriVfs.unregister(vfsId);
      if (backend) backend.dispose();
      throw e;
    }
  }

  /**
   * Decodes a snapshot (from snapshot()) into a new in-memory database.
   * @param {Uint8Array} snapshotBytes
   */
  static async fromSnapshot(snapshotBytes) {
    const core = await loadCore();
    const { m } = core;
    const buf = bytes(core, snapshotBytes, 'snapshot');
    if (!buf) throw errorNamed(core, 'EINVAL', 'snapshot bytes required');
    const p = m._malloc(buf.length + 8);
    if (!p) throw errorNamed(core, 'ENOMEM', 'snapshot');
    try {
      m.HEAPU8.set(buf, p + 8);
      const rc = m._vw_snapshot_load(p + 8, buf.length, p);
      if (rc) throw errorFromCode(core, rc, 'fromSnapshot');
      return new Valori(core, m.HEAPU32[p >> 2], null, 0, { durability: 'full', kind: 'memory', path: ':memory:' });
    } finally {
      m._free(p);
    }
  }

  /** Heap bytes in use inside the WebAssembly module (for leak tests and diagnostics). */
  static async heapUsed() {
    const core = await loadCore();
    return core.m._vw_heap_used();
  }

  /** Size of the WebAssembly linear memory (what the instance holds from the JS engine; it grows,
   * never shrinks): heapUsed() plus free heap, stack and static data. */
  static async memoryBytes() {
    const core = await loadCore();
    return core.m.HEAPU8.length;
  }

  /** The constants read from C at start-up (codes, limits, metrics, opcodes...). */
  static async constants() {
    const core = await loadCore();
    return core.C;
  }

  constructor(core, handle, backend, vfsId, info) {
    this._core = core;
    this._m = core.m;
    this._h = handle;
    this._backend = backend;
    this._vfsId = vfsId;
    this._relaxed = info.durability === 'relaxed';
    this._kind = info.kind;
    this.path = info.path;
    this._scratch = new Scratch(core);
    this._queue = new WriteQueue(this);
    this._closed = false;
    this._poison = null;
    this._timer = null;
    const st = this._statsSync();
    this.dim = st.dim;
    this.metric = Object.keys(core.C.metric).find((k) => core.C.metric[k] === st.metric).toLowerCase();
    this.index = st.index;
  }

  // ---- internals

  _err(rc, ctx) {
    const b = this._backend;
    const cause = b && b.lastError ? (b.lastError.cause || b.lastError) : undefined;
    if (b) b.lastError = null;
    return errorFromCode(this._core, rc, ctx, cause);
  }

  _check(rc, ctx) { if (rc) throw this._err(rc, ctx); }

  _live() { if (this._closed) throw errorNamed(this._core, 'ECLOSED', this.path); }

  _vec(v, what = 'vector') {
    const core = this._core;
    let f;
    if (v instanceof Float32Array) f = v;
    else if (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView) && typeof v[0] != 'bigint')) {
      for (let i = 0; i < v.length; i++) {
        if (typeof v[i] != 'number') throw errorNamed(core, 'EINVAL', `${what}[${i}] is not a number`);
      }
      f = Float32Array.from(v);
    } else {
      throw errorNamed(core, 'EINVAL', `${what} must be a Float32Array (or an array of numbers)`);
    }
    if (f.length !== this.dim) throw errorNamed(core, 'EDIM', `${what} has ${f.length} components, the database has dim ${this.dim}`);
    return f;
  }

  _putVec(slot, f) {
    const p = this._scratch.get(slot, f.length * 4);
    this._m.HEAPF32.set(f, p >> 2);
    return p;
  }

  _putBytes(slot, b) {
    if (!b || !b.length) return 0;
    const p = this._scratch.get(slot, b.length);
    this._m.HEAPU8.set(b, p);
    return p;
  }

  _u64at(p) { return this._m.HEAPU64[p >> 3]; }

  /** Enqueues a write; rejects at once when the database is closed or poisoned. */
  _write(fn) {
    if (this._closed) return Promise.reject(errorNamed(this._core, 'ECLOSED', this.path));
    if (this._poison) return Promise.reject(errorNamed(this._core, 'EPOISONED', this._poison.message, this._poison));
    return this._queue.push(() => {
      if (this._poison) throw errorNamed(this._core, 'EPOISONED', this._poison.message, this._poison);
      return fn();
    });
  }

  /** Reads wait for queued writes to be applied (read-your-writes), not for their commit. */
  async _read(fn) {
    this._live();
    if (this._queue.pending) await this._queue.applied();
    this._live();
    return fn();
  }

  async _commit() {
    if (!this._backend) return;
    if (this._poison) throw errorNamed(this._core, 'EPOISONED', this._poison.message, this._poison);
    this._check(this._m._vw_flush(this._h), 'flush');
    try {
      await this._backend.commit();
    } catch (e) {
      const err = vfsError(this._core, e, 'commit');
      this._poison = err; // like a failed fsync: refuse writes until reopened (recovery from storage)
      throw err;
    }
  }

  _scheduleCommit() {
    if (!this._backend || this._timer) return;
    this._timer = setTimeout(() => {
      this._timer = null;
      if (!this._closed) this._queue.push(() => undefined, true).catch(() => undefined);
    }, RELAXED_COMMIT_MS);
  }

  // ---- records

  /**
   * Inserts one record. Resolves with its id (bigint) once durable (or applied, if relaxed).
   * @param {Float32Array|number[]} vector
   * @param {{tag?: number|bigint, meta?: Uint8Array|string}} [opts]
   */
  insert(vector, opts = {}) {
    try {
      this._live();
      const f = this._vec(vector);
      const tag = opts.tag === undefined ? 0n : u64(this._core, opts.tag, 'tag');
      const meta = bytes(this._core, opts.meta, 'meta');
      return this._write(() => {
        const out = this._scratch.get('out', 8);
        const pv = this._putVec('vec', f);
        const pm = this._putBytes('meta', meta);
        this._check(this._m._vw_insert(this._h, pv, tag, pm, meta ? meta.length : 0, out), 'insert');
        return this._u64at(out);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Inserts records atomically (all or nothing). Resolves with their ids (consecutive bigints).
   * @param {Float32Array[]|Float32Array} vectors an array of vectors, or n*dim floats row-major
   * @param {{tags?: (number|bigint)[], metas?: (Uint8Array|string|null)[]}} [opts]
   */
  insertBatch(vectors, opts = {}) {
    try {
      this._live();
      const core = this._core, dim = this.dim;
      let flat, n;
      if (vectors instanceof Float32Array) {
        if (vectors.length % dim !== 0) throw errorNamed(core, 'EDIM', `batch of ${vectors.length} floats is not a multiple of dim ${dim}`);
        flat = vectors;
        n = vectors.length / dim;
      } else if (Array.isArray(vectors)) {
        n = vectors.length;
        flat = new Float32Array(n * dim);
        for (let i = 0; i < n; i++) flat.set(this._vec(vectors[i], `vectors[${i}]`), i * dim);
      } else {
        throw errorNamed(core, 'EINVAL', 'vectors must be an array of Float32Array or one Float32Array of n*dim floats');
      }
      if (n === 0) throw errorNamed(core, 'EEMPTY', 'insertBatch');
      if (n > core.C.limits.MAX_BATCH) throw errorNamed(core, 'ETOOBIG', `${n} records in one batch`);
      let tags = null;
      if (opts.tags !== undefined && opts.tags !== null) {
        if (!Array.isArray(opts.tags) && !(opts.tags instanceof BigUint64Array)) throw errorNamed(core, 'EINVAL', 'tags must be an array');
        if (opts.tags.length !== n) throw errorNamed(core, 'EINVAL', `tags has ${opts.tags.length} entries for ${n} vectors`);
        tags = new BigUint64Array(n);
        for (let i = 0; i < n; i++) tags[i] = u64(core, opts.tags[i], `tags[${i}]`);
      }
      let metaFlat = null, metaLens = null;
      if (opts.metas !== undefined && opts.metas !== null) {
        if (!Array.isArray(opts.metas) || opts.metas.length !== n) throw errorNamed(core, 'EINVAL', `metas must be an array of ${n} entries`);
        const parts = opts.metas.map((x, i) => bytes(core, x, `metas[${i}]`));
        metaLens = new Uint32Array(n);
        let total = 0;
        for (let i = 0; i < n; i++) {
          const l = parts[i] ? parts[i].length : 0;
          if (l > core.C.limits.MAX_META) throw errorNamed(core, 'ETOOBIG', `metas[${i}] has ${l} bytes`);
          metaLens[i] = l;
          total += l;
        }
        metaFlat = new Uint8Array(total);
        let off = 0;
        for (const b of parts) if (b) { metaFlat.set(b, off); off += b.length; }
      }
      return this._write(() => {
        const s = this._scratch, m = this._m;
        const out = s.get('out', 8);
        const pv = s.get('batch', flat.length * 4);
        const pt = tags ? s.get('tags', n * 8) : 0;
        const pl = metaLens ? s.get('lens', n * 4) : 0;
        const pm = metaFlat && metaFlat.length ? s.get('meta', metaFlat.length) : 0;
        m.HEAPF32.set(flat, pv >> 2);
        if (tags) m.HEAPU64.set(tags, pt >> 3);
        if (metaLens) m.HEAPU32.set(metaLens, pl >> 2);
        if (pm) m.HEAPU8.set(metaFlat, pm);
        this._check(m._vw_insert_batch(this._h, n, pv, pt, pm, pl, out), 'insertBatch');
        const first = this._u64at(out);
        const ids = new Array(n);
        for (let i = 0; i < n; i++) ids[i] = first + BigInt(i);
        return ids;
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Deletes a record (and the graph node linked to it). ENOTFOUND if there is none. */
  delete(id) {
    try {
      this._live();
      const rid = u64(this._core, id, 'id');
      return this._write(() => { this._check(this._m._vw_delete(this._h, rid), 'delete'); });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Replaces a record's vector and/or tag (and metadata, when `meta` is given: null clears it).
   * @param {number|bigint} id
   * @param {{vector?: Float32Array, tag?: number|bigint, meta?: Uint8Array|string|null}} changes
   */
  update(id, changes = {}) {
    try {
      this._live();
      const core = this._core;
      const rid = u64(core, id, 'id');
      if (changes === null || typeof changes != 'object') throw errorNamed(core, 'EINVAL', 'changes must be an object');
      const f = changes.vector === undefined ? null : this._vec(changes.vector);
      const hasTag = changes.tag !== undefined;
      const tag = hasTag ? u64(core, changes.tag, 'tag') : 0n;
      const hasMeta = Object.prototype.hasOwnProperty.call(changes, 'meta');
      const meta = hasMeta ? bytes(core, changes.meta, 'meta') : null;
      if (!f && !hasTag && !hasMeta) throw errorNamed(core, 'EINVAL', 'update needs vector, tag or meta');
      return this._write(() => {
        if (f || hasTag) {
          const pv = f ? this._putVec('vec', f) : 0;
          this._check(this._m._vw_update(this._h, rid, pv, hasTag ? 1 : 0, tag), 'update');
        }
        if (hasMeta) {
          const pm = this._putBytes('meta', meta);
          this._check(this._m._vw_set_meta(this._h, rid, pm, meta ? meta.length : 0), 'update meta');
        }
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Replaces a record's metadata (null or empty clears it). */
  setMeta(id, meta) {
    try {
      this._live();
      const rid = u64(this._core, id, 'id');
      const b = bytes(this._core, meta, 'meta');
      return this._write(() => {
        const pm = this._putBytes('meta', b);
        this._check(this._m._vw_set_meta(this._h, rid, pm, b ? b.length : 0), 'setMeta');
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Reads a record, or null when there is none.
   * @returns {Promise<{id: bigint, vector: Float32Array, tag: bigint, meta: Uint8Array|null}|null>}
   */
  get(id) {
    return this._read(() => {
      const rid = u64(this._core, id, 'id');
      const s = this._scratch, m = this._m;
      let cap = 256;
      for (;;) {
        const pv = s.get('getvec', this.dim * 4);
        const out = s.get('out', 16);
        const pm = s.get('getmeta', cap);
        const rc = m._vw_get(this._h, rid, pv, out, pm, cap, out + 8);
        if (rc === this._core.C.codes.ENOTFOUND) return null;
        this._check(rc, 'get');
        const len = m.HEAPU32[(out + 8) >> 2];
        if (len > cap) { cap = len; continue; }
        return {
          id: rid,
          vector: m.HEAPF32.slice(pv >> 2, (pv >> 2) + this.dim),
          tag: this._u64at(out),
          meta: len ? m.HEAPU8.slice(pm, pm + len) : null,
        };
      }
    });
  }

  // ---- search

  _searchArgs(query, opts) {
    const core = this._core, C = core.C;
    if (opts === null || typeof opts != 'object') throw errorNamed(core, 'EINVAL', 'search options must be an object');
    const f = this._vec(query, 'query');
    const k = opts.k === undefined ? 10 : opts.k;
    if (typeof k != 'number' || !Number.isInteger(k) || k < 1 || k > C.limits.MAX_K) throw errorNamed(core, 'EK', `k = ${k}`);
    const ef = opts.ef === undefined ? 0 : opts.ef;
    if (typeof ef != 'number' || !Number.isInteger(ef) || ef < 0 || ef > C.limits.MAX_EF) throw errorNamed(core, 'EK', `ef = ${ef}`);
    const mode = enumValue(core, C.search, opts.mode, 'mode', C.search.AUTO);
    let tags = null;
    if (opts.tag !== undefined && opts.tag !== null) tags = [opts.tag];
    if (opts.tags !== undefined && opts.tags !== null) {
      if (!Array.isArray(opts.tags)) throw errorNamed(core, 'EINVAL', 'tags must be an array');
      tags = (tags || []).concat(opts.tags);
    }
    if (tags && tags.length > C.limits.MAX_TAGS) throw errorNamed(core, 'ETOOBIG', `${tags.length} tags in one filter`);
    const t64 = tags ? BigUint64Array.from(tags.map((t, i) => u64(core, t, `tags[${i}]`))) : null;
    return { f, k, ef, mode, t64 };
  }

  _hits(p, n) {
    const L = this._core.L.hit, m = this._m;
    const hits = new Array(n);
    for (let i = 0; i < n; i++) {
      const b = p + i * L.size;
      const raw = m.HEAP64[(b + L.distance) >> 3];
      hits[i] = { id: m.HEAPU64[(b + L.id) >> 3], distance: Number(raw) / TWO32, distanceRaw: raw };
    }
    return hits;
  }

  /**
   * k nearest records, ordered by (distance, id).
   * @returns {Promise<{id: bigint, distance: number, distanceRaw: bigint}[]>}
   */
  search(query, opts = {}) {
    return this._read(() => {
      const { f, k, ef, mode, t64 } = this._searchArgs(query, opts);
      const s = this._scratch, m = this._m;
      const out = s.get('out', 8);
      const pq = this._putVec('vec', f);
      const pt = t64 ? s.get('tags', t64.length * 8) : 0;
      const ph = s.get('hits', k * this._core.L.hit.size);
      if (t64) m.HEAPU64.set(t64, pt >> 3);
      this._check(m._vw_search(this._h, pq, k, ef, mode, t64 ? t64.length : 0, pt, ph, out), 'search');
      return this._hits(ph, m.HEAPU32[out >> 2]);
    });
  }

  /**
   * Vector search, then graph expansion around the hits' linked nodes.
   * @returns {Promise<{hits: {id: bigint, distance: number, distanceRaw: bigint}[], nodes: {node: bigint, via: bigint, depth: number}[]}>}
   */
  searchExpand(query, opts = {}) {
    return this._read(() => {
      const core = this._core;
      const { f, k, ef, mode, t64 } = this._searchArgs(query, opts);
      const hops = u32(core, opts.hops, 'hops', 1);
      const dir = enumValue(core, core.C.dir, opts.dir, 'dir', core.C.dir.OUT);
      const maxNodes = u32(core, opts.maxNodes, 'maxNodes', 1000);
      const s = this._scratch, m = this._m;
      const out = s.get('out', 16);
      const pq = this._putVec('vec', f);
      const pt = t64 ? s.get('tags', t64.length * 8) : 0;
      const ph = s.get('hits', k * core.L.hit.size);
      const pr = s.get('reach', Math.max(1, maxNodes) * core.L.reach.size);
      if (t64) m.HEAPU64.set(t64, pt >> 3);
      this._check(m._vw_search_expand(this._h, pq, k, ef, mode, t64 ? t64.length : 0, pt, hops, dir, maxNodes,
        ph, out, pr, maxNodes, out + 4), 'searchExpand');
      const nh = m.HEAPU32[out >> 2], nn = Math.min(m.HEAPU32[(out + 4) >> 2], maxNodes);
      return { hits: this._hits(ph, nh), nodes: this._reach(pr, nn) };
    });
  }

  // ---- knowledge graph

  /**
   * Creates a node. `record` links it to a record (at most one node per record).
   * @param {{kind?: number, record?: number|bigint, label?: Uint8Array|string}} [opts]
   */
  createNode(opts = {}) {
    try {
      this._live();
      const core = this._core;
      const kind = u32(core, opts.kind, 'kind', 0);
      const rec = opts.record === undefined || opts.record === null ? 0n : u64(core, opts.record, 'record');
      const label = bytes(core, opts.label, 'label');
      return this._write(() => {
        const out = this._scratch.get('out', 8);
        const pl = this._putBytes('meta', label);
        this._check(this._m._vw_node_create(this._h, kind, rec, pl, label ? label.length : 0, out), 'createNode');
        return this._u64at(out);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Deletes a node and every edge into or out of it. */
  deleteNode(id) {
    try {
      this._live();
      const nid = u64(this._core, id, 'node id');
      return this._write(() => { this._check(this._m._vw_node_delete(this._h, nid), 'deleteNode'); });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Creates a directed edge; resolves with its id.
   * @param {{kind?: number, weight?: number}} [opts]
   */
  createEdge(from, to, opts = {}) {
    try {
      this._live();
      const core = this._core;
      const a = u64(core, from, 'from'), b = u64(core, to, 'to');
      const kind = u32(core, opts.kind, 'kind', 0);
      const hasW = opts.weight !== undefined && opts.weight !== null;
      if (hasW && typeof opts.weight != 'number') throw errorNamed(core, 'EINVAL', 'weight must be a number');
      return this._write(() => {
        const out = this._scratch.get('out', 8);
        this._check(this._m._vw_edge_create(this._h, a, b, kind, hasW ? 1 : 0, hasW ? opts.weight : 0, out), 'createEdge');
        return this._u64at(out);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Deletes an edge. */
  deleteEdge(id) {
    try {
      this._live();
      const eid = u64(this._core, id, 'edge id');
      return this._write(() => { this._check(this._m._vw_edge_delete(this._h, eid), 'deleteEdge'); });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Reads a node, or null. */
  getNode(id) {
    return this._read(() => {
      const nid = u64(this._core, id, 'node id');
      const L = this._core.L.node, s = this._scratch, m = this._m;
      let cap = 256;
      for (;;) {
        const pn = s.get('node', L.size);
        const out = s.get('out', 8);
        const pl = s.get('getmeta', cap);
        const rc = m._vw_node_get(this._h, nid, pn, pl, cap, out);
        if (rc === this._core.C.codes.ENOTFOUND) return null;
        this._check(rc, 'getNode');
        const len = m.HEAPU32[out >> 2];
        if (len > cap) { cap = len; continue; }
        const rec = m.HEAPU64[(pn + L.record_id) >> 3];
        return {
          id: m.HEAPU64[(pn + L.id) >> 3],
          record: rec === 0n ? null : rec,
          kind: m.HEAPU32[(pn + L.kind) >> 2],
          label: len ? m.HEAPU8.slice(pl, pl + len) : null,
        };
      }
    });
  }

  /** The node linked to a record, or null. */
  nodeOfRecord(recordId) {
    return this._read(() => {
      const rid = u64(this._core, recordId, 'record id');
      const out = this._scratch.get('out', 8);
      const rc = this._m._vw_node_of_record(this._h, rid, out);
      if (rc === this._core.C.codes.ENOTFOUND) return null;
      this._check(rc, 'nodeOfRecord');
      return this._u64at(out);
    });
  }

  /**
   * Edges out of / into a node in creation order.
   * @param {{dir?: 'out'|'in'|'both', kind?: number}} [opts]
   */
  neighbors(node, opts = {}) {
    return this._read(() => {
      const core = this._core, L = core.L.edge, s = this._scratch, m = this._m;
      const nid = u64(core, node, 'node id');
      const dir = enumValue(core, core.C.dir, opts.dir, 'dir', core.C.dir.OUT);
      const hasKind = opts.kind !== undefined && opts.kind !== null;
      const kind = hasKind ? u32(core, opts.kind, 'kind', 0) : 0;
      let cap = 64;
      for (;;) {
        const out = s.get('out', 8);
        const pe = s.get('edges', cap * L.size);
        this._check(m._vw_neighbors(this._h, nid, dir, hasKind ? 1 : 0, kind, pe, cap, out), 'neighbors');
        const n = m.HEAPU32[out >> 2];
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
    });
  }

  _reach(p, n) {
    const L = this._core.L.reach, m = this._m;
    const r = new Array(n);
    for (let i = 0; i < n; i++) {
      const b = p + i * L.size;
      r[i] = { node: m.HEAPU64[(b + L.node_id) >> 3], via: m.HEAPU64[(b + L.via_edge) >> 3], depth: m.HEAPU32[(b + L.depth) >> 2] };
    }
    return r;
  }

  /**
   * Breadth-first expansion from seed nodes, ordered by (depth, node id).
   * @param {(number|bigint)[]} seeds
   * @param {{hops?: number, dir?: 'out'|'in'|'both', maxNodes?: number}} [opts]
   */
  expand(seeds, opts = {}) {
    return this._read(() => {
      const core = this._core, s = this._scratch, m = this._m;
      if (!Array.isArray(seeds)) throw errorNamed(core, 'EINVAL', 'seeds must be an array of node ids');
      const seed64 = BigUint64Array.from(seeds.map((x, i) => u64(core, x, `seeds[${i}]`)));
      const hops = u32(core, opts.hops, 'hops', 1);
      const dir = enumValue(core, core.C.dir, opts.dir, 'dir', core.C.dir.OUT);
      const maxNodes = u32(core, opts.maxNodes, 'maxNodes', 1000);
      const out = s.get('out', 8);
      const ps = s.get('seeds', Math.max(1, seed64.length) * 8);
      const pr = s.get('reach', Math.max(1, maxNodes) * core.L.reach.size);
      m.HEAPU64.set(seed64, ps >> 3);
      this._check(m._vw_expand(this._h, ps, seed64.length, hops, dir, maxNodes, pr, maxNodes, out), 'expand');
      return this._reach(pr, Math.min(m.HEAPU32[out >> 2], maxNodes));
    });
  }

  // ---- state

  _statsSync() {
    const L = this._core.L.stats, m = this._m;
    const p = this._scratch.get('stats', L.size);
    this._check(m._vw_stats(this._h, p), 'stats');
    const u = (f) => m.HEAPU64[(p + L[f]) >> 3];
    const w = (f) => m.HEAPU32[(p + L[f]) >> 2];
    return {
      height: Number(u('height')), records: Number(u('records')), nodes: Number(u('nodes')), edges: Number(u('edges')),
      nextRecordId: u('next_record_id'), nextNodeId: u('next_node_id'), nextEdgeId: u('next_edge_id'),
      indexTombstones: Number(u('index_tombstones')), vectorBytes: Number(u('vector_bytes')),
      indexBytes: Number(u('index_bytes')), otherBytes: Number(u('other_bytes')),
      dim: w('dim'), metric: w('metric'), hnswM: w('hnsw_m'), hnswEfConstruction: w('hnsw_ef_construction'),
      hnswEfSearch: w('hnsw_ef_search'),
      index: Object.keys(this._core.C.index).find((k) => this._core.C.index[k] === w('index')).toLowerCase(),
    };
  }

  /** Counters and sizes. */
  stats() {
    return this._read(() => {
      const st = this._statsSync();
      st.metric = Object.keys(this._core.C.metric).find((k) => this._core.C.metric[k] === st.metric).toLowerCase();
      return st;
    });
  }

  _digest(fn, ctx) {
    const p = this._scratch.get('root', 32);
    this._check(fn.call(this._m, this._h, p), ctx);
    return hex(this._m.HEAPU8.subarray(p, p + 32));
  }

  /** The state root: SHA-256 of the canonical logical state, as 64 hex digits. */
  stateRoot() { return this._read(() => this._digest(this._m._vw_state_root, 'stateRoot')); }

  /** SHA-256 over the HNSW graph, as 64 hex digits. */
  indexDigest() { return this._read(() => this._digest(this._m._vw_index_digest, 'indexDigest')); }

  /** Recomputes the state root and checks every invariant; rejects with ECORRUPT on damage. */
  check() { return this._read(() => { this._check(this._m._vw_check(this._h), 'check'); }); }

  /** The state serialized as a snapshot (load it with Valori.fromSnapshot). */
  snapshot() {
    return this._read(() => {
      const m = this._m, out = this._scratch.get('out', 8);
      this._check(m._vw_snapshot_save(this._h, out, out + 4), 'snapshot');
      const p = m.HEAPU32[out >> 2], n = m.HEAPU32[(out + 4) >> 2];
      const copy = m.HEAPU8.slice(p, p + n);
      m._vw_buffer_free(this._h, p, n);
      return copy;
    });
  }

  /** Writes a snapshot into the store now (persistent databases), so reopening replays less log. */
  checkpoint() {
    if (!this._backend) return this._read(() => undefined);
    return this._write(() => { this._check(this._m._vw_snapshot(this._h), 'checkpoint'); });
  }

  /** Applies one canonically encoded event (as logged and replicated); resolves with the first id it created or 0n. */
  apply(event) {
    try {
      this._live();
      const ev = bytes(this._core, event, 'event');
      if (!ev || !ev.length) throw errorNamed(this._core, 'EINVAL', 'event bytes required');
      return this._write(() => {
        const out = this._scratch.get('out', 8);
        const pe = this._putBytes('event', ev);
        this._check(this._m._vw_apply(this._h, pe, ev.length, out), 'apply');
        return this._u64at(out);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Makes every write so far durable (the only way to do so in relaxed mode before close). */
  flush() {
    if (this._closed) return Promise.reject(errorNamed(this._core, 'ECLOSED', this.path));
    if (this._poison) return Promise.reject(errorNamed(this._core, 'EPOISONED', this._poison.message, this._poison));
    return this._queue.push(() => undefined, true);
  }

  /** Finishes queued writes, makes them durable, releases the store. Errors are reported, not swallowed. */
  async close() {
    if (this._closed) return;
    await this._queue.drain();
    this._closed = true;
    if (this._timer) { clearTimeout(this._timer); this._timer = null; }
    let err = null;
    const rc = this._m._vw_close(this._h);
    if (rc) err = this._err(rc, 'close');
    if (!err && this._backend && !this._poison) {
      try { await this._backend.commit(); } catch (e) { err = vfsError(this._core, e, 'close'); }
    }
    this._scratch.free();
    if (this._vfsId) this._m.valoriVfs.unregister(this._vfsId);
    if (this._backend) this._backend.dispose();
    this._h = 0;
    if (err) throw err;
  }

  get closed() { return this._closed; }

  async [Symbol.asyncDispose]() { await this.close(); }
}

/** Maps a backend failure ({vcode, cause} or a raw error) to a ValoriError. */
function vfsError(core, e, ctx) {
  if (e instanceof ValoriError) return e;
  if (e && typeof e.vcode == 'number') return errorFromCode(core, e.vcode, ctx, e.cause);
  return errorNamed(core, 'EIO', ctx, e);
}

let persistAsked = false;
function requestPersistence() {
  if (persistAsked) return;
  persistAsked = true;
  try {
    if (typeof navigator != 'undefined' && navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().catch(() => undefined);
    }
  } catch { /* best effort: storage stays "best-effort" if refused */ }
}

export default Valori;
