// follow.js: the npm package's follower, Valori.follow(url, {path, token, ...}) (docs/REPLICATION.md,
// "The npm package's follower"): a read-only Valori that replicates one collection of a native
// leader (`valori serve`) and proves at every height that it holds the leader's state.
//
// Every check is the core's, through wasm: frames are split and checked by valori_frame_decode
// (FrameReader, binding.js), records applied by valori_apply_record (decode, height, chain, the
// engine's would-be root: a mismatch changes nothing), bootstrap by valori_bootstrap, positions by
// valori_position_get. This file is the protocol around them: the stream (fetch with a streaming
// body) or the long poll, reconnects with backoff (100 ms doubling to 5 s, reset by a HELLO), a dead
// connection after three heartbeat intervals without a frame, EHEIGHT -> re-bootstrap, divergence
// (persisted as DIVERGED in the store, like the native follower), status, events and acks.
//
// Durability: records are applied through the database's write queue (queue.js), one queue entry
// per network read, so a commit (fsync in Node, one IndexedDB transaction in a browser) covers every
// record that arrived while the previous commit ran: the embedded database's group commit. The
// height the follower reports (status, 'height' events, acks, minHeight) is the committed one: the
// position the core had when a commit began, taken once that commit has completed (in a browser:
// the IndexedDB transaction's complete event), never the core's live position, which may already
// hold the next batch's records while their commit is in flight (ValoriFollower._commit,
// Replicator.committed). The stream itself resumes after the core's (applied) position.
//
// Storage: the path rules of Valori.open (':memory:', 'idb://name', a directory). A persistent
// follower holds the store's writer lock (flock in Node, a Web Lock in a browser) from follow() to
// close(), across re-bootstraps, so a second follower (or writer) of the same store gets ELOCKED; it
// may still be opened read-only with Valori.open({path, readOnly: true}) (in Node). A re-bootstrap of a
// persistent store writes BOOTSTRAPPING first and removes it last: a crash in between makes the next
// follow() bootstrap again (in IndexedDB the whole replacement is one transaction anyway).
import { Valori, parsePath, wasmOptions, requestPersistence } from './index.js';
import { loadCore } from './module.js';
import { Binding, FrameReader } from './binding.js';
import { ValoriError, errorFromCode, errorNamed, vfsError } from './errors.js';
import { CLIENT_CODES, Transport, parseServerUrl } from './http.js';
import { hex, u64 } from './convert.js';

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
const DEFAULT_HEARTBEAT_MS = 1000;
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_BOOTSTRAP_TIMEOUT_MS = 60_000;
const DEFAULT_ACK_INTERVAL_MS = 1000;
const DEFAULT_WAIT_MS = 2000;
const MAX_WAIT_MS = 30_000;
const POLL_MAX = 1000;
const POLL_WAIT_MS = 10_000;
const MAX_QUEUED_RECORDS = 20_000; // back-pressure: stop reading the network while this many wait
const FOLLOWER_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const DIVERGED_FILE = 'DIVERGED';
const MARKER_FILE = 'BOOTSTRAPPING';
const ZERO = '0'.repeat(64);
// The files of a store (docs/STORAGE.md) and the follower's DIVERGED: what a re-bootstrap replaces.
const STORE_FILE_RE = /^(log-\d+\.vlog|snap-\d+\.vsnap(\.tmp)?|HEAD(\.tmp)?|DIVERGED)$/;
const REASONS = { 1: 'chain', 2: 'root', 3: 'event' };
const WRITES = ['insert', 'insertBatch', 'delete', 'update', 'setMeta', 'createNode', 'deleteNode', 'createEdge',
  'deleteEdge', 'apply'];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const CLIENT_NAMES = new Map(Object.entries(CLIENT_CODES).map(([k, v]) => [v, k]));

/** A transport failure of one connection attempt (kept in lastError, then retried): `code` is a
 * core code number or the client's ECONNECT / EPROTOCOL (http.js). */
function transportError(code, message, cause) {
  const e = new Error(message, cause ? { cause } : undefined);
  e.vcode = code;
  return e;
}

/** Options of Valori.follow, checked. */
function followOptions(core, o) {
  if (o === null || typeof o != 'object') throw errorNamed(core, 'EINVAL', 'options must be an object');
  const num = (v, name, dflt, min = 0) => {
    if (v === undefined || v === null) return dflt;
    if (typeof v != 'number' || !Number.isFinite(v) || v < min) throw errorNamed(core, 'EINVAL', `${name} must be a number >= ${min}`);
    return v;
  };
  const token = o.token ?? undefined;
  if (token !== undefined && (typeof token != 'string' || !token)) throw errorNamed(core, 'EINVAL', 'token must be a non-empty string');
  const followerId = o.followerId ?? undefined;
  if (followerId !== undefined && (typeof followerId != 'string' || !FOLLOWER_ID_RE.test(followerId))) {
    throw errorNamed(core, 'EINVAL', 'followerId must be 1 to 64 characters from A-Z a-z 0-9 . _ : -');
  }
  const transport = o.transport ?? 'stream';
  if (transport !== 'stream' && transport !== 'poll') throw errorNamed(core, 'EINVAL', "transport must be 'stream' or 'poll'");
  const onProgress = o.onProgress ?? undefined;
  if (onProgress !== undefined && typeof onProgress != 'function') throw errorNamed(core, 'EINVAL', 'onProgress must be a function');
  const f = o.fetch ?? globalThis.fetch;
  if (typeof f != 'function') throw errorNamed(core, 'EINVAL', 'fetch must be a function (this host has no global fetch)');
  return {
    token, followerId, transport, onProgress,
    fetch: o.fetch ? o.fetch : (...a) => globalThis.fetch(...a),
    heartbeatMs: num(o.heartbeatMs, 'heartbeatMs', DEFAULT_HEARTBEAT_MS, 1),
    timeoutMs: num(o.timeoutMs, 'timeoutMs', DEFAULT_TIMEOUT_MS, 1),
    bootstrapTimeoutMs: num(o.bootstrapTimeoutMs, 'bootstrapTimeoutMs', DEFAULT_BOOTSTRAP_TIMEOUT_MS, 1),
    ackIntervalMs: num(o.ackIntervalMs, 'ackIntervalMs', DEFAULT_ACK_INTERVAL_MS, 0),
    pollWaitMs: num(o.pollWaitMs, 'pollWaitMs', POLL_WAIT_MS, 0),
    segmentBytes: o.segmentBytes === undefined ? undefined : u64(core, o.segmentBytes, 'segmentBytes'),
    snapshotEvery: o.snapshotEvery === undefined ? undefined : u64(core, o.snapshotEvery, 'snapshotEvery'),
  };
}

