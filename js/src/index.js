// index.js: the `valori` npm package: the friendly, promise-based Valori class over the WebAssembly
// core.
//
// Layers (PGlite / SQLite-WASM style), each in its own module:
//   module.js   loads dist/valori.{mjs,wasm} once per realm; constants and struct layouts from C
//   binding.js  the thin typed binding over the wasm ABI (memory, calls, struct reads)
//   convert.js  JS values -> C's types (copies taken at call time; value rules left to C)
//   queue.js    the write queue (group commit)
//   errors.js   ValoriError
//   index.js    this file: options, paths and backends, the Valori class
// The remote face, Valori.connect(url), is remote.js (over http.js): the same methods against a
// collection of a `valori serve` server. The follower face, Valori.follow(url, {path}), is follow.js
// (imported on first use): a read-only database replicating a leader's collection.
// Storage backends are chosen from the path: ':memory:' (default), 'idb://name' (browser IndexedDB,
// backend-idb.js) or a filesystem path / file:// URL (Node, backend-node.js + node-lock.js); they are
// imported lazily so a browser never loads the Node one.
//
// Every method takes what it needs from its arguments when it is called (convert.js copies), queues
// the C call (writes) or waits for the writes queued before it to be applied (reads), and then runs
// it. Writes resolve once durable (group commit, queue.js), or once applied with
// { durability: 'relaxed' }.
import { loadCore } from './module.js';
import { Binding } from './binding.js';
import { ValoriError, errorNamed, vfsError } from './errors.js';
import {
  u32, u64, u64List, bytesCopy, enumValue, enumName, hex, insertArgs, batchArgs, updateArgs, searchArgs,
  expandArgs, nodeArgs, edgeArgs, neighborsArgs, consecutiveIds,
} from './convert.js';
import { WriteQueue } from './queue.js';
import { connect as connectRemote, server as remoteServer, RemoteValori, ValoriServer } from './remote.js';

export { ValoriError, RemoteValori, ValoriServer };

const isNode = typeof process == 'object' && !!process.versions && !!process.versions.node && typeof window == 'undefined';
const RELAXED_COMMIT_MS = 50;

