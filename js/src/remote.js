// remote.js: the package's remote face, `Valori.connect(url)`: a database with the embedded
// Valori's methods, arguments, results and errors, whose state lives in a collection of a
// `valori serve` server (docs/HTTP.md is the contract; js/README.md, "Remote databases", the manual).
//
// How it keeps the embedded semantics:
//   - Arguments are taken at call time with the embedded conversions (convert.js: the same type and
//     shape checks, the same copies), so a call gets the same EINVAL/EDIM as embedded and the
//     caller may reuse its buffers at once.
//   - Rules about values stay C's. JSON cannot carry NaN or infinities, and the server decodes a
//     search's fields in another order than valori_search checks them, so the client asks the
//     package's own C core: every remote database keeps an empty in-memory database of the
//     collection's configuration (`scratch`). Searches and expansions run there first (an empty
//     database has no state to check, so what it refuses is refused for a value, in C's order; its
//     ENOTFOUND for unknown seeds is state and ignored). A write that holds a NaN or infinite
//     component (or weight) is one C refuses before it looks at any state (valori.h: every
//     mutation is validated whole before it is applied), so it is made on `scratch`, which answers
//     with C's code and stays empty; nothing is sent. Every other write goes to the server, whose
//     decoders check writes in C's order.
//   - Calls run in call order (`ordered`, the default): a read sees exactly the writes issued
//     before it, runs of consecutive reads go out together, and a write waits for everything
//     issued before it, so ids and results are those the embedded database gives for the same
//     calls. With `ordered: false` every call is sent at once (concurrent writes then share the
//     server's fsyncs, in the order the server receives them).
//   - Writes resolve once the server acknowledged them, which it does only when they are durable.
//     `lastWrite` holds the height and state root the latest acknowledged write reported.
//   - Batches without metadata travel through the binary ingest path (application/vnd.valori.vectors:
//     binary32 rows and u64 tags, the same event as the JSON batch, so NaN and infinities reach C).
//   - setMeta travels as its SET_META event (POST .../events), the event the embedded call writes.
//
// No Node module is used here (fetch only), so the same file runs in browsers and workers.
import { loadCore } from './module.js';
import { ValoriError, errorNamed } from './errors.js';
import {
  u32, u64, u64List, bytesCopy, enumName, optionsOf, insertArgs, batchArgs, updateArgs, searchArgs, expandArgs, nodeArgs,
  edgeArgs, neighborsArgs, consecutiveIds,
} from './convert.js';
import { Transport, parseServerUrl, b64encode, b64decode, VECTORS_TYPE, EVENT_TYPE } from './http.js';

const DEFAULT_COLLECTION = 'default';
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_IN_FLIGHT = 16;
const NEIGHBORS_MAX = 100000; // the server's cap on one neighbours answer (docs/HTTP.md section 9)
const LIST_PAGE = 1000;
const TWO32 = 4294967296;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const noop = () => undefined;
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function hasNonFinite(f32) {
  for (let i = 0; i < f32.length; i++) if (!Number.isFinite(f32[i])) return true;
  return false;
}

/** A u64 from the wire (a string of decimal digits). */
function wireU64(t, v, what) {
  if (typeof v != 'string' || !/^[0-9]{1,20}$/.test(v)) throw t.clientError('EPROTOCOL', `${what}: expected a u64 string, got ${JSON.stringify(v)}`);
  return BigInt(v);
}

function wireNum(t, v, what) {
  if (typeof v != 'number' || !Number.isFinite(v)) throw t.clientError('EPROTOCOL', `${what}: expected a number, got ${JSON.stringify(v)}`);
  return v;
}

/** The describe answer's traversal (docs/HTTP.md): null, or the embedded stats().traversal's shape. */
function wireTraversal(t, v) {
  if (v === null) return null;
  if (typeof v != 'object' || !Array.isArray(v.int8) || v.int8.length !== 2) {
    throw t.clientError('EPROTOCOL', `traversal: expected null or {int8: [lo, hi], shift, center, word}, got ${JSON.stringify(v)}`);
  }
  return { int8: [wireNum(t, v.int8[0], 'traversal.int8'), wireNum(t, v.int8[1], 'traversal.int8')],
    shift: wireNum(t, v.shift, 'traversal.shift'), center: wireNum(t, v.center, 'traversal.center'),
    word: wireNum(t, v.word, 'traversal.word') };
}

function wireRoot(t, v, what) {
  if (typeof v != 'string' || !/^[0-9a-f]{64}$/.test(v)) throw t.clientError('EPROTOCOL', `${what}: expected 64 hex digits`);
  return v;
}

function wireBytes(t, v, what) {
  if (v === null || v === undefined) return null;
  try {
    const b = b64decode(v);
    return b.length ? b : null;
  } catch (e) {
    throw t.clientError('EPROTOCOL', `${what}: not base64`, e);
  }
}

