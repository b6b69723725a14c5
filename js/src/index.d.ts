// Type declarations of the `valori` package (js/src/index.js). Ids (records, nodes, edges) and tags
// are unsigned 64-bit: returned as bigint, accepted as bigint or as a non-negative safe integer number.
//
// Which error a bad call gets: the package checks only types and shapes (a value of the wrong type,
// a negative or fractional integer, a vector of the wrong length: EINVAL or EDIM), and leaves every
// rule about values to C, so a call gets the same code as the same call in C (valori.h, "Records":
// the order of the checks). Every call takes what it needs from its arguments when it is called:
// buffers may be reused or changed as soon as the call returns its promise.

/** Record, node or edge id, or tag, as accepted: a bigint or a non-negative safe integer. */
export type U64 = bigint | number;
/** Binary data: bytes, or a string stored as UTF-8. */
export type Bytes = Uint8Array | ArrayBuffer | ArrayBufferView | string;
/**
 * A vector of the database's dimension. A Float32Array passes as it is (binary32 is the boundary;
 * C rejects NaN with ENAN, infinities with EINF, |x| > 256 with ERANGE). An array of numbers, a
 * Float64Array or an integer typed array is taken number by number with the same rule applied to
 * the value given, before rounding (NaN: ENAN, +-Infinity: EINF, |x| > 256: ERANGE, so a finite
 * 1e300 and 256.00001 are ERANGE), then rounded to binary32 (round half to even, Math.fround).
 * BigInt64Array, BigUint64Array, DataView, strings and other array-likes: EINVAL; another length
 * than the database's dim: EDIM.
 */
export type Vector = Float32Array | number[] | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray
  | Int16Array | Uint16Array | Int32Array | Uint32Array;

export type ValoriCode =
  | 'EINVAL' | 'ENAN' | 'EINF' | 'ERANGE' | 'EDIM' | 'ETOOBIG' | 'ENOTFOUND' | 'EK' | 'ENOMEM'
  | 'ECORRUPT' | 'EVERSION' | 'EEXIST' | 'EOPCODE' | 'EIO' | 'EPOISONED' | 'ELOCKED' | 'ECONFIG'
  | 'EREADONLY' | 'EBUFSIZE' | 'ENOSPC' | 'EDIVERGED' | 'EEMPTY' | 'ECLOSED' | 'EHEIGHT' | (string & {});

/**
 * Codes of a remote database's errors beyond C's (js/README.md, "Remote databases"): the server's
 * own (docs/HTTP.md section 3) and the client's, ECONNECT (no answer: not reachable, connection
 * lost, timeoutMs passed) and EPROTOCOL (an answer that is not what docs/HTTP.md specifies).
 */
export type RemoteCode =
  | 'EJSON' | 'EBINARY' | 'EAUTH' | 'EFORBIDDEN' | 'EHOST' | 'EORIGIN' | 'ENOROUTE' | 'ENOCOLLECTION' | 'ENOSNAPSHOT'
  | 'EMETHOD' | 'ETOOLARGE' | 'EMEDIA' | 'ETOOMANY' | 'EUNAVAILABLE' | 'ECONNECT' | 'EPROTOCOL';

/** The only error type the package throws or rejects with. */
export class ValoriError extends Error {
  readonly name: 'ValoriError';
  /** Stable symbolic result code from C (valori.h VALORI_RESULT_CODES), e.g. "EDIM"; remote databases add RemoteCode. */
  readonly code: ValoriCode | RemoteCode;
  /**
   * Stable numeric result code: C's number for C's codes (the same in the embedded and the remote
   * database); for the server's codes the server's number (GET /v1/constants; -1 when the server
   * does not publish it); ECONNECT 201, EPROTOCOL 202.
   */
  readonly errno: number;
  /** Remote databases: the HTTP status of the server's error answer (absent when no server answered it). */
  readonly status?: number;
  /** Remote databases: where a damaged collection file is (ECORRUPT from check()). */
  readonly details?: { file: string; offset: number; height: number };
}