/**
 * Valori.follow(url, options): resolves with a ValoriFollower once it has a state to serve (the
 * local store reopened, or the first bootstrap done, retried with backoff for at most
 * bootstrapTimeoutMs), and replicates in the background until close().
 */
export async function follow(url, options = {}) {
  const core = await loadCore(wasmOptions(options));
  const u = parseServerUrl(url);
  if (!u || !u.collection) {
    throw errorNamed(core, 'EINVAL', `follow needs a collection's URL, http(s)://host:port/v1/collections/NAME (got ${url})`);
  }
  const o = followOptions(core, options ?? {});
  const where = parsePath(core, options.path);
  const label = String(options.path ?? ':memory:');
  const rep = new Replicator(core, u.base, u.collection, String(url).replace(/\/+$/, ''), o, where, label);
  try {
    await rep.start();
  } catch (e) {
    await rep.dispose();
    throw e;
  }
  return rep.db;
}

/** The replication of one collection into one local database (the engine behind ValoriFollower). */
class Replicator {
  constructor(core, base, coll, url, o, where, label) {
    this.core = core;
    this.C = core.C;
    this.base = base;
    this.coll = coll;
    this.url = url;
    this.o = o;
    this.where = where;
    this.label = label;
    this.t = new Transport(core, base, { token: o.token, fetch: o.fetch, timeoutMs: o.timeoutMs, maxInFlight: 4 });
    this.prefix = `/v1/collections/${encodeURIComponent(coll)}/replication`;
    this.backend = null;
    this.vfsId = 0;
    this.db = null;
    this.state = 'catching-up';
    this.pos = null; // the reported position: { height, root, chain } (hex), = this.durable
    this.durable = null; // the position the last completed commit covers (hex)
    this.leaderHeight = 0;
    this.connected = false;
    this.lastError = null;
    this.diverged = null;
    this.heartbeatMs = o.heartbeatMs;
    this.lastFrameAt = 0;
    this.seen = []; // [leader height, when first heard] pairs above the durable height (lagSeconds)
    this.bootstraps = 0;
    this.reconnects = 0;
    this.connects = 0;
    this.recordsApplied = 0;
    this.listeners = new Map();
    this.waiters = new Set(); // minHeight waits
    this.stopping = false;
    this.ctl = null; // the open request's AbortController
    this.wakeup = null;
    this.needBootstrap = false;
    this.rebootstrapAsked = false;
    this.paused = false;
    this.halt = null; // set by a queued apply that must stop the stream (diverged, transport error)
    this.queued = 0;
    this.ackTimer = null;
    this.ackedHeight = -1;
    this.reader = new FrameReader(core);
    this.loop = null;
  }

  // ---- start, storage

  async start() {
    const { core, where } = this;
    const persistent = where.kind !== 'memory';
    if (persistent) {
      if (where.kind === 'fs') {
        const { NodeFsBackend } = await import('./backend-node.js');
        this.backend = new NodeFsBackend(core, where.dir);
      } else {
        const { IdbBackend } = await import('./backend-idb.js');
        this.backend = new IdbBackend(core, where.name);
      }
      // The writer lock is the follower's from now to close(): the core's unlock (when a store is
      // closed for a re-bootstrap) must not release it; dispose() does.
      this.backend.unlock = () => {};
      try {
        await this.backend.prepare({ create: true, readOnly: false, dim: 1 });
      } catch (e) {
        throw vfsError(core, e, `follow ${this.label}`);
      }
      if (where.kind === 'idb') requestPersistence();
      this.vfsId = core.m.valoriVfs.register(this.backend);
    }
    let bind = persistent ? this.openLocal() : null;
    if (!bind) bind = await this.firstBootstrap();
    // what the store holds: reopened from storage (IndexedDB: loaded by prepare()), or the first
    // bootstrap, committed before firstBootstrap() returned
    this.durable = hexPosition(bind.position());
    this.db = new ValoriFollower(core, bind, this.backend, this.vfsId, { durability: 'full', path: this.label }, this);
    this.updatePosition(false);
    if (this.diverged) this.setState('diverged');
    else this.setState(this.state === 'bootstrapping' ? 'catching-up' : this.state);
    this.loop = this.run();
  }

  files() { return this.backend.list(); }

  /** Reopens the local store, or null when it has none (or an unfinished bootstrap). */
  openLocal() {
    const names = this.files();
    if (names.includes(MARKER_FILE) || !names.some((n) => n === 'HEAD' || /\.vlog$/.test(n))) return null;
    const C = this.C;
    const bind = Binding.open(this.core, this.label, {
      dim: 0, metric: C.metric.L2, index: C.index.HNSW, m: 0, efc: 0, efs: 0, traversal: 0, flags: 0, sync: C.sync.RELAXED,
      snapshotEvery: this.snapshotEvery(), segmentBytes: this.segmentBytes(),
    }, this.vfsId, this.backend);
    if (names.includes(DIVERGED_FILE)) {
      try {
        const d = JSON.parse(decoder.decode(this.readFile(DIVERGED_FILE)));
        this.diverged = { height: d.height, reason: d.reason, expected: d.expected, actual: d.actual, message: d.message };
      } catch {
        this.diverged = { height: bind.position().height, reason: 'history', expected: ZERO, actual: ZERO,
          message: `${DIVERGED_FILE} is present but unreadable: re-bootstrap to clear it` };
      }
    }
    return bind;
  }

