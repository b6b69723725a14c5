// convert.js: JS values -> the plain values the C ABI takes. Only types and shapes are checked here
// (a wrong type, a negative or fractional id, a vector of the wrong length: things C cannot see
// through a pointer); every rule about values (ranges, sizes, limits, empty sets, the order in
// which a batch is validated) is C's, so JS and C give the same code for the same call.
//
// Every conversion *copies*: what a call needs is taken from the caller's buffers when the call is
// made, never later, so a caller may reuse or mutate its buffers as soon as the call returns (the
// write queue runs the call later; C itself copies during its call).
import { errorNamed } from './errors.js';

const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffffffff;
const encoder = new TextEncoder();

/** An integer in [0, 2^32) (undefined/null -> dflt). */
export function u32(core, v, what, dflt) {
  if (v === undefined || v === null) return dflt;
  if (typeof v != 'number' || !Number.isInteger(v) || v < 0 || v > U32_MAX) {
    throw errorNamed(core, 'EINVAL', `${what} must be an integer in [0, 2^32)`);
  }
  return v;
}

/** A u64: a bigint in range or a non-negative safe integer number; returned as bigint. */
export function u64(core, v, what) {
  if (typeof v == 'bigint') {
    if (v < 0n || v > U64_MAX) throw errorNamed(core, 'EINVAL', `${what} out of the u64 range`);
    return v;
  }
  if (typeof v == 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw errorNamed(core, 'EINVAL', `${what} must be a non-negative safe integer or a bigint`);
}

/** A list of u64 (array or BigUint64Array) as a fresh BigUint64Array. */
export function u64List(core, v, what) {
  if (!Array.isArray(v) && !(v instanceof BigUint64Array)) throw errorNamed(core, 'EINVAL', `${what} must be an array`);
  const out = new BigUint64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = u64(core, v[i], `${what}[${i}]`);
  return out;
}

/** Binary data as a fresh Uint8Array (strings as UTF-8); undefined/null -> null. */
export function bytesCopy(core, v, what) {
  if (v === undefined || v === null) return null;
  if (typeof v == 'string') return encoder.encode(v);
  if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  throw errorNamed(core, 'EINVAL', `${what} must be a Uint8Array, ArrayBuffer, typed array or string`);
}

/**
 * One JS number at the binary32 boundary (docs: js/README.md, "Vectors"). C's rule (NaN -> ENAN,
 * infinities -> EINF, |x| > 256 -> ERANGE) applies to the value the caller gave, before rounding:
 * a finite number beyond the range becomes a binary32 that C refuses with ERANGE (twice the limit),
 * so 1e300 is ERANGE (not EINF, as rounding would make it) and 256.00001 is ERANGE (not 256). NaN
 * and the infinities pass as themselves. Everything else is rounded to binary32 (Math.fround:
 * round half to even) and C converts it exactly. C still does every check, in its own order.
 */
export function boundary(core, x) {
  if (Number.isNaN(x) || x === Infinity || x === -Infinity) return x;
  const max = core.C.limits.MAX_ABS;
  if (x > max) return 2 * max;
  if (x < -max) return -2 * max;
  return Math.fround(x);
}

function isNumberView(v) {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

/**
 * Writes one vector into out[at .. at+dim) (a Float32Array). A Float32Array is copied as it is
 * (binary32 is the boundary). Arrays of numbers, Float64Array and the integer typed arrays are
 * taken number by number through boundary(). Anything else (BigInt arrays, DataView, strings,
 * array-likes) is EINVAL; a length other than dim is EDIM.
 */
export function putVector(core, v, dim, out, at, what) {
  if (v instanceof Float32Array) {
    if (v.length !== dim) throw errorNamed(core, 'EDIM', `${what} has ${v.length} components, the database has dim ${dim}`);
    out.set(v, at);
    return;
  }
  if (!Array.isArray(v) && !isNumberView(v)) {
    throw errorNamed(core, 'EINVAL', `${what} must be a Float32Array, an array of numbers or a numeric typed array`);
  }
  if (v.length !== dim) throw errorNamed(core, 'EDIM', `${what} has ${v.length} components, the database has dim ${dim}`);
  for (let i = 0; i < dim; i++) {
    const x = v[i];
    if (typeof x != 'number') throw errorNamed(core, 'EINVAL', `${what}[${i}] is not a number`);
    out[at + i] = boundary(core, x);
  }
}

/** One vector as a fresh Float32Array (see putVector). */
export function vectorCopy(core, v, dim, what = 'vector') {
  const out = new Float32Array(dim);
  putVector(core, v, dim, out, 0, what);
  return out;
}

/**
 * The vectors of a batch as one fresh row-major Float32Array: either an array of vectors, or one
 * Float32Array of n*dim floats. Returns { flat, n }.
 */
export function batchCopy(core, vectors, dim) {
  if (vectors instanceof Float32Array) {
    if (vectors.length % dim !== 0) {
      throw errorNamed(core, 'EDIM', `batch of ${vectors.length} floats is not a multiple of dim ${dim}`);
    }
    return { flat: vectors.slice(), n: vectors.length / dim };
  }
  if (!Array.isArray(vectors)) {
    throw errorNamed(core, 'EINVAL', 'vectors must be an array of vectors or one Float32Array of n*dim floats');
  }
  const n = vectors.length;
  const flat = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) putVector(core, vectors[i], dim, flat, i * dim, `vectors[${i}]`);
  return { flat, n };
}

/** The metadata of a batch of n: { flat: Uint8Array, lens: Uint32Array } or null. */
export function metasCopy(core, metas, n) {
  if (metas === undefined || metas === null) return null;
  if (!Array.isArray(metas) || metas.length !== n) throw errorNamed(core, 'EINVAL', `metas must be an array of ${n} entries`);
  const parts = metas.map((x, i) => bytesCopy(core, x, `metas[${i}]`));
  const lens = new Uint32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const l = parts[i] ? parts[i].length : 0;
    if (l > U32_MAX) throw errorNamed(core, 'EINVAL', `metas[${i}] is larger than 2^32 bytes`);
    lens[i] = l;
    total += l;
  }
  const flat = new Uint8Array(total);
  let off = 0;
  for (const b of parts) if (b) { flat.set(b, off); off += b.length; }
  return { flat, lens };
}