function hitsOf(t, arr) {
  if (!Array.isArray(arr)) throw t.clientError('EPROTOCOL', 'hits: expected an array');
  return arr.map((h) => {
    const raw = BigInt.asIntN(64, BigInt(wireI64(t, h.distance_raw)));
    return { id: wireU64(t, h.id, 'hit id'), distance: Number(raw) / TWO32, distanceRaw: raw };
  });
}

function wireI64(t, v) {
  if (typeof v != 'string' || !/^-?[0-9]{1,19}$/.test(v)) throw t.clientError('EPROTOCOL', `distance_raw: expected an i64 string`);
  return v;
}

function reachOf(t, arr) {
  if (!Array.isArray(arr)) throw t.clientError('EPROTOCOL', 'nodes: expected an array');
  return arr.map((n) => ({ node: wireU64(t, n.node, 'node'), via: wireU64(t, n.via, 'via'), depth: wireNum(t, n.depth, 'depth') }));
}

/** The collection configuration from a describe answer, in the embedded stats' terms. */
function configOf(t, j) {
  const hn = j.hnsw;
  return {
    dim: wireNum(t, j.dim, 'dim'),
    metric: j.metric,
    index: j.index,
    m: hn ? wireNum(t, hn.m, 'hnsw.m') : 0,
    efc: hn ? wireNum(t, hn.ef_construction, 'hnsw.ef_construction') : 0,
    efs: hn ? wireNum(t, hn.ef_search, 'hnsw.ef_search') : 0,
  };
}

/** Describe answer -> CollectionInfo (index.d.ts). */
function infoOf(t, j) {
  return {
    name: j.name,
    dim: wireNum(t, j.dim, 'dim'),
    metric: j.metric,
    index: j.index,
    hnsw: j.hnsw ? { m: j.hnsw.m, efConstruction: j.hnsw.ef_construction, efSearch: j.hnsw.ef_search } : null,
    traversal: j.traversal ?? null, // as stats().traversal (docs/HTTP.md, describe)
    records: wireNum(t, j.records, 'records'),
    nodes: wireNum(t, j.nodes, 'nodes'),
    edges: wireNum(t, j.edges, 'edges'),
    nextRecordId: wireU64(t, j.next_id, 'next_id'),
    height: wireNum(t, j.height, 'height'),
    root: wireRoot(t, j.root, 'root'),
    durableHeight: wireNum(t, j.durable_height, 'durable_height'),
    snapshotHeight: wireNum(t, j.snapshot_height, 'snapshot_height'),
    diskBytes: wireNum(t, j.disk_bytes, 'disk_bytes'),
  };
}

function checkName(core, name) {
  if (typeof name != 'string' || !NAME_RE.test(name)) {
    throw errorNamed(core, 'EINVAL', `collection name ${JSON.stringify(name)}: 1 to 64 characters from A-Z a-z 0-9 _ -, starting with a letter or digit`);
  }
  return name;
}

/** The options of a server handle: token, fetch, timeoutMs, maxInFlight (each checked). */
function transportOptions(core, o) {
  const token = o.token ?? undefined;
  if (token !== undefined && (typeof token != 'string' || !token)) throw errorNamed(core, 'EINVAL', 'token must be a non-empty string');
  const f = o.fetch ?? globalThis.fetch;
  if (typeof f != 'function') throw errorNamed(core, 'EINVAL', 'fetch must be a function (this host has no global fetch)');
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs != 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw errorNamed(core, 'EINVAL', 'timeoutMs must be a positive number');
  }
  const maxInFlight = o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw errorNamed(core, 'EINVAL', 'maxInFlight must be a positive integer');
  return { token, fetch: o.fetch ? o.fetch : (...a) => globalThis.fetch(...a), timeoutMs, maxInFlight };
}

/**
 * A server: its collections, and connections to them. `Valori.server(url, {token, fetch, timeoutMs})`.
 */
export class ValoriServer {
  constructor(core, Valori, base, topts) {
    this._core = core;
    this._Valori = Valori;
    this._t = new Transport(core, base, topts);
    this._topts = topts;
    /** The server's URL (scheme, host, port and path prefix), without a trailing slash. */
    this.url = base;
  }

  /** GET /v1: version, whether tokens are required, limits. */
  async info() {
    const r = await this._t.request('GET', '/v1');
    return r.json;
  }

  /** Every collection, sorted by name: [{name, dim, metric, index, records, height, root}] (an
   * entry the server cannot open has {name, error} instead). */
  async collections() {
    const out = [];
    let after;
    for (let page = 0; page < 1_000_000; page++) {
      const r = await this._t.request('GET', '/v1/collections', { query: { limit: LIST_PAGE, after } });
      const list = r.json.collections;
      if (!Array.isArray(list)) throw this._t.clientError('EPROTOCOL', 'collections: expected an array');
      for (const c of list) {
        out.push(c.error !== undefined ? { name: c.name, error: c.error } : {
          name: c.name, dim: c.dim, metric: c.metric, index: c.index, records: c.records, height: c.height, root: c.root,
        });
      }
      if (r.json.next === null || r.json.next === undefined) return out;
      after = r.json.next;
    }
    throw this._t.clientError('EPROTOCOL', 'collections: the list never ends');
  }