export interface OpenOptions {
  /**
   * Where the store lives: ':memory:' (default; nothing persisted), 'idb://name' (browser or worker:
   * IndexedDB through IDBFS), or a directory path / file:// URL (Node: the real filesystem).
   */
  path?: string;
  /** Vector dimension, 1..4096. Required to create; 0 or omitted reopens with the stored one. */
  dim?: number;
  /** 'l2' (squared Euclidean, default) or 'ip' (negated inner product). */
  metric?: 'l2' | 'ip';
  /**
   * 'hnsw' (default): an HNSW graph is maintained on every insert. 'none': an index-less store for
   * exact search only (no graph memory or insert cost; mode 'hnsw' searches reject with EINVAL;
   * `hnsw` must then be omitted). Fixed at creation; reopening with the other choice and a `dim`
   * rejects with ECONFIG.
   */
  index?: 'hnsw' | 'none';
  /** HNSW parameters (defaults m 16, efConstruction 200, efSearch 64); only with index 'hnsw'. */
  hnsw?: { m?: number; efConstruction?: number; efSearch?: number };
  /**
   * A compact traversal copy (docs/DETERMINISM.md, "Compact traversal copy"): `{ int8: [lo, hi] }`
   * keeps an int8 copy of every vector, quantized for components in [lo, hi] (lo and hi are taken as
   * binary32 numbers), and HNSW searches walk the graph on the copies, then re-rank their candidates
   * with the exact distance: results keep exact distances in the exact order. For whole values in
   * [0, 255] (pixels) and an 'l2' store, `[0, 255]` makes the copy exact, and so the results. Costs
   * dim bytes per vector. Omitted or null: none (default). Only with index 'hnsw'; an 'ip' store
   * accepts only a range whose copy has centre 0. A wrong shape, non-finite bounds, lo > hi or a
   * bound outside [-256, 256] reject with EINVAL. Recorded with the configuration (and in the state
   * root): reopening without `dim` keeps it; with a `dim`, the same option must be given (a store
   * with the copy opened without it, or with another range, rejects with ECONFIG).
   */
  traversal?: { int8: [number, number] } | null;
  /**
   * 'full' (default): a write's promise resolves after the commit that makes it durable (fsync in
   * Node; a completed IndexedDB transaction with strict durability in the browser). Concurrent
   * writes share one commit (group commit). 'relaxed': resolves once applied; a background commit,
   * flush() or close() makes it durable, and a crash may lose the last writes (never a mixture).
   */
  durability?: 'full' | 'relaxed';
  /** Create the store when missing (default true unless readOnly). */
  create?: boolean;
  /** Open without the writer lock; every write rejects with EREADONLY. */
  readOnly?: boolean;
  /** Events between automatic store snapshots (default: the core's). */
  snapshotEvery?: U64;
  /** Log segment size in bytes (default 4 MiB; 1 MiB for idb://, which rewrites the tail segment per commit). */
  segmentBytes?: U64;
  /**
   * The WebAssembly core's bytes, for bundlers and hosts that keep valori.wasm somewhere else than
   * the package's dist/. Used by the call that loads the core (the first open() or fromSnapshot()
   * of this JS realm); the one loaded instance serves every later call.
   */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** Where valori.wasm is: (name, prefix) => URL or path (Node: a path or a file: URL). As wasmBinary. */
  locateFile?: (name: string, prefix: string) => string;
}

export interface ValoriRecord {
  id: bigint;
  /** The stored vector (exact Q16.16 values as binary32). */
  vector: Float32Array;
  tag: bigint;
  meta: Uint8Array | null;
}

export interface Hit {
  id: bigint;
  /** distanceRaw / 2^32 as a number (exact while below 2^21; use distanceRaw for exact comparisons). */
  distance: number;
  /** The exact distance from C: int64 in units of 2^-32 (L2: sum of squared differences; IP: -dot). */
  distanceRaw: bigint;
}

export interface SearchOptions {
  /** Results wanted, 1..10000 (default 10; C refuses 0 and more than 10000 with EK). */
  k?: number;
  /** HNSW beam width; 0 = the store default (raised to k); above 10000: EK. */
  ef?: number;
  /** Only records with this tag. */
  tag?: U64;
  /**
   * Only records whose tag is any of these, together with `tag` when both are given; at most 256
   * (more: ETOOBIG). Omit it (or pass null) for no filter: an empty set (`tags: []` without `tag`)
   * would match nothing and is refused with EINVAL.
   */
  tags?: U64[] | BigUint64Array;
  /**
   * 'auto' (plan by filter selectivity; default), 'exact' (brute force), 'hnsw' (index only). An
   * index-less store searches exactly in 'auto' and rejects 'hnsw' with EINVAL.
   */
  mode?: 'auto' | 'exact' | 'hnsw';
}