/** An enum option given by name ('l2', 'out'...) -> its C value from `table` (undefined -> dflt). */
export function enumValue(core, table, v, what, dflt) {
  if (v === undefined || v === null) return dflt;
  if (typeof v == 'string') {
    const k = v.toUpperCase();
    if (Object.prototype.hasOwnProperty.call(table, k)) return table[k];
  }
  throw errorNamed(core, 'EINVAL', `${what} must be one of ${Object.keys(table).map((k) => k.toLowerCase()).join(', ')}`);
}

/** The name of a C enum value ('l2', 'hnsw'...): the one table JS reads names from. */
export function enumName(table, value) {
  const k = Object.keys(table).find((name) => table[name] === value);
  return k === undefined ? `unknown(${value})` : k.toLowerCase();
}

export function hex(u8) {
  let s = '';
  for (let i = 0; i < u8.length; i++) s += u8[i].toString(16).padStart(2, '0');
  return s;
}

// ---- the arguments of each call, as both faces take them (index.js embedded, remote.js remote)

/** Options of a call: undefined/null -> {}; anything but an object is EINVAL. */
export function optionsOf(core, o, what) {
  if (o === undefined || o === null) return {};
  if (typeof o != 'object') throw errorNamed(core, 'EINVAL', `${what} options must be an object`);
  return o;
}

/** insert(vector, {tag, meta}) -> { v, tag, meta }. */
export function insertArgs(core, dim, vector, opts) {
  opts = optionsOf(core, opts, 'insert');
  const v = vectorCopy(core, vector, dim);
  const tag = opts.tag === undefined || opts.tag === null ? 0n : u64(core, opts.tag, 'tag');
  return { v, tag, meta: bytesCopy(core, opts.meta, 'meta') };
}

/** insertBatch(vectors, {tags, metas}) -> { flat, n, tags (BigUint64Array or null), metas (metasCopy) }. */
export function batchArgs(core, dim, vectors, opts) {
  opts = optionsOf(core, opts, 'insertBatch');
  const { flat, n } = batchCopy(core, vectors, dim);
  let tags = null;
  if (opts.tags !== undefined && opts.tags !== null) {
    tags = u64List(core, opts.tags, 'tags');
    if (tags.length !== n) throw errorNamed(core, 'EINVAL', `tags has ${tags.length} entries for ${n} vectors`);
  }
  return { flat, n, tags, metas: metasCopy(core, opts.metas, n) };
}