  /** Describes one collection (configuration, counts, heights, root, disk bytes). */
  async describe(name) {
    checkName(this._core, name);
    const r = await this._t.request('GET', `/v1/collections/${name}`);
    return infoOf(this._t, r.json);
  }

  /**
   * Creates a collection. Options as Valori.open's: dim (required), metric, index, hnsw; checked by
   * C first (an in-memory database of that configuration), so bad options get C's codes.
   */
  async createCollection(name, options = {}) {
    const core = this._core;
    checkName(core, name);
    options = optionsOf(core, options, 'createCollection');
    if (!options.dim) throw errorNamed(core, 'EINVAL', `collection '${name}': the dim option is required to create it`);
    const cfg = await this._checkedConfig(options);
    const r = await this._t.request('POST', '/v1/collections', { json: createBody(name, cfg), write: true });
    return infoOf(this._t, r.json);
  }

  /** Deletes a collection (durably; its files are removed). ENOCOLLECTION when there is none. */
  async deleteCollection(name) {
    checkName(this._core, name);
    await this._t.request('DELETE', `/v1/collections/${name}`, { write: true });
  }

  /** Connects to one collection: see Valori.connect. */
  async connect(name, options = {}) {
    const core = this._core;
    options = optionsOf(core, options, 'connect');
    checkName(core, name);
    for (const k of ['path', 'snapshotEvery', 'segmentBytes']) {
      if (options[k] !== undefined) throw errorNamed(core, 'EINVAL', `${k} is not an option of a remote database (the server decides)`);
    }
    const durability = options.durability ?? 'full';
    if (durability !== 'full') throw errorNamed(core, 'EINVAL', "durability: a remote database is always 'full' (the server acknowledges a write once it is durable)");
    const ordered = options.ordered ?? true;
    if (typeof ordered != 'boolean') throw errorNamed(core, 'EINVAL', 'ordered must be true or false');
    const readOnly = !!options.readOnly;
    const create = options.create ?? !readOnly;
    const dim = u32(core, options.dim, 'dim', 0);
    // The options asked for, after C's defaults and with C's checks (EDIM, EINVAL), when dim is given.
    const want = dim ? await this._checkedConfig(options) : null;
    let j;
    try {
      j = (await this._t.request('GET', `/v1/collections/${name}`)).json;
    } catch (e) {
      if (!(e instanceof ValoriError) || e.code !== 'ENOCOLLECTION' || !create) throw e;
      if (!want) {
        throw errorNamed(core, 'EINVAL', `collection '${name}' does not exist at ${this.url}: the dim option is required to create it`);
      }
      try {
        j = (await this._t.request('POST', '/v1/collections', { json: createBody(name, want), write: true })).json;
      } catch (e2) {
        if (!(e2 instanceof ValoriError) || e2.code !== 'EEXIST') throw e2;
        j = await this._created(name); // another client created it meanwhile
      }
    }
    const have = configOf(this._t, j);
    if (want && (want.dim !== have.dim || want.metric !== have.metric || want.index !== have.index || want.m !== have.m
      || want.efc !== have.efc || want.efs !== have.efs)) {
      throw errorNamed(core, 'ECONFIG', `collection '${name}' has dim ${have.dim}, metric ${have.metric}, index ${have.index}` +
        (have.index === 'hnsw' ? ` (m ${have.m}, efConstruction ${have.efc}, efSearch ${have.efs})` : ''));
    }
    const scratch = await this._Valori.open({
      dim: have.dim, metric: have.metric, index: have.index,
      hnsw: have.index === 'hnsw' ? { m: have.m, efConstruction: have.efc, efSearch: have.efs } : undefined,
    });
    return new RemoteValori(this, name, have, scratch, { ordered, readOnly });
  }