export interface GraphNode {
  id: bigint;
  /** Linked record, or null. */
  record: bigint | null;
  kind: number;
  label: Uint8Array | null;
}

export interface Edge {
  id: bigint;
  from: bigint;
  to: bigint;
  kind: number;
  /** Q16.16 weight as a number, or null for an unweighted edge. */
  weight: number | null;
}

export interface Reach {
  node: bigint;
  /** The edge that first reached the node (0n for seeds). */
  via: bigint;
  depth: number;
}

export interface ExpandOptions {
  /** Depth, 0..16 (default 1; more: EINVAL). */
  hops?: number;
  dir?: 'out' | 'in' | 'both';
  /** Nodes visited at most, seeds included, 1..2^20 (default 1000; else EINVAL). */
  maxNodes?: number;
}

/**
 * Counters and sizes. One type per field: every count and size is a number (exact: they stay far
 * below 2^53), every id a bigint (as ids are everywhere in the API), enums are strings.
 */
export interface Stats {
  /** Events applied since the empty state (number). */
  height: number;
  /** Live records (number). */
  records: number;
  /** Live graph nodes (number). */
  nodes: number;
  /** Live graph edges (number). */
  edges: number;
  /** The id the next insert receives (bigint). */
  nextRecordId: bigint;
  /** The id the next node receives (bigint). */
  nextNodeId: bigint;
  /** The id the next edge receives (bigint). */
  nextEdgeId: bigint;
  /** Deleted records still referenced by the HNSW graph (number; bounded; 0 without an index). */
  indexTombstones: number;
  /** Bytes held by vectors (number). */
  vectorBytes: number;
  /** Bytes held by the HNSW graph (number; 0 without an index). */
  indexBytes: number;
  /** Bytes held by ids, tags, metadata, the graph, hash tables, scratch (number). */
  otherBytes: number;
  /** The recorded dimension (number). */
  dim: number;
  metric: 'l2' | 'ip';
  /** HNSW M (number); 0 (and the two ef values 0) for an index-less store. */
  hnswM: number;
  hnswEfConstruction: number;
  hnswEfSearch: number;
  /** The store's index: 'hnsw' or 'none'. */
  index: 'hnsw' | 'none';
  /** The compact traversal copy, as recorded: null without one (OpenOptions.traversal). */
  traversal: TraversalInfo | null;
}

/** A store's compact traversal copy (Stats.traversal). */
export interface TraversalInfo {
  /**
   * The components the int8 codes -128..127 stand for: (center - 128) * 2^(shift - 16) ..
   * (center + 127) * 2^(shift - 16), from about the lower bound asked for at creation (`[0, 255]`
   * for `[0, 255]`, `[-1, 2.984375]` for `[-1, 1]`). When both ends lie in [-256, 256], giving it
   * back as OpenOptions.traversal.int8 gives the same copy.
   */
  int8: [number, number];
  /** The rule's shift s and centre c: code = clamp(round(v / 2^s) - c, -128, 127), v the Q16.16 component. */
  shift: number;
  center: number;
  /** The traversal word (valori_options.traversal, valori_stats.traversal). */
  word: number;
}

/** The constants read from C at start-up (valori_constants_json). */
export interface Constants {
  version: string;
  codes: { [name: string]: number };
  metric: { L2: number; IP: number };
  sync: { FULL: number; RELAXED: number };
  open: { CREATE: number; READONLY: number };
  search: { AUTO: number; EXACT: number; HNSW: number };
  index: { HNSW: number; NONE: number };
  dir: { OUT: number; IN: number; BOTH: number };
  op: { [name: string]: number };
  update: { VECTOR: number; TAG: number; META: number };
  limits: { MAX_DIM: number; MAX_ABS: number; Q16_ONE: number; MAX_META: number; MAX_K: number; MAX_EF: number;
    MAX_BATCH: number; MAX_HOPS: number; MAX_TAGS: number; HNSW_MAX_M: number };
}