/** The ids of a batch of n whose first id is `first`: consecutive bigints. */
export function consecutiveIds(first, n) {
  const ids = new Array(n);
  for (let i = 0; i < n; i++) ids[i] = first + BigInt(i);
  return ids;
}

/**
 * update(id, changes) -> { fields (C.update bits of the fields given), vec, tag, meta }. `meta: null`
 * is given and clears; a field set to undefined is not given. No field at all is C's to refuse.
 */
export function updateArgs(core, dim, changes) {
  const U = core.C.update;
  changes = optionsOf(core, changes, 'update');
  const has = (k) => Object.prototype.hasOwnProperty.call(changes, k) && changes[k] !== undefined;
  let fields = 0, vec = null, tag = 0n, meta = null;
  if (has('vector')) { fields |= U.VECTOR; vec = vectorCopy(core, changes.vector, dim); }
  if (has('tag')) { fields |= U.TAG; tag = u64(core, changes.tag, 'tag'); }
  if (has('meta')) { fields |= U.META; meta = bytesCopy(core, changes.meta, 'meta'); }
  return { fields, vec, tag, meta };
}

/** search(query, {k, ef, mode, tag, tags}) -> { q, k, ef, mode (C value), tags (BigUint64Array: tag first, then tags; or null) }. */
export function searchArgs(core, dim, query, opts) {
  const C = core.C;
  opts = optionsOf(core, opts, 'search');
  const q = vectorCopy(core, query, dim, 'query');
  const k = u32(core, opts.k, 'k', 10);
  const ef = u32(core, opts.ef, 'ef', 0);
  const mode = enumValue(core, C.search, opts.mode, 'mode', C.search.AUTO);
  let tags = null;
  const hasTag = opts.tag !== undefined && opts.tag !== null;
  const hasTags = opts.tags !== undefined && opts.tags !== null;
  if (hasTag || hasTags) {
    const list = hasTags ? u64List(core, opts.tags, 'tags') : new BigUint64Array(0);
    tags = new BigUint64Array(list.length + (hasTag ? 1 : 0));
    if (hasTag) tags[0] = u64(core, opts.tag, 'tag');
    tags.set(list, hasTag ? 1 : 0);
  }
  return { q, k, ef, mode, tags };
}

/** The default of an expansion's maxNodes (the server's too: docs/HTTP.md). */
export const DEFAULT_MAX_NODES = 1000;

/** The expansion options {hops, dir, maxNodes} -> { hops, dir (C value), maxNodes }. */
export function expandArgs(core, opts) {
  opts = optionsOf(core, opts, 'expand');
  return {
    hops: u32(core, opts.hops, 'hops', 1),
    dir: enumValue(core, core.C.dir, opts.dir, 'dir', core.C.dir.OUT),
    maxNodes: u32(core, opts.maxNodes, 'maxNodes', DEFAULT_MAX_NODES),
  };
}

/** createNode({kind, record, label}) -> { kind, record (0n = none), label }. */
export function nodeArgs(core, opts) {
  opts = optionsOf(core, opts, 'createNode');
  return {
    kind: u32(core, opts.kind, 'kind', 0),
    record: opts.record === undefined || opts.record === null ? 0n : u64(core, opts.record, 'record'),
    label: bytesCopy(core, opts.label, 'label'),
  };
}

/** createEdge(from, to, {kind, weight}) -> { from, to, kind, weight (at the binary32 boundary, or null) }. */
export function edgeArgs(core, from, to, opts) {
  opts = optionsOf(core, opts, 'createEdge');
  const a = u64(core, from, 'from'), b = u64(core, to, 'to');
  const kind = u32(core, opts.kind, 'kind', 0);
  let weight = null;
  if (opts.weight !== undefined && opts.weight !== null) {
    if (typeof opts.weight != 'number') throw errorNamed(core, 'EINVAL', 'weight must be a number');
    weight = boundary(core, opts.weight);
  }
  return { from: a, to: b, kind, weight };
}

/** neighbors(node, {dir, kind}) -> { node, dir (C value), kind (or null: every kind) }. */
export function neighborsArgs(core, node, opts) {
  opts = optionsOf(core, opts, 'neighbors');
  return {
    node: u64(core, node, 'node id'),
    dir: enumValue(core, core.C.dir, opts.dir, 'dir', core.C.dir.OUT),
    kind: opts.kind === undefined || opts.kind === null ? null : u32(core, opts.kind, 'kind', 0),
  };
}