/** Resolves `path` to a backend kind. */
export function parsePath(core, path) {
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

/** The wasm loading options of open() / fromSnapshot(). */
export function wasmOptions(o) {
  return o && typeof o == 'object' ? { wasmBinary: o.wasmBinary, locateFile: o.locateFile } : {};
}

/** Counters and sizes are numbers (exact: the core's counts stay far below 2^53); ids bigints. */
function friendlyStats(C, r) {
  return {
    height: Number(r.height), records: Number(r.records), nodes: Number(r.nodes), edges: Number(r.edges),
    nextRecordId: r.next_record_id, nextNodeId: r.next_node_id, nextEdgeId: r.next_edge_id,
    indexTombstones: Number(r.index_tombstones), vectorBytes: Number(r.vector_bytes),
    indexBytes: Number(r.index_bytes), otherBytes: Number(r.other_bytes),
    dim: r.dim, metric: enumName(C.metric, r.metric), hnswM: r.hnsw_m, hnswEfConstruction: r.hnsw_ef_construction,
    hnswEfSearch: r.hnsw_ef_search, index: enumName(C.index, r.index), traversal: friendlyTraversal(r),
  };
}

/**
 * The recorded traversal word as stats() reports it: null without a compact copy, else the word, its
 * shift s and centre c, and int8: the components the codes -128..127 stand for,
 * (c - 128) * 2^(s-16) .. (c + 127) * 2^(s-16) (exact in a double; [0, 255] for pixels).
 */
function friendlyTraversal(r) {
  if (!r.traversal) return null;
  const scale = 2 ** (r.traversal_shift - 16);
  return {
    int8: [(r.traversal_center - 128) * scale, (r.traversal_center + 127) * scale],
    shift: r.traversal_shift, center: r.traversal_center, word: r.traversal,
  };
}

/**
 * The traversal option -> valori_options.traversal: undefined/null -> 0 (none), { int8: [lo, hi] }
 * -> valori_traversal_int8(lo, hi). Only the shape is checked here; the values are C's to refuse.
 */
function traversalOption(core, t) {
  if (t === undefined || t === null) return 0;
  const shape = 'traversal must be { int8: [lo, hi] } with two numbers';
  if (typeof t != 'object' || Array.isArray(t)) throw errorNamed(core, 'EINVAL', shape);
  const keys = Object.keys(t);
  if (keys.length !== 1 || keys[0] !== 'int8') throw errorNamed(core, 'EINVAL', shape);
  const r = t.int8;
  if (!Array.isArray(r) || r.length !== 2 || typeof r[0] != 'number' || typeof r[1] != 'number') {
    throw errorNamed(core, 'EINVAL', shape);
  }
  return Binding.traversalInt8(core, r[0], r[1]);
}

export class Valori {
  /**
   * Opens or creates a database. See index.d.ts for the options.
   * @returns {Promise<Valori>}
   */
  static async open(options = {}) {
    const core = await loadCore(wasmOptions(options));
    if (options === null || typeof options != 'object') throw errorNamed(core, 'EINVAL', 'options must be an object');
    const { C } = core;
    const where = parsePath(core, options.path);
    const hnsw = options.hnsw ?? {};
    if (typeof hnsw != 'object') throw errorNamed(core, 'EINVAL', 'hnsw must be an object');
    const durability = options.durability ?? 'full';
    if (durability !== 'full' && durability !== 'relaxed') throw errorNamed(core, 'EINVAL', "durability must be 'full' or 'relaxed'");
    const readOnly = !!options.readOnly;
    const create = options.create ?? !readOnly;
    const segDefault = where.kind === 'idb' ? 1 << 20 : 0; // IDB rewrites the tail segment whole per commit
    const o = {
      dim: u32(core, options.dim, 'dim', 0),
      metric: enumValue(core, C.metric, options.metric, 'metric', C.metric.L2),
      index: enumValue(core, C.index, options.index, 'index', C.index.HNSW),
      traversal: traversalOption(core, options.traversal),
      m: u32(core, hnsw.m ?? hnsw.M, 'hnsw.m', 0),
      efc: u32(core, hnsw.efConstruction, 'hnsw.efConstruction', 0),
      efs: u32(core, hnsw.efSearch, 'hnsw.efSearch', 0),
      flags: (create ? C.open.CREATE : 0) | (readOnly ? C.open.READONLY : 0),
      sync: C.sync.RELAXED, // the write queue commits (valori_flush) before it acknowledges
      snapshotEvery: options.snapshotEvery === undefined ? 0n : u64(core, options.snapshotEvery, 'snapshotEvery'),
      segmentBytes: options.segmentBytes === undefined ? BigInt(segDefault) : u64(core, options.segmentBytes, 'segmentBytes'),
    };
    const label = String(options.path ?? ':memory:');

    let backend = null, vfsId = 0;
    try {
      if (where.kind === 'fs') {
        const { NodeFsBackend } = await import('./backend-node.js');
        backend = new NodeFsBackend(core, where.dir);
      } else if (where.kind === 'idb') {
        const { IdbBackend } = await import('./backend-idb.js');
        backend = new IdbBackend(core, where.name);
      }
      if (backend) {
        try {
          await backend.prepare({ create, readOnly, dim: o.dim });
        } catch (e) {
          throw vfsError(core, e, `open ${label}`);
        }
        if (where.kind === 'idb') requestPersistence();
        vfsId = core.m.valoriVfs.register(backend);
      }
      let bind;
      try {
        bind = Binding.open(core, label, o, vfsId, backend);
      } catch (e) {
        // A store says why itself (the open report); an in-memory database is always created.
        if (where.kind === 'memory' && !o.dim && e instanceof ValoriError && e.code === 'EDIM') {
          e.message += ' (the dim option is required to create a database)';
        }
        throw e;
      }
      return new Valori(core, bind, backend, vfsId, { durability, path: label });
    } catch (e) {
      if (vfsId) core.m.valoriVfs.unregister(vfsId);
      if (backend) await backend.dispose();
      throw e;
    }
  }

  /**
   * Connects to a collection of a `valori serve` server: a database with these same methods
   * (remote.js; index.d.ts, RemoteValori). `url` is the server's (http(s)://host[:port][/prefix]) or
   * a collection's (.../v1/collections/NAME).
   * @returns {Promise<RemoteValori>}
   */
  static connect(url, options = {}) {
    return connectRemote(Valori, url, options);
  }

  /**
   * Follows a collection of a `valori serve` leader (follow.js; docs/REPLICATION.md, "The npm
   * package's follower"): a read-only database persisted to `path` (a directory, idb://name or
   * memory) that replicates the leader and proves its state root at every height. `url` is the
   * collection's: http(s)://host:port/v1/collections/NAME.
   * @returns {Promise<import('./follow.js').ValoriFollower>}
   */
  static async follow(url, options = {}) {
    const { follow } = await import('./follow.js');
    return follow(url, options);
  }

  /**
   * A server handle: its collections (list, describe, create, delete) and connect(name).
   * @returns {Promise<ValoriServer>}
   */
  static server(url, options = {}) {
    return remoteServer(Valori, url, options);
  }

  /**
   * Decodes a snapshot (from snapshot()) into a new in-memory database.
   * @param {Uint8Array} snapshotBytes
   * @param {{wasmBinary?: ArrayBuffer|Uint8Array, locateFile?: Function}} [options]
   */
  static async fromSnapshot(snapshotBytes, options = {}) {
    const core = await loadCore(wasmOptions(options));
    const buf = bytesCopy(core, snapshotBytes, 'snapshot');
    if (!buf) throw errorNamed(core, 'EINVAL', 'snapshot bytes required');
    return new Valori(core, Binding.load(core, buf), null, 0, { durability: 'full', path: ':memory:' });
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

  constructor(core, bind, backend, vfsId, info) {
    this._core = core;
    this._b = bind;
    this._backend = backend;
    this._vfsId = vfsId;
    this._relaxed = info.durability === 'relaxed';
    this.path = info.path;
    this._closing = null;
    this._closed = false;
    this._poison = null;
    this._timer = null;
    this._queue = new WriteQueue({
      relaxed: this._relaxed,
      commit: () => this._commit(),
      scheduleCommit: () => this._scheduleCommit(),
    });
    const st = bind.stats();
    this.dim = st.dim;
    this.metric = enumName(core.C.metric, st.metric);
    this.index = enumName(core.C.index, st.index);
  }

  // ---- internals

  /** Throws ECLOSED once close() has begun. */
  _live() { if (this._closing) throw errorNamed(this._core, 'ECLOSED', this.path); }

  _poisoned() { return errorNamed(this._core, 'EPOISONED', this._poison.message, this._poison); }

  /** Queues a write (fn runs later, in order, on values already copied). */
  _write(fn) {
    this._live();
    if (this._poison) throw this._poisoned();
    return this._queue.push(() => {
      if (this._poison) throw this._poisoned();
      return fn();
    });
  }

  /** A read sees exactly the writes queued before it (applied, not necessarily committed). */
  _read(fn) {
    return this._queue.read(() => {
      if (this._closed) throw errorNamed(this._core, 'ECLOSED', this.path);
      return fn();
    });
  }

  async _commit() {
    if (!this._backend) return;
    if (this._poison) throw this._poisoned();
    this._b.flush();
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
      if (!this._closing) this._queue.push(() => undefined, true).catch(() => undefined);
    }, RELAXED_COMMIT_MS);
  }

  // ---- records

  /**
   * Inserts one record. Resolves with its id (bigint) once durable (or applied, if relaxed).
   * @param {Float32Array|number[]} vector
   * @param {{tag?: number|bigint, meta?: Uint8Array|string}} [opts]
   */
  async insert(vector, opts = {}) {
    this._live();
    const { v, tag, meta } = insertArgs(this._core, this.dim, vector, opts);
    return this._write(() => this._b.insert(v, tag, meta));
  }

  /**
   * Inserts records atomically (all or nothing). Resolves with their ids (consecutive bigints).
   * @param {Float32Array[]|Float32Array} vectors an array of vectors, or n*dim floats row-major
   * @param {{tags?: (number|bigint)[], metas?: (Uint8Array|string|null)[]}} [opts]
   */
  async insertBatch(vectors, opts = {}) {
    this._live();
    const { flat, n, tags, metas } = batchArgs(this._core, this.dim, vectors, opts);
    return this._write(() => {
      return consecutiveIds(this._b.insertBatch(n, flat, tags, metas), n);
    });
  }

  /** Deletes a record (and the graph node linked to it). ENOTFOUND if there is none. */
  async delete(id) {
    this._live();
    const rid = u64(this._core, id, 'id');
    return this._write(() => { this._b.delete(rid); });
  }

  /**
   * Changes any of a record's vector, tag and metadata (`meta: null` clears it) as one event,
   * all or nothing (valori_update_record).
   * @param {number|bigint} id
   * @param {{vector?: Float32Array, tag?: number|bigint, meta?: Uint8Array|string|null}} changes
   */
  async update(id, changes = {}) {
    this._live();
    const rid = u64(this._core, id, 'id');
    const { fields, vec, tag, meta } = updateArgs(this._core, this.dim, changes);
    // No field at all is C's to refuse (EINVAL), like every other rule about the values.
    return this._write(() => { this._b.updateRecord(rid, fields, vec, tag, meta); });
  }

  /** Replaces a record's metadata (null or empty clears it). */
  async setMeta(id, meta) {
    this._live();
    const rid = u64(this._core, id, 'id');
    const b = bytesCopy(this._core, meta, 'meta');
    return this._write(() => { this._b.setMeta(rid, b); });
  }

  /**
   * Reads a record, or null when there is none.
   * @returns {Promise<{id: bigint, vector: Float32Array, tag: bigint, meta: Uint8Array|null}|null>}
   */
  async get(id) {
    this._live();
    const rid = u64(this._core, id, 'id');
    return this._read(() => {
      const r = this._b.get(rid, this.dim);
      return r && { id: rid, vector: r.vector, tag: r.tag, meta: r.meta };
    });
  }

  // ---- search

  /**
   * k nearest records, ordered by (distance, id).
   * @returns {Promise<{id: bigint, distance: number, distanceRaw: bigint}[]>}
   */
  async search(query, opts = {}) {
    this._live();
    const a = searchArgs(this._core, this.dim, query, opts);
    return this._read(() => this._b.search(a.q, a.k, a.ef, a.mode, a.tags));
  }

  /**
   * Vector search, then graph expansion around the hits' linked nodes.
   * @returns {Promise<{hits: {id: bigint, distance: number, distanceRaw: bigint}[], nodes: {node: bigint, via: bigint, depth: number}[]}>}
   */
  async searchExpand(query, opts = {}) {
    this._live();
    const a = searchArgs(this._core, this.dim, query, opts);
    const x = expandArgs(this._core, opts);
    return this._read(() => this._b.searchExpand(a.q, a.k, a.ef, a.mode, a.tags, x.hops, x.dir, x.maxNodes));
  }

  // ---- knowledge graph

  /**
   * Creates a node. `record` links it to a record (at most one node per record).
   * @param {{kind?: number, record?: number|bigint, label?: Uint8Array|string}} [opts]
   */
  async createNode(opts = {}) {
    this._live();
    const { kind, record, label } = nodeArgs(this._core, opts);
    return this._write(() => this._b.nodeCreate(kind, record, label));
  }

  /** Deletes a node and every edge into or out of it. */
  async deleteNode(id) {
    this._live();
    const nid = u64(this._core, id, 'node id');
    return this._write(() => { this._b.nodeDelete(nid); });
  }

  /**
   * Creates a directed edge; resolves with its id.
   * @param {{kind?: number, weight?: number}} [opts]
   */
  async createEdge(from, to, opts = {}) {
    this._live();
    const e = edgeArgs(this._core, from, to, opts);
    return this._write(() => this._b.edgeCreate(e.from, e.to, e.kind, e.weight));
  }

  /** Deletes an edge. */
  async deleteEdge(id) {
    this._live();
    const eid = u64(this._core, id, 'edge id');
    return this._write(() => { this._b.edgeDelete(eid); });
  }

  /** Reads a node, or null. */
  async getNode(id) {
    this._live();
    const nid = u64(this._core, id, 'node id');
    return this._read(() => this._b.nodeGet(nid));
  }

  /** The node linked to a record, or null. */
  async nodeOfRecord(recordId) {
    this._live();
    const rid = u64(this._core, recordId, 'record id');
    return this._read(() => this._b.nodeOfRecord(rid));
  }

  /**
   * Edges out of / into a node in creation order.
   * @param {{dir?: 'out'|'in'|'both', kind?: number}} [opts]
   */
  async neighbors(node, opts = {}) {
    this._live();
    const a = neighborsArgs(this._core, node, opts);
    return this._read(() => this._b.neighbors(a.node, a.dir, a.kind));
  }

  /**
   * Breadth-first expansion from seed nodes, ordered by (depth, node id).
   * @param {(number|bigint)[]} seeds
   * @param {{hops?: number, dir?: 'out'|'in'|'both', maxNodes?: number}} [opts]
   */
  async expand(seeds, opts = {}) {
    this._live();
    const s = u64List(this._core, seeds, 'seeds');
    const x = expandArgs(this._core, opts);
    return this._read(() => this._b.expand(s, x.hops, x.dir, x.maxNodes));
  }

  // ---- state

  /** Counters and sizes (see index.d.ts for each field's type). */
  async stats() {
    this._live();
    return this._read(() => friendlyStats(this._core.C, this._b.stats()));
  }

  /** The state root: SHA-256 of the canonical logical state, as 64 hex digits. */
  async stateRoot() {
    this._live();
    return this._read(() => hex(this._b.stateRoot()));
  }

  /** SHA-256 over the HNSW graph, as 64 hex digits. */
  async indexDigest() {
    this._live();
    return this._read(() => hex(this._b.indexDigest()));
  }

  /** Recomputes the state root and checks every invariant; rejects with ECORRUPT on damage. */
  async check() {
    this._live();
    return this._read(() => { this._b.checkState(); });
  }

  /** The state serialized as a snapshot (load it with Valori.fromSnapshot). */
  async snapshot() {
    this._live();
    return this._read(() => this._b.snapshotSave());
  }

  /** Writes a snapshot into the store now (persistent databases), so reopening replays less log. */
  async checkpoint() {
    this._live();
    if (!this._backend) return this._read(() => undefined);
    return this._write(() => { this._b.storeSnapshot(); });
  }

  /** Applies one canonically encoded event; resolves with the first id it created or 0n. */
  async apply(event) {
    this._live();
    const ev = bytesCopy(this._core, event, 'event');
    if (!ev) throw errorNamed(this._core, 'EINVAL', 'event bytes required');
    return this._write(() => this._b.apply(ev));
  }

  /** Makes every write so far durable (the only way to do so in relaxed mode before close). */
  async flush() {
    this._live();
    if (this._poison) throw this._poisoned();
    return this._queue.push(() => undefined, true);
  }

  /** Finishes queued writes, makes them durable, releases the store. Errors are reported, not swallowed. */
  close() {
    if (!this._closing) this._closing = this._close();
    return this._closing;
  }

  async _close() {
    await this._queue.drain();
    this._closed = true;
    if (this._timer) { clearTimeout(this._timer); this._timer = null; }
    let err = this._b.close();
    if (!err && this._backend && !this._poison) {
      try { await this._backend.commit(); } catch (e) { err = vfsError(this._core, e, 'close'); }
    }
    if (this._vfsId) this._core.m.valoriVfs.unregister(this._vfsId);
    if (this._backend) {
      try { await this._backend.dispose(); } catch (e) { err = err || vfsError(this._core, e, 'close'); }
    }
    if (err) throw err;
  }

  get closed() { return this._closed; }

  async [Symbol.asyncDispose]() { await this.close(); }
}

let persistAsked = false;
export function requestPersistence() {
  if (persistAsked) return;
  persistAsked = true;
  try {
    if (typeof navigator != 'undefined' && navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().catch(() => undefined);
    }
  } catch { /* best effort: storage stays "best-effort" if refused */ }
}

export default Valori;