  /**
   * The describe answer of a collection another client is creating: the server answers EEXIST to a
   * second create as soon as the first began, and ENOCOLLECTION to reads until it is done, so the
   * read is repeated (backing off) until the collection is there, for at most timeoutMs.
   */
  async _created(name) {
    const until = Date.now() + this._topts.timeoutMs;
    for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
      try {
        return (await this._t.request('GET', `/v1/collections/${name}`)).json;
      } catch (e) {
        if (!(e instanceof ValoriError) || e.code !== 'ENOCOLLECTION' || Date.now() + wait > until) throw e;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** C's verdict on open options, and the configuration after C's defaults: {dim, metric, index, m, efc, efs}. */
  async _checkedConfig(options) {
    const probe = await this._Valori.open({ dim: options.dim, metric: options.metric, index: options.index, hnsw: options.hnsw,
      traversal: options.traversal });
    try {
      const st = await probe.stats();
      return { dim: st.dim, metric: st.metric, index: st.index, m: st.hnswM, efc: st.hnswEfConstruction, efs: st.hnswEfSearch,
        traversal: st.traversal ? { int8: [...options.traversal.int8] } : null };
    } finally {
      await probe.close();
    }
  }
}

function createBody(name, cfg) {
  const body = { name, dim: cfg.dim, metric: cfg.metric, index: cfg.index };
  if (cfg.index === 'hnsw') body.hnsw = { m: cfg.m, ef_construction: cfg.efc, ef_search: cfg.efs };
  if (cfg.traversal) body.traversal = cfg.traversal; // the range as given: the server derives the same word
  return body;
}

/**
 * A database in a collection of a server, with the embedded Valori's methods (index.d.ts,
 * RemoteValori). Made by Valori.connect / ValoriServer.connect.
 */
export class RemoteValori {
  constructor(server, name, cfg, scratch, { ordered, readOnly }) {
    this._srv = server;
    this._core = server._core;
    this._t = server._t;
    this._scratch = scratch;
    this._ordered = ordered;
    this._readOnly = readOnly;
    this._p = `/v1/collections/${name}`;
    this._wbar = Promise.resolve(); // settles when every call issued so far up to the last write has
    this._rbar = this._wbar;        // ... and every read issued since
    this._closing = null;
    this._closed = false;
    this._last = null;
    /** The collection's name. */
    this.collection = name;
    /** The collection's URL (what `path` is for an embedded database). */
    this.path = `${server.url}${this._p}`;
    this.url = this.path;
    this.dim = cfg.dim;
    this.metric = cfg.metric;
    this.index = cfg.index;
    this.readOnly = readOnly;
  }

  /** The server this collection is on. */
  get server() { return this._srv; }

  /** {height, root} that the latest acknowledged write of this database reported, or null. */
  get lastWrite() { return this._last; }

  get closed() { return this._closed; }

  // ---- internals

  _live() { if (this._closing) throw errorNamed(this._core, 'ECLOSED', this.path); }

  _writable() { if (this._readOnly) throw errorNamed(this._core, 'EREADONLY', `${this.path} was connected with readOnly`); }

  /** Queues a read: it runs once every write issued before it settled. */
  _read(fn) {
    const p = this._ordered ? this._wbar.then(fn) : Promise.resolve().then(fn);
    this._rbar = Promise.all([this._rbar, p.catch(noop)]).then(noop);
    return p;
  }

  /** Queues a write: it runs once everything issued before it settled. */
  _write(fn) {
    const p = this._ordered ? Promise.all([this._wbar, this._rbar]).then(fn) : Promise.resolve().then(fn);
    const settled = p.then(noop, noop);
    this._wbar = this._ordered ? settled : Promise.all([this._wbar, settled]).then(noop);
    this._rbar = this._wbar;
    return p;
  }

  /** A write C refuses for a value (a NaN or infinite component): C's code, from `scratch`, nothing sent. */
  async _refused(call) {
    await call(this._scratch);
    throw new Error('valori: internal error: C accepted a write with a non-finite value');
  }

  /** Records an acknowledgement {height, root} (the highest height seen). */
  _ack(j) {
    const height = wireNum(this._t, j.height, 'height');
    const root = wireRoot(this._t, j.root, 'root');
    if (!this._last || height >= this._last.height) this._last = { height, root };
  }

  _post(path, json) { return this._t.request('POST', this._p + path, { json, write: true }); }

  async _writeAck(method, path, opts) {
    const r = await this._t.request(method, this._p + path, { ...opts, write: true });
    this._ack(r.json);
    return r.json;
  }

  _minHeight(opts) {
    if (!opts || opts.minHeight === undefined || opts.minHeight === null) return undefined;
    return u64(this._core, opts.minHeight, 'minHeight').toString();
  }

  _get(path, minHeight, query = {}) {
    return this._t.request('GET', this._p + path, { query: { ...query, min_height: minHeight } });
  }

  /** searchArgs with the mode's name and minHeight (the wire's terms). */
  _searchArgs(query, opts) {
    const core = this._core;
    const a = searchArgs(core, this.dim, query, opts);
    return { ...a, mode: enumName(core.C.search, a.mode), minHeight: this._minHeight(optionsOf(core, opts, 'search')) };
  }

  /** expandArgs with the direction's name. */
  _expandArgs(opts) {
    const x = expandArgs(this._core, opts);
    return { ...x, dir: enumName(this._core.C.dir, x.dir) };
  }

  _searchBody(a) {
    const body = { vector: Array.from(a.q), k: a.k, ef: a.ef, mode: a.mode };
    if (a.tags) body.tags = Array.from(a.tags, String);
    return body;
  }

  // ---- records

  async insert(vector, opts = {}) {
    this._live();
    const { v, tag, meta } = insertArgs(this._core, this.dim, vector, opts);
    this._writable();
    if (hasNonFinite(v)) return this._refused((s) => s.insert(v, { tag, meta }));
    const body = { vector: Array.from(v), tag: String(tag) };
    if (meta && meta.length) body.meta = b64encode(meta);
    return this._write(async () => wireU64(this._t, (await this._writeAck('POST', '/records', { json: body })).id, 'id'));
  }

  async insertBatch(vectors, opts = {}) {
    this._live();
    const { flat, n, tags, metas } = batchArgs(this._core, this.dim, vectors, opts);
    this._writable();
    const withMeta = metas !== null && metas.flat.length > 0;
    let req;
    if (!withMeta) {
      req = { body: vectorsBody(flat, n, this.dim, tags), contentType: VECTORS_TYPE };
    } else {
      if (hasNonFinite(flat)) {
        return this._refused((s) => s.insertBatch(flat, { tags: tags ?? undefined, metas: splitMetas(metas) }));
      }
      const records = new Array(n);
      let off = 0;
      for (let i = 0; i < n; i++) {
        const r = { vector: Array.from(flat.subarray(i * this.dim, (i + 1) * this.dim)) };
        if (tags) r.tag = String(tags[i]);
        const len = metas.lens[i];
        if (len) r.meta = b64encode(metas.flat.subarray(off, off + len));
        off += len;
        records[i] = r;
      }
      req = { json: { records } };
    }
    return this._write(async () => {
      const j = await this._writeAck('POST', '/records/batch', req);
      const first = wireU64(this._t, j.first_id, 'first_id');
      if (j.count !== n) throw this._t.clientError('EPROTOCOL', `batch of ${n}: the server reports ${j.count} records`);
      return consecutiveIds(first, n);
    });
  }

  async delete(id) {
    this._live();
    const rid = u64(this._core, id, 'id');
    this._writable();
    return this._write(async () => { await this._writeAck('DELETE', `/records/${rid}`); });
  }

  async update(id, changes = {}) {
    this._live();
    const U = this._core.C.update;
    const rid = u64(this._core, id, 'id');
    const { fields, vec, tag, meta } = updateArgs(this._core, this.dim, changes);
    this._writable();
    const body = {}, ch = {}; // the wire's fields, and the same change for `scratch`
    if (fields & U.VECTOR) { body.vector = Array.from(vec); ch.vector = vec; }
    if (fields & U.TAG) { body.tag = String(tag); ch.tag = tag; }
    if (fields & U.META) { body.meta = meta && meta.length ? b64encode(meta) : null; ch.meta = meta; }
    if (vec && hasNonFinite(vec)) return this._refused((s) => s.update(rid, ch));
    return this._write(async () => { await this._writeAck('PATCH', `/records/${rid}`, { json: body }); });
  }

  async setMeta(id, meta) {
    this._live();
    const core = this._core;
    const rid = u64(core, id, 'id');
    const b = bytesCopy(core, meta, 'meta');
    this._writable();
    const ev = setMetaEvent(core, rid, b);
    return this._write(async () => {
      await this._writeAck('POST', '/events', { body: ev, contentType: EVENT_TYPE });
    });
  }

  async get(id, opts) {
    this._live();
    const rid = u64(this._core, id, 'id');
    const mh = this._minHeight(optionsOf(this._core, opts, 'get'));
    return this._read(async () => {
      const j = await this._getOrNull(`/records/${rid}`, mh);
      if (!j) return null;
      if (!Array.isArray(j.vector) || j.vector.length !== this.dim) throw this._t.clientError('EPROTOCOL', 'record vector: wrong length');
      return { id: rid, vector: Float32Array.from(j.vector), tag: wireU64(this._t, j.tag, 'tag'), meta: wireBytes(this._t, j.meta, 'meta') };
    });
  }

  /** GET that answers null for ENOTFOUND (a missing record or node), like the embedded reads. */
  async _getOrNull(path, mh) {
    try {
      return (await this._get(path, mh)).json;
    } catch (e) {
      if (e instanceof ValoriError && e.code === 'ENOTFOUND') return null;
      throw e;
    }
  }

  // ---- search

  async search(query, opts = {}) {
    this._live();
    const a = this._searchArgs(query, opts);
    const check = this._scratch.search(a.q, { k: a.k, ef: a.ef, mode: a.mode, tags: a.tags ?? undefined });
    check.catch(noop); // awaited in its turn below
    return this._read(async () => {
      await check; // C's verdict on the arguments (an empty database: values only)
      const r = await this._t.request('POST', `${this._p}/search`, { json: this._searchBody(a), query: { min_height: a.minHeight } });
      return hitsOf(this._t, r.json.hits);
    });
  }

  async searchExpand(query, opts = {}) {
    this._live();
    const a = this._searchArgs(query, opts);
    const x = this._expandArgs(opts);
    const check = this._scratch.searchExpand(a.q, { k: a.k, ef: a.ef, mode: a.mode, tags: a.tags ?? undefined,
      hops: x.hops, dir: x.dir, maxNodes: x.maxNodes });
    check.catch(noop);
    return this._read(async () => {
      await check;
      const body = this._searchBody(a);
      body.expand = { hops: x.hops, dir: x.dir, max_nodes: x.maxNodes };
      const r = await this._t.request('POST', `${this._p}/search`, { json: body, query: { min_height: a.minHeight } });
      return { hits: hitsOf(this._t, r.json.hits), nodes: reachOf(this._t, r.json.nodes) };
    });
  }

  // ---- knowledge graph

  async createNode(opts = {}) {
    this._live();
    const { kind, record, label } = nodeArgs(this._core, opts);
    this._writable();
    const body = { kind };
    if (record) body.record = String(record);
    if (label && label.length) body.label = b64encode(label);
    return this._write(async () => wireU64(this._t, (await this._writeAck('POST', '/nodes', { json: body })).id, 'id'));
  }

  async deleteNode(id) {
    this._live();
    const nid = u64(this._core, id, 'node id');
    this._writable();
    return this._write(async () => { await this._writeAck('DELETE', `/nodes/${nid}`); });
  }

  async createEdge(from, to, opts = {}) {
    this._live();
    const { from: a, to: b, kind, weight } = edgeArgs(this._core, from, to, opts);
    this._writable();
    if (weight !== null && !Number.isFinite(weight)) return this._refused((s) => s.createEdge(a, b, { kind, weight }));
    const body = { from: String(a), to: String(b), kind };
    if (weight !== null) body.weight = weight;
    return this._write(async () => wireU64(this._t, (await this._writeAck('POST', '/edges', { json: body })).id, 'id'));
  }

  async deleteEdge(id) {
    this._live();
    const eid = u64(this._core, id, 'edge id');
    this._writable();
    return this._write(async () => { await this._writeAck('DELETE', `/edges/${eid}`); });
  }

  async getNode(id, opts) {
    this._live();
    const nid = u64(this._core, id, 'node id');
    const mh = this._minHeight(optionsOf(this._core, opts, 'getNode'));
    return this._read(async () => {
      const j = await this._getOrNull(`/nodes/${nid}`, mh);
      if (!j) return null;
      return { id: nid, record: j.record === null ? null : wireU64(this._t, j.record, 'record'), kind: wireNum(this._t, j.kind, 'kind'),
        label: wireBytes(this._t, j.label, 'label') };
    });
  }

  async nodeOfRecord(recordId, opts) {
    this._live();
    const rid = u64(this._core, recordId, 'record id');
    const mh = this._minHeight(optionsOf(this._core, opts, 'nodeOfRecord'));
    return this._read(async () => {
      const j = await this._getOrNull(`/records/${rid}`, mh);
      return j && j.node !== null ? wireU64(this._t, j.node, 'node') : null;
    });
  }

  async neighbors(node, opts = {}) {
    this._live();
    const core = this._core;
    const na = neighborsArgs(core, node, opts);
    const nid = na.node, dir = enumName(core.C.dir, na.dir), kind = na.kind ?? undefined;
    const mh = this._minHeight(optionsOf(core, opts, 'neighbors'));
    return this._read(async () => {
      let limit = 1000;
      for (let attempt = 0; attempt < 4; attempt++) {
        const j = (await this._get(`/nodes/${nid}/neighbors`, mh, { dir, kind, limit })).json;
        const total = wireNum(this._t, j.total, 'total');
        if (!Array.isArray(j.edges)) throw this._t.clientError('EPROTOCOL', 'edges: expected an array');
        if (total <= j.edges.length) {
          return j.edges.map((e) => ({ id: wireU64(this._t, e.id, 'edge id'), from: wireU64(this._t, e.from, 'from'),
            to: wireU64(this._t, e.to, 'to'), kind: wireNum(this._t, e.kind, 'kind'), weight: e.weight === null ? null : wireNum(this._t, e.weight, 'weight') }));
        }
        if (total > NEIGHBORS_MAX) {
          throw errorNamed(core, 'ETOOBIG', `node ${nid} has ${total} matching edges; a server answers at most ${NEIGHBORS_MAX} (docs/HTTP.md)`);
        }
        limit = total; // more edges than asked for: once more with room for all of them
      }
      throw this._t.clientError('EPROTOCOL', `neighbors of node ${nid}: the edge count keeps changing`);
    });
  }

  async expand(seeds, opts = {}) {
    this._live();
    const s = u64List(this._core, seeds, 'seeds');
    const x = this._expandArgs(opts);
    const mh = this._minHeight(optionsOf(this._core, opts, 'expand'));
    // C's verdict on the arguments; its ENOTFOUND (the empty database has no such node) is state.
    const check = this._scratch.expand(s, { hops: x.hops, dir: x.dir, maxNodes: x.maxNodes })
      .catch((e) => { if (e instanceof ValoriError && e.code === 'ENOTFOUND') return undefined; throw e; });
    check.catch(noop);
    return this._read(async () => {
      await check;
      const r = await this._t.request('POST', `${this._p}/expand`, {
        json: { seeds: Array.from(s, String), hops: x.hops, dir: x.dir, max_nodes: x.maxNodes }, query: { min_height: mh } });
      return reachOf(this._t, r.json.nodes);
    });
  }

  // ---- state

  /**
   * The embedded stats' fields, from the server's describe (docs/HTTP.md, section 5). An older server
   * without nextNodeId, nextEdgeId, indexTombstones, the three byte counts and traversal gives them
   * as null.
   */
  async stats(opts) {
    this._live();
    const mh = this._minHeight(optionsOf(this._core, opts, 'stats'));
    return this._read(async () => {
      const j = (await this._get('', mh)).json;
      const t = this._t, cfg = configOf(t, j);
      const opt = (k, f) => (j[k] === undefined ? null : f(t, j[k], k));
      return {
        height: wireNum(t, j.height, 'height'), records: wireNum(t, j.records, 'records'), nodes: wireNum(t, j.nodes, 'nodes'),
        edges: wireNum(t, j.edges, 'edges'), nextRecordId: wireU64(t, j.next_id, 'next_id'),
        nextNodeId: opt('next_node_id', wireU64), nextEdgeId: opt('next_edge_id', wireU64),
        indexTombstones: opt('index_tombstones', wireNum), vectorBytes: opt('vector_bytes', wireNum),
        indexBytes: opt('index_bytes', wireNum), otherBytes: opt('other_bytes', wireNum),
        dim: cfg.dim, metric: cfg.metric, hnswM: cfg.m, hnswEfConstruction: cfg.efc, hnswEfSearch: cfg.efs, index: cfg.index,
        traversal: opt('traversal', wireTraversal),
      };
    });
  }

  async _state(mh) { return (await this._get('/state', mh)).json; }

  async stateRoot(opts) {
    this._live();
    const mh = this._minHeight(optionsOf(this._core, opts, 'stateRoot'));
    return this._read(async () => wireRoot(this._t, (await this._state(mh)).root, 'root'));
  }

  async indexDigest(opts) {
    this._live();
    const mh = this._minHeight(optionsOf(this._core, opts, 'indexDigest'));
    return this._read(async () => wireRoot(this._t, (await this._state(mh)).index_digest, 'index_digest'));
  }

  /** The server's verify: the live state (every invariant, the root from scratch) and the files. */
  async check() {
    this._live();
    return this._read(async () => { await this._t.request('POST', `${this._p}/verify`); });
  }

  /**
   * The state as engine snapshot bytes (what embedded snapshot() returns; Valori.fromSnapshot loads
   * them): the payload of the collection's newest snapshot file, after a checkpoint when that one
   * is older than the collection's height (which needs a write token).
   */
  async snapshot(opts) {
    this._live();
    const mh = this._minHeight(optionsOf(this._core, opts, 'snapshot'));
    return this._read(async () => {
      const st = await this._state(mh);
      const h = wireNum(this._t, st.height, 'height');
      if (wireNum(this._t, st.snapshot_height, 'snapshot_height') < h || h === 0) {
        try {
          await this._t.request('POST', `${this._p}/checkpoint`, { write: true });
        } catch (e) {
          if (e instanceof ValoriError && e.code === 'EFORBIDDEN') {
            e.message = `snapshot(): the newest snapshot (height ${st.snapshot_height}) is older than the collection (height ${h}), ` +
              `and making one needs a write token: ${e.message}`;
          }
          throw e;
        }
      }
      const r = await this._t.request('GET', `${this._p}/snapshot`, { binary: true });
      return snapshotPayload(this._t, r.bytes, h);
    });
  }

  /** A snapshot of the collection written by the server now (shorter recovery, replication bootstrap). */
  async checkpoint() {
    this._live();
    this._writable();
    return this._write(async () => { await this._t.request('POST', `${this._p}/checkpoint`, { write: true }); });
  }

  /** Applies one canonically encoded event (POST .../events); resolves with the first id it created, or 0n. */
  async apply(event) {
    this._live();
    const ev = bytesCopy(this._core, event, 'event');
    if (!ev) throw errorNamed(this._core, 'EINVAL', 'event bytes required');
    this._writable();
    return this._write(async () => {
      try {
        return wireU64(this._t, (await this._writeAck('POST', '/events', { body: ev, contentType: EVENT_TYPE })).id, 'id');
      } catch (e) {
        // The server calls an event that does not decode EBINARY (bad input); C, and so the
        // embedded apply, calls it ECORRUPT.
        if (e instanceof ValoriError && e.code === 'EBINARY') throw errorNamed(this._core, 'ECORRUPT', e.message);
        throw e;
      }
    });
  }

  /** Resolves once every call issued before it settled (writes are durable when acknowledged). */
  async flush() {
    this._live();
    await Promise.all([this._wbar, this._rbar]);
  }

  /** Waits for the calls issued so far, then releases the client's resources (the collection stays). */
  close() {
    if (!this._closing) this._closing = this._close();
    return this._closing;
  }

  async _close() {
    await Promise.all([this._wbar, this._rbar]);
    this._closed = true;
    await this._scratch.close();
  }

  async [Symbol.asyncDispose]() { await this.close(); }

  // ---- collections of the same server

  /** The server's collections (ValoriServer.collections). */
  collections() { return this._srv.collections(); }

  /** Creates another collection on the same server (ValoriServer.createCollection). */
  createCollection(name, options) { return this._srv.createCollection(name, options); }

  /** Deletes a collection of the same server (ValoriServer.deleteCollection). */
  deleteCollection(name) { return this._srv.deleteCollection(name); }

  /** This collection's describe answer (configuration, counts, heights, root, disk bytes). */
  describe() {
    this._live();
    return this._read(() => this._srv.describe(this.collection));
  }
}

/** The binary ingest body (docs/HTTP.md section 7): header, binary32 rows, optional u64 tags. */
function vectorsBody(flat, n, dim, tags) {
  const buf = new ArrayBuffer(24 + flat.length * 4 + (tags ? n * 8 : 0));
  const dv = new DataView(buf);
  dv.setUint8(0, 0x56); dv.setUint8(1, 0x4c); dv.setUint8(2, 0x56); dv.setUint8(3, 0x42); // VLVB
  dv.setUint32(4, 1, true);
  dv.setUint32(8, n, true);
  dv.setUint32(12, dim, true);
  dv.setUint32(16, tags ? 1 : 0, true);
  dv.setUint32(20, 0, true);
  if (LITTLE) new Float32Array(buf, 24, flat.length).set(flat);
  else for (let i = 0; i < flat.length; i++) dv.setFloat32(24 + 4 * i, flat[i], true);
  if (tags) {
    const at = 24 + flat.length * 4;
    for (let i = 0; i < n; i++) dv.setBigUint64(at + 8 * i, tags[i], true);
  }
  return new Uint8Array(buf);
}

/** metasCopy's {flat, lens} back to one Uint8Array (or null) per record, for `scratch`. */
function splitMetas(m) {
  const out = new Array(m.lens.length);
  let off = 0;
  for (let i = 0; i < m.lens.length; i++) {
    out[i] = m.lens[i] ? m.flat.subarray(off, off + m.lens[i]) : null;
    off += m.lens[i];
  }
  return out;
}

/**
 * The SET_META event (docs/FORMAT.md, "Events": u16 opcode | u16 flags | u32 body_len | u64 id |
 * u32 len | bytes), the event valori_set_meta writes. The opcode comes from C's constants.
 */
function setMetaEvent(core, id, meta) {
  const n = meta ? meta.length : 0;
  const buf = new Uint8Array(8 + 12 + n);
  const dv = new DataView(buf.buffer);
  dv.setUint16(0, core.C.op.SET_META, true);
  dv.setUint16(2, 0, true);
  dv.setUint32(4, 12 + n, true);
  dv.setBigUint64(8, id, true);
  dv.setUint32(16, n, true);
  if (n) buf.set(meta, 20);
  return buf;
}

/** The engine snapshot inside a snapshot file (docs/FORMAT.md, "Snapshot file": a 128-byte header). */
function snapshotPayload(t, bytes, minHeight) {
  const magic = [0x56, 0x41, 0x4c, 0x4f, 0x52, 0x53, 0x4e, 0x50]; // VALORSNP
  if (bytes.length < 128 || magic.some((b, i) => bytes[i] !== b)) throw t.clientError('EPROTOCOL', 'snapshot: not a snapshot file (magic VALORSNP)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hsize = dv.getUint32(12, true);
  const height = dv.getBigUint64(40, true);
  const len = dv.getBigUint64(48, true);
  if (hsize !== 128 || BigInt(bytes.length - 128) !== len) throw t.clientError('EPROTOCOL', 'snapshot: header and length disagree');
  if (height < BigInt(minHeight)) throw t.clientError('EPROTOCOL', `snapshot: height ${height} is below the height ${minHeight} it was asked for`);
  return bytes.slice(128);
}

/** The wasm loading options (wasmBinary, locateFile) of a call that may load the core. */
function wasmOptions(o) {
  return o && typeof o == 'object' ? { wasmBinary: o.wasmBinary, locateFile: o.locateFile } : {};
}

/** Loads the core, checks the common options, and returns a ValoriServer. */
export async function openServer(Valori, base, options) {
  const core = await loadCore(wasmOptions(options));
  options = optionsOf(core, options, 'server');
  return new ValoriServer(core, Valori, base, transportOptions(core, options));
}

/** Valori.server(url, options). */
export async function server(Valori, url, options = {}) {
  const u = parseServerUrl(url);
  if (!u || u.collection !== null) {
    const core = await loadCore(wasmOptions(options));
    throw errorNamed(core, 'EINVAL', `server URL must be http(s)://host[:port][/prefix], got ${JSON.stringify(String(url))}`);
  }
  return openServer(Valori, u.base, options);
}

/** Valori.connect(url, options): url may name the collection (.../v1/collections/NAME). */
export async function connect(Valori, url, options = {}) {
  const u = parseServerUrl(url);
  if (!u) {
    const core = await loadCore(wasmOptions(options));
    throw errorNamed(core, 'EINVAL', `URL must be http(s)://host[:port][/prefix][/v1/collections/NAME], got ${JSON.stringify(String(url))}`);
  }
  const srv = await openServer(Valori, u.base, options);
  const core = srv._core;
  const o = optionsOf(core, options, 'connect');
  if (u.collection !== null && o.collection !== undefined && o.collection !== u.collection) {
    throw errorNamed(core, 'EINVAL', `the URL names collection '${u.collection}', the collection option '${o.collection}'`);
  }
  return srv.connect(u.collection ?? o.collection ?? DEFAULT_COLLECTION, o);
}