/** Options of Valori.server and the transport options of Valori.connect. */
export interface ServerOptions {
  /** Bearer token (a `write` or `read` token of the server's --token-file); none for a server without tokens. */
  token?: string;
  /** The fetch to use (default: the global fetch): a custom transport, a proxy, a test. */
  fetch?: (url: string, init: { method: string; headers: Record<string, string>; body?: string | Uint8Array; signal: AbortSignal; redirect: 'error' }) => Promise<Response>;
  /** Milliseconds a request may take, answer included (default 60000); then ECONNECT. */
  timeoutMs?: number;
  /**
   * Requests in flight at once (default 16; a server refuses connections beyond its
   * --max-connections with ETOOMANY): more wait, in call order, before they are sent.
   */
  maxInFlight?: number;
  /** The wasm core's bytes or location, as for Valori.open (the remote face loads the core too). */
  wasmBinary?: ArrayBuffer | Uint8Array;
  locateFile?: (name: string, prefix: string) => string;
}

/**
 * Options of Valori.connect: the transport's, and Valori.open's that make sense for a collection.
 * `path`, `snapshotEvery`, `segmentBytes` and durability 'relaxed' are the server's business (EINVAL).
 */
export interface ConnectOptions extends ServerOptions {
  /** The collection (default 'default', or the one the URL names: .../v1/collections/NAME). */
  collection?: string;
  /**
   * Creates the collection when it does not exist. With dim given, an existing collection must
   * have exactly that configuration after C's defaults (else ECONFIG); without dim it is used as
   * it is, and a missing one is refused (EINVAL, naming dim).
   */
  dim?: number;
  metric?: 'l2' | 'ip';
  index?: 'hnsw' | 'none';
  hnsw?: { m?: number; efConstruction?: number; efSearch?: number };
  /** Create the collection when missing (default true unless readOnly); false: ENOCOLLECTION. */
  create?: boolean;
  /** Every write rejects with EREADONLY without being sent (a read token gets EFORBIDDEN from the server). */
  readOnly?: boolean;
  /** 'full' only: the server acknowledges a write once it is durable. */
  durability?: 'full';
  /**
   * true (default): calls run in call order, as in the embedded database: a read sees exactly the
   * writes issued before it, a write waits for every call issued before it (so un-awaited writes
   * cost one fsync each). false: every call is sent at once; concurrent writes share the server's
   * fsyncs and get ids in the order the server receives them.
   */
  ordered?: boolean;
}

/** Options every read of a remote database takes. */
export interface ReadOptions {
  /**
   * Read-your-writes: the height a write reported (lastWrite.height). Sent as `min_height`; a
   * follower waits for it (docs/REPLICATION.md); a leader holds every height it reported.
   */
  minHeight?: U64;
}

/** What a write's acknowledgement carried. */
export interface WriteAck {
  /** The collection's height after the write. */
  height: number;
  /** The state root after it, 64 hex digits. */
  root: string;
}

/** A collection as the server describes it (GET /v1/collections/{name}). */
export interface CollectionInfo {
  name: string;
  dim: number;
  metric: 'l2' | 'ip';
  index: 'hnsw' | 'none';
  hnsw: { m: number; efConstruction: number; efSearch: number } | null;
  /** The int8 compact traversal copy, as Stats.traversal; null without one. */
  traversal: TraversalInfo | null;
  records: number;
  nodes: number;
  edges: number;
  nextRecordId: bigint;
  height: number;
  root: string;
  /** Every write up to this height is on disk. */
  durableHeight: number;
  /** The newest snapshot's height (0: none). */
  snapshotHeight: number;
  diskBytes: number;
}

/** A collection in the server's list (an entry the server cannot open has `error`, its code, instead). */
export interface CollectionEntry {
  name: string;
  dim?: number;
  metric?: 'l2' | 'ip';
  index?: 'hnsw' | 'none';
  records?: number;
  height?: number;
  root?: string;
  error?: string;
}

/** A `valori serve` server: its collections. Valori.server(url). */
export class ValoriServer {
  /** The server's URL (scheme, host, port, path prefix). */
  readonly url: string;
  /** GET /v1: version, whether tokens are required, the server's limits. */
  info(): Promise<{ version: string; auth: boolean; limits: Record<string, number> }>;
  /** Every collection, sorted by name (all pages of the server's list). */
  collections(): Promise<CollectionEntry[]>;
  describe(name: string): Promise<CollectionInfo>;
  /** Creates a collection (options checked by C first: its codes); EEXIST when it exists. */
  createCollection(name: string, options: Pick<ConnectOptions, 'dim' | 'metric' | 'index' | 'hnsw'> & Pick<OpenOptions, 'traversal'>): Promise<CollectionInfo>;
  /** Deletes a collection durably; ENOCOLLECTION when there is none. */
  deleteCollection(name: string): Promise<void>;
  /** A database on one collection (as Valori.connect, with this server's token, fetch and timeout). */
  connect(name: string, options?: Omit<ConnectOptions, keyof ServerOptions | 'collection'>): Promise<RemoteValori>;
}