  snapshotEvery() { return this.o.snapshotEvery === undefined ? 0n : BigInt(this.o.snapshotEvery); }
  segmentBytes() {
    if (this.o.segmentBytes !== undefined) return BigInt(this.o.segmentBytes);
    return BigInt(this.where.kind === 'idb' ? 1 << 20 : 0);
  }

  readFile(name) {
    const b = this.backend, fh = b.open(name, 0);
    try {
      const out = new Uint8Array(b.size(fh));
      b.read(fh, 0, out);
      return out;
    } finally { b.close(fh); }
  }

  writeFile(name, bytes) {
    const b = this.backend, F = this.C.vfs;
    const fh = b.open(name, F.WRITE | F.CREATE | F.TRUNC);
    try {
      b.write(fh, 0, bytes);
      b.sync(fh);
    } finally { b.close(fh); }
    b.syncDir();
  }

  removeFile(name) {
    if (!this.files().includes(name)) return;
    this.backend.remove(name);
    this.backend.syncDir();
  }

  /** The first bootstrap (no local state): retried with backoff for at most bootstrapTimeoutMs. */
  async firstBootstrap() {
    const t0 = Date.now();
    let wait = BACKOFF_MIN_MS;
    for (;;) {
      try {
        let bytes = await this.download();
        const n = bytes.length;
        this.progress('check', n, n);
        const bind = this.install(null, bytes);
        bytes = null; // the download's buffer is garbage from here: not held through the commit
        if (this.backend) {
          this.progress('store', n, n);
          try {
            await this.backend.commit();
          } catch (e) {
            // the database is closed before the retry: left open, each retry kept one more engine
            // in the heap until the next bootstrap failed with ENOMEM in place of this error
            bind.close();
            throw e;
          }
        }
        return bind;
      } catch (e) {
        this.noteError(e);
        if (this.stopping) throw errorNamed(this.core, 'ECLOSED', this.label);
        if (Date.now() - t0 + wait > this.o.bootstrapTimeoutMs) {
          throw this.asValoriError(e, `follow ${this.url}: no bootstrap within ${this.o.bootstrapTimeoutMs} ms`);
        }
        await sleep(wait);
        wait = Math.min(wait * 2, BACKOFF_MAX_MS);
      }
    }
  }

  /** GET .../replication/snapshot: the file's bytes, with the headers' position kept for checking. */
  async download() {
    this.setState('bootstrapping');
    const onProgress = this.o.onProgress ? (n, total) => this.progress('download', n, total) : undefined;
    const r = await this.t.request('GET', `${this.prefix}/snapshot`, { binary: true, onProgress });
    const want = {
      height: r.headers.get('x-valori-height'), root: r.headers.get('x-valori-root'), chain: r.headers.get('x-valori-chain'),
    };
    const bytes = r.bytes;
    bytes.want = want;
    return bytes;
  }

  /** Tells options.onProgress where a bootstrap is: 'download' (bytes so far of total, total null
   * when the leader sent no Content-Length), 'check' (the core checks the file whole), 'store'. */
  progress(phase, bytes, total) {
    if (!this.o.onProgress) return;
    try { this.o.onProgress({ phase, bytes, total }); } catch (e) { queueMicrotask(() => { throw e; }); }
  }

  /** valori_bootstrap of `bytes` (vfsId 0: in memory), checked against the response's headers. A
   * refused file (damaged in transit) is a transport error: retried with backoff. */
  bootstrapInto(vfsId, bytes) {
    const C = this.C;
    const o = { sync: C.sync.RELAXED, snapshotEvery: this.snapshotEvery(), segmentBytes: this.segmentBytes() };
    let bind;
    try {
      bind = Binding.bootstrap(this.core, this.label, o, vfsId, vfsId ? this.backend : null, bytes);
    } catch (e) {
      throw transportError(e.errno ?? C.codes.ECORRUPT, `the leader's snapshot was refused: ${e.message}`, e);
    }
    const p = bind.position();
    const w = bytes.want || {};
    if ((w.height != null && String(p.height) !== w.height) || (w.root && hex(p.root) !== w.root.toLowerCase()) ||
        (w.chain && hex(p.chain) !== w.chain.toLowerCase())) {
      bind.close();
      throw transportError(C.codes.ECORRUPT, 'the snapshot does not match its X-Valori-Height/Root/Chain headers');
    }
    return bind;
  }

  /**
   * Builds the new local database from a snapshot file in place of `old` (null at the first
   * bootstrap). Synchronous: run inside the write queue when a database exists, so reads see the
   * old state or the new one. When replacing a persistent store, the file is first loaded in memory
   * (every check of valori_bootstrap), so a refused file leaves the old copy as it was; should the
   * store then fail to be written (EIO, ENOSPC), the in-memory copy serves the reads and
   * `this.staged` holds the error (the caller retries the bootstrap).
   */
  install(old, bytes) {
    this.staged = null;
    let fresh = null;
    if (old || !this.backend) fresh = this.bootstrapInto(0, bytes);
    if (!this.backend) {
      if (old) old.close();
      return this.installed(fresh);
    }
    this.writeFile(MARKER_FILE, new Uint8Array(0));
    if (old) {
      const err = old.close();
      if (err && err.code !== 'EPOISONED') this.noteError(err);
    }
    let bind;
    try {
      for (const n of this.files()) if (STORE_FILE_RE.test(n)) this.backend.remove(n);
      this.backend.syncDir();
      bind = this.bootstrapInto(this.vfsId, bytes);
    } catch (e) {
      // the marker stays: the next follow() bootstraps again
      if (!fresh) throw e;
      this.staged = e;
      return fresh;
    }
    if (fresh) fresh.close();
    this.removeFile(MARKER_FILE);
    return this.installed(bind);
  }