/**
 * A database in a collection of a `valori serve` server (Valori.connect): the embedded Valori's
 * methods with the same arguments, results and error codes (each method's documentation is
 * Valori's), plus collections and acknowledgements. Every method exists; where remote behaviour
 * differs it says so here:
 *  - writes resolve once the server acknowledged them, which it does once they are durable;
 *  - the server's limits apply (GET /v1: k above --max-k is EK, a batch above --max-batch ETOOBIG,
 *    a body above --max-body ETOOLARGE), and its own codes may come (RemoteCode);
 *  - stats(): nextNodeId, nextEdgeId, indexTombstones, vectorBytes, indexBytes and otherBytes come
 *    from the server's describe (the engine's own counters); null from an older server that lacks them;
 *  - check() is the server's verify (memory and files); snapshot() may take a checkpoint first;
 *    check(), checkpoint() and a snapshot() that needs a checkpoint want a write token;
 *  - flush() resolves once every call issued before it settled (writes are durable when acknowledged).
 */
export class RemoteValori {
  /** The collection's URL (what `path` is for an embedded database); `url` is the same. */
  readonly path: string;
  readonly url: string;
  readonly collection: string;
  readonly dim: number;
  readonly metric: 'l2' | 'ip';
  readonly index: 'hnsw' | 'none';
  readonly readOnly: boolean;
  readonly closed: boolean;
  readonly server: ValoriServer;
  /** The height and root the latest acknowledged write of this database reported; null before the first. */
  readonly lastWrite: WriteAck | null;

  insert(vector: Vector, opts?: { tag?: U64; meta?: Bytes | null }): Promise<bigint>;
  /** Without metadata the batch travels as binary ingest (binary32 rows), with metadata as JSON: the same event. */
  insertBatch(vectors: Vector[] | Float32Array, opts?: { tags?: U64[] | BigUint64Array; metas?: (Bytes | null)[] }): Promise<bigint[]>;
  delete(id: U64): Promise<void>;
  update(id: U64, changes: { vector?: Vector; tag?: U64; meta?: Bytes | null }): Promise<void>;
  /** Sent as its SET_META event (the event the embedded setMeta writes). */
  setMeta(id: U64, meta: Bytes | null): Promise<void>;
  get(id: U64, opts?: ReadOptions): Promise<ValoriRecord | null>;
  search(query: Vector, opts?: SearchOptions & ReadOptions): Promise<Hit[]>;
  searchExpand(query: Vector, opts?: SearchOptions & ExpandOptions & ReadOptions): Promise<{ hits: Hit[]; nodes: Reach[] }>;
  createNode(opts?: { kind?: number; record?: U64 | null; label?: Bytes | null }): Promise<bigint>;
  deleteNode(id: U64): Promise<void>;
  createEdge(from: U64, to: U64, opts?: { kind?: number; weight?: number }): Promise<bigint>;
  deleteEdge(id: U64): Promise<void>;
  getNode(id: U64, opts?: ReadOptions): Promise<GraphNode | null>;
  nodeOfRecord(recordId: U64, opts?: ReadOptions): Promise<bigint | null>;
  /** More than 100000 matching edges (the server's cap on one answer): ETOOBIG. */
  neighbors(node: U64, opts?: { dir?: 'out' | 'in' | 'both'; kind?: number } & ReadOptions): Promise<Edge[]>;
  expand(seeds: U64[], opts?: ExpandOptions & ReadOptions): Promise<Reach[]>;
  stats(opts?: ReadOptions): Promise<RemoteStats>;
  stateRoot(opts?: ReadOptions): Promise<string>;
  indexDigest(opts?: ReadOptions): Promise<string>;
  /** The server's verify: every invariant and the root of the live state, every file, a replay. */
  check(): Promise<void>;
  /** The engine snapshot bytes of the collection at a height >= every write acknowledged before the call. */
  snapshot(opts?: ReadOptions): Promise<Uint8Array>;
  checkpoint(): Promise<void>;
  /** POST .../events; an event that does not decode is ECORRUPT, as embedded (the server says EBINARY). */
  apply(event: Uint8Array): Promise<bigint>;
  flush(): Promise<void>;
  /** Waits for the calls issued so far and releases the client (the collection stays). */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** The server's collections (ValoriServer.collections). */
  collections(): Promise<CollectionEntry[]>;
  createCollection(name: string, options: Pick<ConnectOptions, 'dim' | 'metric' | 'index' | 'hnsw'> & Pick<OpenOptions, 'traversal'>): Promise<CollectionInfo>;
  deleteCollection(name: string): Promise<void>;
  /** This collection's describe answer. */
  describe(): Promise<CollectionInfo>;
}