  installed(bind) {
    this.bootstraps++;
    this.diverged = null;
    this.needBootstrap = false;
    this.reader.reset();
    return bind;
  }

  /** A bootstrap in place of the current database (EHEIGHT from the leader, or rebootstrap()). */
  async rebootstrap() {
    const bytes = await this.download();
    const db = this.db;
    await db._queue.push(() => {
      db._b = this.install(db._b, bytes);
      db._poison = null;
    }, true);
    this.seen = [];
    this.updatePosition(true);
    if (this.staged) {
      this.needBootstrap = true;
      throw this.staged;
    }
  }

  // ---- the loop

  async run() {
    let wait = BACKOFF_MIN_MS;
    while (!this.stopping) {
      let hello = false;
      try {
        if (this.rebootstrapAsked) {
          this.rebootstrapAsked = false;
          this.needBootstrap = true;
        }
        if (this.diverged) {
          this.setState('diverged');
          await this.idle(0);
          continue;
        }
        if (this.paused) {
          this.refreshState();
          await this.idle(0);
          continue;
        }
        if (this.db._poison) await this.reopen();
        if (this.needBootstrap) await this.rebootstrap();
        hello = await (this.o.transport === 'poll' ? this.pollOnce() : this.streamOnce());
      } catch (e) {
        hello = !!(e && e.hello);
        if (this.stopping) break;
        if (!this.rebootstrapAsked) this.handleFailure(e); // else: the request rebootstrap() aborted
      }
      this.connected = false;
      if (this.stopping) break;
      if (this.diverged || this.paused) continue;
      this.refreshState();
      if (hello) wait = BACKOFF_MIN_MS;
      if (this.needBootstrap || this.rebootstrapAsked) continue;
      await this.idle(wait);
      wait = Math.min(wait * 2, BACKOFF_MAX_MS);
    }
  }