/** Stats of a remote database: the fields an older server's describe does not report are null. */
export type RemoteStats = Omit<Stats, 'nextNodeId' | 'nextEdgeId' | 'indexTombstones' | 'vectorBytes' | 'indexBytes' | 'otherBytes'> & {
  nextNodeId: bigint | null; nextEdgeId: bigint | null; indexTombstones: number | null;
  vectorBytes: number | null; indexBytes: number | null; otherBytes: number | null;
};

export interface FollowOptions {
  /** ':memory:' (default), 'idb://name' (browser) or a directory (Node), as in OpenOptions. */
  path?: string;
  /** A read token of the leader (sent as Authorization: Bearer). */
  token?: string;
  /** The name the leader's metrics list this follower under (X-Valori-Follower; 1-64 of A-Z a-z 0-9 . _ : -). */
  followerId?: string;
  /** The heartbeat interval assumed until the leader's HELLO says its own (ms; default 1000). */
  heartbeatMs?: number;
  /** 'stream' (default: one long response, fetch with a streaming body) or 'poll' (the long poll). */
  transport?: 'stream' | 'poll';
  /** The long poll's wait_ms (default 10000, at most 30000). */
  pollWaitMs?: number;
  /** Timeout of each request (the snapshot download included; ms, default 60000). */
  timeoutMs?: number;
  /** How long follow() retries the first bootstrap before it rejects (ms, default 60000). */
  bootstrapTimeoutMs?: number;
  /** At most one ack of the durable height per this many ms (default 1000; 0 = never). */
  ackIntervalMs?: number;
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /**
   * Called while a bootstrap runs (also before follow() resolves): 'download' as the leader's
   * snapshot arrives (bytes so far; total from Content-Length, null without one), then 'check' (the
   * core checks the file whole) and, for a persistent follower, 'store'.
   */
  onProgress?: (p: { phase: 'download' | 'check' | 'store'; bytes: number; total: number | null }) => void;
  /** Store options of a persistent follower, as in OpenOptions. */
  segmentBytes?: U64;
  snapshotEvery?: U64;
  wasmBinary?: ArrayBuffer | Uint8Array;
  locateFile?: (name: string, prefix: string) => string;
}

/** Why a follower stopped applying (docs/REPLICATION.md section 8). */
export interface Divergence {
  height: number;
  reason: 'chain' | 'root' | 'event' | 'history' | 'config';
  /** 64 hex digits: the record's chain or root, or the leader's chain (history); zeros for config. */
  expected: string;
  /** 64 hex digits: what this follower computes. */
  actual: string;
  message: string;
}

export type FollowerState = 'bootstrapping' | 'catching-up' | 'live' | 'diverged' | 'stopped';

/** ValoriFollower.status(): docs/REPLICATION.md sections 3 and 8. */
export interface FollowerStatus {
  state: FollowerState;
  /** The durable height of the local copy, and its root and chain (64 hex digits). */
  height: number;
  root: string;
  chain: string;
  /** The leader's collection URL. */
  leader: string;
  /** The leader's durable height, as last heard (HELLO, HEARTBEAT). */
  leaderHeight: number;
  /** leaderHeight - height (0 when not behind). */
  lagEvents: number;
  /** 0 when caught up; else how long (by this host's clock) a leader height has been known and not applied. */
  lagSeconds: number;
  /** A stream (or long poll) is open and its HELLO was received. */
  connected: boolean;
  /** The last failed attempt (cleared by a HELLO), or null. */
  lastError: { code: string; message: string } | null;
  diverged: Divergence | null;
  /** Bootstraps by this instance (0 after resuming a persistent follower). */
  bootstraps: number;
  /** Streams opened after the first one. */
  reconnects: number;
  /** Records applied by this instance. */
  recordsApplied: number;
}

/** What verify() found (a dry run of valori_check_record: nothing changes). */
export type VerifyResult =
  | { ok: true; height: number; root: string }
  | { ok: false; code: ValoriCode; reason: 'chain' | 'root' | 'event' | null; height: number;
      expected: string | null; actual: string | null; message: string };

/** Read-your-writes on a follower: wait until its durable height is at least minHeight (waitMs, default 2000, at most 30000), else ETIMEOUT. */
export interface FollowerReadOptions {
  minHeight?: U64;
  waitMs?: number;
}

export interface FollowerEvents {
  /** Each durable height change. */
  height: { height: number; root: string };
  /** Each state change. */
  status: FollowerStatus;
  /** The follower diverged (then stays so until rebootstrap()). */
  diverged: Divergence;
}

/**
 * A read-only database replicating a leader's collection (Valori.follow; a type only: the class
 * lives in src/follow.js, loaded on the first Valori.follow). Every read takes
 * FollowerReadOptions as well; a diverged follower's reads reject with EDIVERGED; every write
 * rejects with EREADONLY, whose `leader` names the leader's URL.
 */
export interface ValoriFollower extends Valori {
  /** The leader's collection URL. */
  readonly leader: string;
  status(): FollowerStatus;
  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof FollowerEvents>(name: K, fn: (ev: FollowerEvents[K]) => void): () => void;
  off<K extends keyof FollowerEvents>(name: K, fn: (ev: FollowerEvents[K]) => void): void;
  /** Discards the local copy and bootstraps again (the way out of 'diverged'); resolves at once. */
  rebootstrap(): Promise<void>;
  /** Stops replicating until resume(): the stream closes, the copy keeps its height and serves reads. */
  pause(): Promise<void>;
  /** Replicates again after pause(), from the durable height. */
  resume(): Promise<void>;
  /** The leader's record after this follower's durable height (RECORD payload bytes), or null when there is none yet (waitMs, default 0). Applies nothing. */
  nextRecord(opts?: { waitMs?: number }): Promise<Uint8Array | null>;
  /** Dry-runs one RECORD payload (88-byte header + event) at the current position; changes nothing. */
  verify(record: Uint8Array): Promise<VerifyResult>;
  /** Resolves with the durable height once it is at least h; ETIMEOUT after waitMs (default 2000). */
  waitForHeight(h: U64, opts?: { waitMs?: number }): Promise<number>;
  get(id: U64, opts?: FollowerReadOptions): Promise<ValoriRecord | null>;
  search(query: Vector, opts?: SearchOptions & FollowerReadOptions): Promise<Hit[]>;
  searchExpand(query: Vector, opts?: SearchOptions & ExpandOptions & FollowerReadOptions): Promise<{ hits: Hit[]; nodes: Reach[] }>;
  getNode(id: U64, opts?: FollowerReadOptions): Promise<GraphNode | null>;
  nodeOfRecord(recordId: U64, opts?: FollowerReadOptions): Promise<bigint | null>;
  neighbors(node: U64, opts?: { dir?: 'out' | 'in' | 'both'; kind?: number } & FollowerReadOptions): Promise<Edge[]>;
  expand(seeds: U64[], opts?: ExpandOptions & FollowerReadOptions): Promise<Reach[]>;
  stats(opts?: FollowerReadOptions): Promise<Stats>;
  stateRoot(opts?: FollowerReadOptions): Promise<string>;
}

export class Valori {
  /** Opens or creates a database. Rejects with ValoriError (ELOCKED: another writer holds the store). */
  static open(options?: OpenOptions): Promise<Valori>;
  /**
   * Connects to a collection of a `valori serve` server: `url` is the server's
   * (http(s)://host[:port][/prefix]) or a collection's (.../v1/collections/NAME). The result has
   * this class's methods (RemoteValori). Works in Node and browsers (fetch; a browser page needs
   * the server's --cors-origin for its origin).
   */
  static connect(url: string, options?: ConnectOptions): Promise<RemoteValori>;
  /** A server handle: list, describe, create and delete collections, connect to one. */
  static server(url: string, options?: ServerOptions): Promise<ValoriServer>;
  /**
   * Follows a collection of a `valori serve` leader (js/README.md, "Followers"; docs/REPLICATION.md,
   * "The npm package's follower"): `url` is http(s)://host:port/v1/collections/NAME. Resolves once
   * the follower has a state to serve (its store reopened, or the first bootstrap done).
   */
  static follow(url: string, options?: FollowOptions): Promise<ValoriFollower>;
  /** Decodes snapshot bytes (from snapshot()) into a new in-memory database. */
  static fromSnapshot(bytes: Uint8Array, options?: Pick<OpenOptions, 'wasmBinary' | 'locateFile'>): Promise<Valori>;
  /** Bytes in use on the WebAssembly heap (shared by all databases of this JS realm). */
  static heapUsed(): Promise<number>;
  /** Size of the WebAssembly linear memory (grows, never shrinks): heapUsed() plus free heap, stack
   *  and static data. */
  static memoryBytes(): Promise<number>;
  static constants(): Promise<Constants>;