  /** Sleeps ms (0: until woken), or until close() or rebootstrap() wakes the loop. */
  idle(ms) {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.wakeup = null; resolve(); };
      const timer = ms ? setTimeout(done, ms) : null;
      this.wakeup = done;
    });
  }

  wake() { if (this.wakeup) this.wakeup(); }

  handleFailure(e) {
    const C = this.C.codes;
    if (this.paused) return; // the connection pause() closed
    if (e instanceof ValoriError && e.status === 409 && e.code === 'EHEIGHT') {
      this.needBootstrap = true; // compacted behind a snapshot: not divergence
      this.noteError(e);
      return;
    }
    if (e instanceof ValoriError && e.status === 409 && e.code === 'EDIVERGED') {
      const { height: h, chain } = this.applied(); // the position the request named
      this.diverge({ height: h, reason: 'history', expected: e.chain || ZERO, actual: chain,
        message: `the leader's history does not contain this follower's position (height ${h}): ${e.message}` });
      return;
    }
    if (e && e.vcode === C.EDIVERGED) return; // already recorded by diverge()
    this.noteError(e);
  }

  /** The name of a server code number (GET /v1/constants of the leader), or EIO. */
  async serverCodeName(n) {
    try {
      if (!this.t.serverCodes) this.t.serverCodes = await this.t.loadServerCodes();
      for (const [k, v] of this.t.serverCodes) if (v === n) return k;
    } catch { /* not known */ }
    return 'EIO';
  }

  /** The symbolic name of a transport error's code (core, server or client). */
  codeOf(e) {
    if (e instanceof ValoriError) return e.code;
    if (e && e.codeName) return e.codeName;
    if (e && typeof e.vcode == 'number') return CLIENT_NAMES.get(e.vcode) || this.core.names.get(e.vcode) || 'EIO';
    return 'ECONNECT';
  }

  noteError(e) {
    this.lastError = { code: this.codeOf(e), message: String((e && e.message) || e) };
  }

  asValoriError(e, ctx) {
    if (e instanceof ValoriError) { e.message = `${ctx}: ${e.message}`; return e; }
    const code = this.codeOf(e);
    const errno = this.C.codes[code] ?? CLIENT_CODES[code] ?? (e && typeof e.vcode == 'number' ? e.vcode : -1);
    // a backend's failure is {vcode, cause, detail}: its message is the detail or the cause's
    const msg = e && (e.message || e.detail || (e.cause && (e.cause.message || String(e.cause))));
    return new ValoriError(code, errno, `${ctx}: ${msg || (typeof e.vcode == 'number' ? code : e)}`, { cause: (e && e.cause) || e });
  }

  /** A poisoned local store (a failed commit): reopened from its files (recovery). */
  async reopen() {
    const db = this.db;
    db._b.close();
    if (this.backend) {
      if (this.vfsId) this.core.m.valoriVfs.unregister(this.vfsId);
      await this.backend.dispose();
      const Backend = this.backend.constructor;
      this.backend = new Backend(this.core, this.where.kind === 'fs' ? this.where.dir : this.where.name);
      this.backend.unlock = () => {};
      await this.backend.prepare({ create: true, readOnly: false, dim: 1 });
      this.vfsId = this.core.m.valoriVfs.register(this.backend);
      db._backend = this.backend;
      db._vfsId = this.vfsId;
    }
    const bind = this.backend ? this.openLocal() : null;
    if (!bind) { this.needBootstrap = true; throw transportError(this.C.codes.EPOISONED, 'the local store failed a commit and must bootstrap again'); }
    db._b = bind;
    db._poison = null;
    this.durable = hexPosition(bind.position()); // what storage holds: the reopened files
    this.updatePosition(true);
  }

  headers() {
    const h = { Accept: 'application/vnd.valori.stream' };
    if (this.o.token) h.Authorization = `Bearer ${this.o.token}`;
    if (this.o.followerId) h['X-Valori-Follower'] = this.o.followerId;
    return h;
  }

  /** Opens GET path?query; resolves the Response (2xx) or throws the server's error. */
  async open(path, query, ctl, timeoutMs) {
    const url = `${this.base}${this.prefix}/${path}?${query}`;
    const timer = setTimeout(() => ctl.abort(), timeoutMs);
    let res;
    try {
      res = await this.o.fetch(url, { method: 'GET', headers: this.headers(), signal: ctl.signal, redirect: 'error' });
    } catch (e) {
      throw transportError(CLIENT_CODES.ECONNECT, `GET ${path}: cannot reach ${this.base} (${(e && e.cause && e.cause.code) || (e && e.message) || e})`, e);
    } finally {
      clearTimeout(timer);
    }
    if (res.ok) return res;
    const bytes = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
    let j = null;
    try { j = JSON.parse(decoder.decode(bytes)); } catch { /* not JSON */ }
    const e = j && j.error;
    if (!e || typeof e.code != 'string') throw transportError(CLIENT_CODES.EPROTOCOL, `GET ${path}: HTTP ${res.status} without a Valori error body`);
    const err = new ValoriError(e.code, await this.t.errnoOf(e.code), `GET ${path}: ${e.message}`);
    err.status = res.status;
    if (typeof e.chain == 'string') err.chain = e.chain;
    throw err;
  }

  /** The core's position: the records applied (committed or not): where the stream goes on. */
  applied() { return hexPosition(this.db._b.position()); }

  query() {
    const p = this.applied();
    return `from=${p.height + 1}&chain=${p.chain}`;
  }

  /** One stream: resolves true when a HELLO was received (the backoff restarts), false otherwise. */
  async streamOnce() {
    await this.db._queue.drain(); // resume from the durable position
    if (this.db._poison) throw this.db._poisoned();
    this.updatePosition(true);
    // rebootstrap() asked while the queue drained found no request to abort: the loop acts on it now
    // (no await between this check and this.ctl, so a later ask aborts this stream)
    if (this.rebootstrapAsked) return false;
    const ctl = new AbortController();
    this.ctl = ctl;
    this.halt = null;
    this.reader.reset();
    const from = this.applied().height + 1;
    const res = await this.open('stream', this.query(), ctl, this.o.timeoutMs);
    const st = { from, hello: false, ctl };
    let dead = null;
    const arm = () => {
      clearTimeout(dead);
      dead = setTimeout(() => { st.dead = true; ctl.abort(); }, 3 * this.heartbeatMs);
    };
    arm();
    const body = res.body.getReader();
    try {
      for (;;) {
        let r;
        try {
          r = await body.read();
        } catch (e) {
          if (this.halt) throw this.halt;
          if (this.stopping || this.paused || this.rebootstrapAsked) return st.hello;
          if (st.dead) throw transportError(this.C.codes.EIO, `no frame from the leader for ${3 * this.heartbeatMs} ms: reconnecting`);
          throw transportError(CLIENT_CODES.ECONNECT, `the stream broke: ${(e && e.message) || e}`, e);
        }
        if (r.done) throw transportError(this.C.codes.EIO, 'the leader ended the stream');
        const frames = this.reader.push(r.value);
        await this.frames(frames, st);
        if (frames.length) arm();
        if (this.halt) throw this.halt;
        if (this.stopping) return st.hello;
        if (this.queued > MAX_QUEUED_RECORDS) await this.db._queue.drain();
      }
    } catch (e) {
      e.hello = st.hello;
      throw e;
    } finally {
      clearTimeout(dead);
      try { ctl.abort(); } catch { /* closed */ }
      this.ctl = null;
      this.connected = false;
    }
  }

  /** Long polls until one fails: resolves like streamOnce. */
  async pollOnce() {
    let hello = false;
    for (;;) {
      await this.db._queue.drain();
      if (this.db._poison) throw this.db._poisoned();
      this.updatePosition(true);
      if (this.rebootstrapAsked) return hello; // as in streamOnce
      const ctl = new AbortController();
      this.ctl = ctl;
      this.halt = null;
      const st = { from: this.applied().height + 1, hello: false, ctl, poll: true };
      const wait = Math.min(this.o.pollWaitMs, MAX_WAIT_MS);
      try {
        const res = await this.open('log', `${this.query()}&max=${POLL_MAX}&wait_ms=${wait}`, ctl, wait + this.o.timeoutMs);
        let bytes;
        try {
          bytes = new Uint8Array(await res.arrayBuffer());
        } catch (e) {
          throw transportError(CLIENT_CODES.ECONNECT, `the long poll broke: ${(e && e.message) || e}`, e);
        }
        const reader = new FrameReader(this.core);
        try {
          await this.frames(reader.push(bytes), st);
          if (reader.pending.length) throw transportError(this.C.codes.ECORRUPT, 'the long poll ended inside a frame');
        } finally { reader.free(); }
        if (this.halt) throw this.halt;
      } finally {
        this.ctl = null;
      }
      hello = hello || st.hello;
      if (this.stopping || this.needBootstrap || this.diverged || this.paused) return hello;
    }
  }

  /** Handles decoded frames: HELLO and HEARTBEAT at once, RECORDs queued as one apply. */
  async frames(frames, st) {
    const F = this.C.frame;
    const recs = [];
    for (const f of frames) {
      this.lastFrameAt = Date.now();
      if (!st.hello && f.type !== F.HELLO) throw transportError(this.C.codes.ECORRUPT, 'the stream does not start with HELLO: reconnecting');
      if (f.type === F.HELLO) {
        if (st.hello || f.from !== st.from) throw transportError(this.C.codes.ECORRUPT, 'an unexpected HELLO: reconnecting');
        const s = this.db._b.stats();
        const mine = [s.dim, s.metric, s.hnsw_m, s.hnsw_ef_construction, s.hnsw_ef_search];
        if (mine.some((v, i) => v !== f.config[i])) {
          this.diverge({ height: this.pos.height, reason: 'config', expected: ZERO, actual: ZERO,
            message: "the leader's collection has another configuration than this copy" });
          throw transportError(this.C.codes.EDIVERGED, 'diverged');
        }
        st.hello = true;
        this.heartbeatMs = f.heartbeatMs || DEFAULT_HEARTBEAT_MS;
        // a new connection (a long poll's HELLO repeats on one: counted once per pollOnce)
        if (!st.poll || !this.connected) {
          if (this.connects++ > 0) this.reconnects++;
        }
        this.connected = true;
        this.lastError = null;
        this.heard(f.leaderHeight);
        this.scheduleAck(); // the leader learns this follower's height at every connection
      } else if (f.type === F.HEARTBEAT) {
        this.heard(f.leaderHeight);
      } else if (f.type === F.RECORD) {
        recs.push(f.data);
      } else if (f.type === F.ERROR) {
        const e = transportError(f.code, `the leader ended the stream: ${decoder.decode(f.data)}`);
        e.codeName = this.core.names.get(f.code) || await this.serverCodeName(f.code); // EUNAVAILABLE...
        throw e;
      }
    }
    if (recs.length) this.applyQueued(recs);
    this.refreshState();
  }

  /** Queues the records' apply (one queue entry, joining a group commit); the commit's completion
   * moves the reported position (committed()). */
  applyQueued(recs) {
    const db = this.db;
    this.queued += recs.length;
    const p = db._queue.push(() => {
      let applied = 0;
      try {
        for (const rec of recs) {
          if (this.halt || this.diverged || this.paused) break;
          const r = db._b.applyRecord(rec, true);
          if (r.rc === 0) { applied++; continue; }
          this.refused(r);
          break;
        }
      } finally {
        this.queued -= recs.length;
        this.recordsApplied += applied;
      }
      return applied;
    });
    p.catch((e) => {
      if (!this.halt) this.halt = this.asValoriError(e, 'commit');
      if (this.ctl) this.ctl.abort(); // the stream notices at once, then the store is reopened
    });
    return p;
  }

  /** A refused record: divergence (EDIVERGED) or a transport error (the rest). Inside the queue. */
  refused(r) {
    const C = this.C.codes;
    if (r.rc === C.EDIVERGED) {
      const reason = REASONS[r.reason] || 'root';
      const what = reason === 'event' ? ` (the engine refused the event: ${this.core.names.get(r.eventCode) || r.eventCode})` : '';
      this.diverge({ height: r.height, reason, expected: hex(r.expected), actual: hex(r.actual),
        message: `record ${r.height}: ${reason} mismatch${what}` }, true);
      this.halt = transportError(C.EDIVERGED, 'diverged');
    } else {
      this.halt = errorFromCode(this.core, r.rc, `record ${r.height} refused (reconnecting)`);
      if (this.ctl) this.ctl.abort();
    }
  }

  /**
   * Records a divergence: state diverged, the stream stopped, DIVERGED written (persistent stores;
   * `inQueue`: called from inside a queue entry, whose commit covers the file).
   */
  diverge(d, inQueue = false) {
    this.diverged = d;
    if (this.backend) {
      const write = () => { try { this.writeFile(DIVERGED_FILE, encoder.encode(JSON.stringify(d))); } catch (e) { this.noteError(e); } };
      if (inQueue) write();
      else this.db._queue.push(write, true).catch((e) => this.noteError(e));
    }
    if (this.ctl) this.ctl.abort();
    this.setState('diverged');
    this.emit('diverged', { ...d });
  }

  /** A leader height heard (HELLO, HEARTBEAT). */
  heard(h) {
    if (h > this.pos.height && (!this.seen.length || this.seen[this.seen.length - 1][0] < h)) {
      this.seen.push([h, Date.now()]);
      if (this.seen.length > 256) this.seen.splice(1, 1); // bounded: keeps the oldest (the lag's) entry
    }
    this.leaderHeight = h;
  }

  /**
   * A commit of the local database completed (ValoriFollower._commit): `p` (the core's position when
   * it began) is durable. Not after a bootstrap whose store could not be written (`staged`: the
   * in-memory copy serves reads, the store is bootstrapped again).
   */
  committed(p) {
    if (this.staged) return;
    this.durable = hexPosition(p);
    if (this.db) this.updatePosition(true);
  }

  /** Takes the durable position as the reported one; emits 'height' when it moved (and `notify`). */
  updatePosition(notify) {
    const pos = { ...this.durable };
    const moved = !this.pos || this.pos.height !== pos.height || this.pos.root !== pos.root;
    this.pos = pos;
    while (this.seen.length && this.seen[0][0] <= pos.height) this.seen.shift();
    if (moved && notify) {
      this.emit('height', { height: pos.height, root: pos.root });
      for (const w of [...this.waiters]) if (pos.height >= w.height) w.done();
      this.scheduleAck();
    }
    this.refreshState();
  }

  /** Connected, with a frame within three heartbeat intervals (plus a long poll's wait). */
  fresh() {
    const slack = this.o.transport === 'poll' ? this.o.pollWaitMs : 0;
    return this.connected && Date.now() - this.lastFrameAt <= 3 * this.heartbeatMs + slack;
  }

  refreshState() {
    if (this.stopping || this.diverged || (this.state === 'bootstrapping' && !this.db)) return;
    this.setState(this.fresh() && this.pos && this.pos.height >= this.leaderHeight ? 'live' : 'catching-up');
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    if (this.db) this.emit('status', this.status());
  }

  status() {
    const pos = this.pos || { height: 0, root: ZERO, chain: ZERO };
    if (this.state === 'live' || this.state === 'catching-up') this.refreshStateQuiet();
    const lagEvents = Math.max(0, this.leaderHeight - pos.height);
    const lagSeconds = lagEvents > 0 && this.seen.length ? (Date.now() - this.seen[0][1]) / 1000 : 0;
    return {
      state: this.state, height: pos.height, root: pos.root, chain: pos.chain, leader: this.url,
      leaderHeight: this.leaderHeight, lagEvents, lagSeconds, connected: this.connected,
      lastError: this.lastError ? { ...this.lastError } : null, diverged: this.diverged ? { ...this.diverged } : null,
      bootstraps: this.bootstraps, reconnects: this.reconnects, recordsApplied: this.recordsApplied,
    };
  }

  /** live decays to catching-up when no frame came for three heartbeat intervals (the stream is
   * then dropped as dead, which emits 'status'; status() says so at once). */
  refreshStateQuiet() {
    if (this.state === 'live' && !this.fresh()) this.state = 'catching-up';
  }

  on(name, fn) {
    if (typeof fn != 'function') throw errorNamed(this.core, 'EINVAL', 'a listener must be a function');
    if (!['height', 'status', 'diverged'].includes(name)) throw errorNamed(this.core, 'EINVAL', `no event named ${name} (height, status, diverged)`);
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.off(name, fn);
  }

  off(name, fn) { const s = this.listeners.get(name); if (s) s.delete(fn); }

  emit(name, v) {
    const s = this.listeners.get(name);
    if (!s) return;
    for (const fn of [...s]) {
      try { fn(v); } catch (e) { queueMicrotask(() => { throw e; }); } // a listener's error is its own
    }
  }

  scheduleAck() {
    if (!this.o.ackIntervalMs || this.ackTimer || this.stopping) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      const h = this.pos.height;
      if (h === this.ackedHeight || this.stopping) return;
      this.ackedHeight = h;
      const body = this.o.followerId ? { height: h, follower: this.o.followerId } : { height: h };
      this.t.request('POST', `${this.prefix}/ack`, { json: body }).catch(() => undefined); // optional (metrics only)
    }, this.o.ackIntervalMs);
  }

  /** Waits until the durable height reaches h (ETIMEOUT after waitMs). */
  async atHeight(h, waitMs) {
    if (this.pos.height >= h) return;
    if (this.diverged) throw this.divergedError();
    await new Promise((resolve, reject) => {
      const w = { height: h, done: () => { clearTimeout(timer); this.waiters.delete(w); resolve(); } };
      const timer = setTimeout(async () => {
        this.waiters.delete(w);
        const errno = await this.t.errnoOf('ETIMEOUT').catch(() => -1);
        reject(new ValoriError('ETIMEOUT', errno, `height ${h} not reached within ${waitMs} ms (the follower is at ${this.pos.height})`));
      }, waitMs);
      this.waiters.add(w);
    });
  }

  divergedError() {
    const d = this.diverged;
    const e = errorNamed(this.core, 'EDIVERGED', `this follower diverged from ${this.url} at height ${d.height} (${d.reason}): ${d.message}; rebootstrap() to recover`);
    e.diverged = { ...d };
    return e;
  }

  readOnlyError() {
    const e = errorNamed(this.core, 'EREADONLY', `this database is a read-only follower; write to the leader at ${this.url}`);
    e.leader = this.url;
    return e;
  }

  /** pause(): the stream is closed and nothing is applied until resume(). */
  setPaused(p) {
    if (this.stopping) throw errorNamed(this.core, 'ECLOSED', this.label);
    this.paused = p;
    if (p && this.ctl) this.ctl.abort();
    if (!p) this.wake();
  }

  askRebootstrap() {
    if (this.stopping) throw errorNamed(this.core, 'ECLOSED', this.label);
    this.diverged = null;
    this.rebootstrapAsked = true;
    if (this.backend) this.db._queue.push(() => { this.removeFile(DIVERGED_FILE); }, true).catch((e) => this.noteError(e));
    if (this.ctl) this.ctl.abort();
    this.setState('catching-up');
    this.wake();
  }

  /** The leader's record after the durable position (the long poll, max 1), or null. */
  async nextRecord(waitMs) {
    const ctl = new AbortController();
    const res = await this.open('log', `${this.query()}&max=1&wait_ms=${waitMs}`, ctl, waitMs + this.o.timeoutMs);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const reader = new FrameReader(this.core);
    try {
      const rec = reader.push(bytes).find((f) => f.type === this.C.frame.RECORD);
      return rec ? rec.data : null;
    } finally { reader.free(); }
  }

  /** Stops the loop (close()): the open request aborted, waits woken. */
  async stop() {
    this.stopping = true;
    clearTimeout(this.ackTimer);
    if (this.ctl) this.ctl.abort();
    this.wake();
    if (this.loop) await this.loop.catch(() => undefined);
    this.connected = false;
    for (const w of [...this.waiters]) w.done();
  }

  /** Releases the storage of a follower that never started (follow() failed). */
  async dispose() {
    this.stopping = true;
    this.reader.free();
    if (this.vfsId) this.core.m.valoriVfs.unregister(this.vfsId);
    if (this.backend) await this.backend.dispose();
  }
}