  readonly path: string;
  readonly dim: number;
  readonly metric: 'l2' | 'ip';
  /** The store's index, as recorded: 'hnsw' or 'none'. */
  readonly index: 'hnsw' | 'none';
  readonly closed: boolean;

  /** Inserts a record; resolves with its id (assigned: 1, 2, 3...). */
  insert(vector: Vector, opts?: { tag?: U64; meta?: Bytes | null }): Promise<bigint>;
  /** Inserts records atomically (all or nothing); resolves with their consecutive ids. */
  insertBatch(vectors: Vector[] | Float32Array, opts?: { tags?: U64[] | BigUint64Array; metas?: (Bytes | null)[] }): Promise<bigint[]>;
  delete(id: U64): Promise<void>;
  /**
   * Changes any of the vector, tag and metadata (`meta: null` clears it) as one event, validated
   * whole and applied all or nothing (valori_update_record): a rejected update changes nothing,
   * and a crash leaves it wholly applied or wholly absent. No field at all: EINVAL.
   */
  update(id: U64, changes: { vector?: Vector; tag?: U64; meta?: Bytes | null }): Promise<void>;
  setMeta(id: U64, meta: Bytes | null): Promise<void>;
  /** The record, or null when there is none. */
  get(id: U64): Promise<ValoriRecord | null>;

  /**
   * k nearest records ordered by (distance, id); with a filter, every result matches it. Like every
   * read, it sees exactly the writes issued before it (applied, not necessarily durable yet).
   */
  search(query: Vector, opts?: SearchOptions): Promise<Hit[]>;
  /** Search, then expand the graph from the nodes linked to the hits. */
  searchExpand(query: Vector, opts?: SearchOptions & ExpandOptions): Promise<{ hits: Hit[]; nodes: Reach[] }>;

  createNode(opts?: { kind?: number; record?: U64 | null; label?: Bytes | null }): Promise<bigint>;
  deleteNode(id: U64): Promise<void>;
  /** A weight is taken like a vector component (NaN: ENAN, infinite: EINF, |w| > 256: ERANGE). */
  createEdge(from: U64, to: U64, opts?: { kind?: number; weight?: number }): Promise<bigint>;
  deleteEdge(id: U64): Promise<void>;
  getNode(id: U64): Promise<GraphNode | null>;
  nodeOfRecord(recordId: U64): Promise<bigint | null>;
  neighbors(node: U64, opts?: { dir?: 'out' | 'in' | 'both'; kind?: number }): Promise<Edge[]>;
  expand(seeds: U64[], opts?: ExpandOptions): Promise<Reach[]>;

  stats(): Promise<Stats>;
  /** SHA-256 state root of the logical state, 64 lowercase hex digits; identical on every target. */
  stateRoot(): Promise<string>;
  /** SHA-256 over the HNSW graph, 64 hex digits. */
  indexDigest(): Promise<string>;
  /** Checks every internal invariant; rejects with ECORRUPT on damage. */
  check(): Promise<void>;
  /** The whole state as snapshot bytes (docs/FORMAT.md). */
  snapshot(): Promise<Uint8Array>;
  /** Writes a snapshot into the persistent store now (shorter recovery); no-op in memory. */
  checkpoint(): Promise<void>;
  /** Applies one canonically encoded event; resolves with the first id it created, or 0n. */
  apply(event: Uint8Array): Promise<bigint>;
  /** Makes every write so far durable. */
  flush(): Promise<void>;
  /** Waits for queued writes, makes them durable, releases the store and the wasm memory. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export default Valori;