/** A core position (binding.js) with root and chain in hex. */
function hexPosition(p) { return { height: p.height, root: hex(p.root), chain: hex(p.chain) }; }

/** The options of a read that may name a minimum height: { minHeight, waitMs }. */
function minHeightOf(core, o) {
  if (!o || typeof o != 'object' || o.minHeight === undefined) return null;
  const h = typeof o.minHeight == 'bigint' && o.minHeight >= 0n && o.minHeight <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(o.minHeight) : o.minHeight;
  const w = o.waitMs ?? DEFAULT_WAIT_MS;
  if (typeof h != 'number' || !Number.isSafeInteger(h) || h < 0) throw errorNamed(core, 'EINVAL', 'minHeight must be a non-negative safe integer or bigint');
  if (typeof w != 'number' || !Number.isInteger(w) || w < 0 || w > MAX_WAIT_MS) throw errorNamed(core, 'EINVAL', `waitMs must be an integer in 0..${MAX_WAIT_MS}`);
  return { h, w };
}

/**
 * A read-only Valori replicating a leader's collection (Valori.follow). The read methods are the
 * embedded database's; each also takes { minHeight, waitMs } (read-your-writes). Writes reject with
 * EREADONLY naming the leader; reads of a diverged follower reject with EDIVERGED.
 */
export class ValoriFollower extends Valori {
  constructor(core, bind, backend, vfsId, info, rep) {
    super(core, bind, backend, vfsId, info);
    this._rep = rep;
    /** The leader's collection URL. */
    this.leader = rep.url;
  }

  _read(fn) {
    if (this._rep.diverged) return Promise.reject(this._rep.divergedError());
    return super._read(() => {
      // a local store that failed a commit and could not be reopened yet (the loop retries)
      if (!this._b.h) throw errorNamed(this._core, 'EPOISONED', `${this.path}: the local copy is being reopened`);
      return fn();
    });
  }

  /** The group commit (index.js), then the position it made durable is the follower's to report. */
  async _commit() {
    const p = this._b.position();
    await super._commit();
    this._rep.committed(p);
  }

  async _at(o) {
    const m = minHeightOf(this._core, o);
    if (m) await this._rep.atHeight(m.h, m.w);
  }

  async get(id, o) { await this._at(o); return super.get(id); }
  async search(q, o = {}) { await this._at(o); return super.search(q, o); }
  async searchExpand(q, o = {}) { await this._at(o); return super.searchExpand(q, o); }
  async getNode(id, o) { await this._at(o); return super.getNode(id); }
  async nodeOfRecord(id, o) { await this._at(o); return super.nodeOfRecord(id); }
  async neighbors(n, o = {}) { await this._at(o); return super.neighbors(n, o); }
  async expand(s, o = {}) { await this._at(o); return super.expand(s, o); }
  async stats(o) { await this._at(o); return super.stats(); }
  async stateRoot(o) { await this._at(o); return super.stateRoot(); }

  /** Waits until the follower's durable height is at least h; ETIMEOUT after waitMs (default 2000). */
  async waitForHeight(h, { waitMs } = {}) {
    this._live();
    await this._at({ minHeight: h ?? 0, waitMs });
    return this._rep.pos.height;
  }

  /** The replication status (docs/REPLICATION.md sections 3 and 8). */
  status() { return this._rep.status(); }

  /** Subscribes to 'height' ({height, root}), 'status' (status()) or 'diverged' (the divergence);
   * returns the function that unsubscribes. */
  on(name, fn) { return this._rep.on(name, fn); }
  off(name, fn) { this._rep.off(name, fn); }

  /** Discards the local copy and bootstraps again (the way out of 'diverged'). Resolves at once;
   * status() and the events tell the progress. */
  async rebootstrap() { this._live(); this._rep.askRebootstrap(); }

  /**
   * Stops replicating until resume(): the stream is closed, the local copy stays at its height and
   * keeps serving reads (state 'catching-up', connected false). For a stable view, and for showing
   * verify() on the leader's next record.
   */
  async pause() {
    this._live();
    this._rep.setPaused(true);
    await this._queue.drain();
  }

  /** Replicates again after pause(), from the durable height. */
  async resume() { this._live(); this._rep.setPaused(false); }

  /**
   * The leader's next record after this follower's durable height, as the bytes of its RECORD
   * frame's payload (what verify() takes), or null when the leader has none yet (waiting up to
   * waitMs, 0 to 30,000, default 0). Read from the long poll; nothing is applied. With pause(), it
   * shows verify() on a record the follower has not applied.
   */
  async nextRecord({ waitMs = 0 } = {}) {
    this._live();
    if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_WAIT_MS) throw errorNamed(this._core, 'EINVAL', `waitMs must be an integer in 0..${MAX_WAIT_MS}`);
    await this._queue.drain();
    this._rep.updatePosition(true);
    return this._rep.nextRecord(waitMs);
  }

  /**
   * A dry run of one RECORD payload (88-byte header + event) against the current position
   * (valori_check_record): nothing changes. {ok: true, height, root} (the root it would give) or
   * {ok: false, code, reason, height, expected, actual, message}.
   */
  async verify(record) {
    this._live();
    const core = this._core;
    if (!(record instanceof Uint8Array)) throw errorNamed(core, 'EINVAL', 'verify takes the record bytes (a Uint8Array)');
    const rec = record.slice();
    return super._read(() => {
      const r = this._b.applyRecord(rec, false);
      if (r.rc === 0) return { ok: true, height: r.height, root: hex(r.actual) };
      const code = core.names.get(r.rc) || 'UNKNOWN';
      const reason = r.rc === core.C.codes.EDIVERGED ? (REASONS[r.reason] || null) : null;
      return { ok: false, code, reason, height: r.height, expected: reason ? hex(r.expected) : null,
        actual: reason ? hex(r.actual) : null, message: core.m.UTF8ToString(core.m._valori_strerror(r.rc)) };
    });
  }

  /** Stops replicating, makes every applied record durable and closes the store. */
  close() {
    if (!this._closing) {
      this._closing = (async () => {
        await this._rep.stop();
        this._rep.setState('stopped');
        this._rep.reader.free();
        return this._close();
      })();
    }
    return this._closing;
  }
}

for (const name of WRITES) {
  ValoriFollower.prototype[name] = async function readOnly() {
    this._live();
    throw this._rep.readOnlyError();
  };
}
