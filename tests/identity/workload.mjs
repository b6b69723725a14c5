// workload.mjs: the identity workload generator in JavaScript, a line-by-line mirror of
// tests/identity/workload.c (same splitmix64 stream, same decisions, same model of the database), so
// that the JS side can replay exactly the events the C runner applies.
//
//   import { generate, golden } from './workload.mjs';
//   for (const ev of generate(golden.seed1)) { ... }      // ev.kind: 'insert', 'batch', 'search', ...
//
// Self-check (no dependencies):  node tests/identity/workload.mjs [tests/golden/identity-seed1.txt ...]
// recomputes the canonical event-stream hash of every checkpoint window and compares it with the
// `stream=` field the C runner wrote into the golden transcript (all goldens when none is named).
// Vectors are produced as IEEE-754 binary32 bit patterns with integer operations only; ev.vectors()
// returns them as Float32Array rows. Ids are JS numbers (they stay far below 2^53); tags and seeds
// that can exceed 2^53 are BigInt.

export const OK = 0, EINVAL = 1, ENAN = 2, EINF = 3, ERANGE = 4, EDIM = 5, ETOOBIG = 6, ENOTFOUND = 7, EK = 8,
  ECORRUPT = 10, EEXIST = 12, EEMPTY = 22;
const MAX_META = 65536, MAX_K = 10000;

export const golden = {
  seed1: { name: 'seed1', seed: 1n, dim: 24, metric: 'L2', m: 0, efc: 0, events: 5000, every: 1000 },
  seed2: { name: 'seed2', seed: 2n, dim: 24, metric: 'IP', m: 0, efc: 64, events: 5000, every: 1000 },
  seed3: { name: 'seed3', seed: 3n, dim: 24, metric: 'L2', m: 6, efc: 48, events: 5000, every: 1000 },
  seed4: { name: 'seed4', seed: 4n, dim: 784, metric: 'L2', m: 0, efc: 64, events: 1500, every: 500 },
  seed5: { name: 'seed5', seed: 5n, dim: 24, metric: 'L2', m: 0, efc: 0, events: 5000, every: 1000, index: 'none' },
  // mostly whole-valued vectors (workload.c): both distance kernels
  seed6: { name: 'seed6', seed: 6n, dim: 40, metric: 'L2', m: 0, efc: 64, events: 3000, every: 1000, whole: 90 },
  seed7: { name: 'seed7', seed: 7n, dim: 40, metric: 'IP', m: 0, efc: 64, events: 3000, every: 1000, whole: 90 },
  // the compact traversal copy over [-trav, trav] (workload.c): lossy (seed8) and lossless (seed9)
  seed8: { name: 'seed8', seed: 8n, dim: 40, metric: 'L2', m: 0, efc: 64, events: 3000, every: 1000, whole: 90, trav: 256 },
  seed9: { name: 'seed9', seed: 9n, dim: 40, metric: 'L2', m: 0, efc: 64, events: 3000, every: 1000, whole: 90, trav: 127 },
};

export const KINDS = ['?', 'insert', 'insert_raw', 'batch', 'delete', 'update', 'set_meta', 'node_create',
  'node_delete', 'edge_create', 'edge_delete', 'search', 'expand', 'search_expand'];
const K = Object.fromEntries(KINDS.map((k, i) => [k, i]));
const F_VEC = 1, F_TAG = 2, F_WEIGHT = 4;
const MAX_BATCH = 32, BATCH_META = 256, RING = 16;
const M64 = (1n << 64n) - 1n;

class Rng {
  constructor(seed) { this.s = BigInt.asUintN(64, BigInt(seed)); }
  next() {
    this.s = (this.s + 0x9E3779B97F4A7C15n) & M64;
    let z = this.s;
    z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M64;
    return z ^ (z >> 31n);
  }
  below(n) { return Number(this.next() % BigInt(n)); }
  top23() { return Number(this.next() >> 41n); }
}

function fbits(sign, m, e) {
  let p = 0;
  while ((m >>> p) > 1) p++;
  return ((sign << 31) | ((p + e + 127) << 23) | ((p <= 23 ? m << (23 - p) : m >>> (p - 23)) & 0x7FFFFF)) >>> 0;
}
function q16bits(q) {
  const a = Math.abs(q);
  if (a === 0) return 0;
  return fbits(q < 0 ? 1 : 0, a, -16);
}

const BOUNDARY = [0x43800000, 0xC3800000, 0x437FFFFF, 0xC37FFFFF, 0x37800000, 0xB7800000, 0x37000000, 0xB7000000,
  0x37C00000, 0x37A00000, 0x37E00000, 0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x3F000000, 0x00000001,
  0x807FFFFF, 0x00800000, 0x3DCCCCCD, 0xBDCCCCCD, 0x42FF0000, 0x36FFFFFF, 0x37000001];

function genComp(r) {
  const c = r.below(100), sign = r.below(2);
  if (c < 40) { const e = 94 + r.below(41), frac = r.top23(); return ((sign << 31) | (e << 23) | frac) >>> 0; }
  if (c < 55) return q16bits(r.below(2 ** 25 + 1) - 2 ** 24);
  if (c < 65) return fbits(sign, 2 * r.below(2 ** 23) + 1, -17);
  if (c < 75) return BOUNDARY[r.below(BOUNDARY.length)] >>> 0;
  if (c < 85) { const e = r.below(94), frac = r.top23(); return ((sign << 31) | (e << 23) | frac) >>> 0; }
  return q16bits(r.below(2 ** 19 + 1) - 2 ** 18);
}

function genBad(r) { // -> [bits, code]
  switch (r.below(8)) {
    case 0: return [0x7FC00000, ENAN];
    case 1: return [(0x7F800000 | (1 + r.below(0x7FFFFF))) >>> 0, ENAN];
    case 2: return [0xFFC00000, ENAN];
    case 3: return [0x7F800000, EINF];
    case 4: return [0xFF800000, EINF];
    case 5: return [0x43800001, ERANGE];
    case 6: return [0xC3800001, ERANGE];
    default: {
      const e = 135 + r.below(119), frac = r.top23();
      return [((r.below(2) << 31) | (e << 23) | frac) >>> 0, ERANGE];
    }
  }
}

// Swap-remove set of live ids, in the exact order the C model keeps them.
class LiveList {
  constructor() { this.ids = []; this.pos = new Map(); }
  add(id) { this.pos.set(id, this.ids.length); this.ids.push(id); }
  remove(id) {
    const p = this.pos.get(id), last = this.ids.pop();
    this.pos.delete(id);
    if (last !== id) { this.ids[p] = last; this.pos.set(last, p); }
  }
  has(id) { return this.pos.has(id); }
  get n() { return this.ids.length; }
}

export class Generator {
  constructor(cfg) {
    this.cfg = cfg;
    this.dim = cfg.dim;
    this.flat = cfg.index === 'none'; // index-less store: searches in mode HNSW are refused (EINVAL)
    this.whole = cfg.whole || 0; // percent of fresh vectors with integer components -wmax..wmax
    this.wmax = cfg.trav && cfg.trav < 256 ? cfg.trav : 256; // inside a narrower traversal range
    this.r = new Rng(cfg.seed);
    this.nextRec = 1; this.nextNode = 1; this.nextEdge = 1;
    this.recs = new LiveList(); this.recNode = new Map();
    this.nodes = new LiveList(); this.nodeRec = new Map();
    this.edges = new LiveList(); this.edgeFrom = new Map(); this.edgeTo = new Map();
    this.ring = []; this.ringNext = 0;
  }

  // model (only for events predicted to succeed)
  recAdd() { const id = this.nextRec++; this.recs.add(id); this.recNode.set(id, 0); }
  edgeDel(e) { this.edges.remove(e); this.edgeFrom.delete(e); this.edgeTo.delete(e); }
  nodeDel(n) {
    this.nodes.remove(n);
    const rec = this.nodeRec.get(n);
    if (rec) this.recNode.set(rec, 0);
    this.nodeRec.set(n, 0);
    for (let i = this.edges.n; i > 0; i--) {
      const e = this.edges.ids[i - 1];
      if (this.edgeFrom.get(e) === n || this.edgeTo.get(e) === n) this.edgeDel(e);
    }
  }
  recDel(id) {
    this.recs.remove(id);
    const n = this.recNode.get(id);
    if (n) this.nodeDel(n);
  }
  pickRec() {
    if (this.recs.n && this.r.below(10) < 9) return this.recs.ids[this.r.below(this.recs.n)];
    return this.r.below(this.nextRec + 3);
  }
  pickNode() {
    if (this.nodes.n && this.r.below(10) < 9) return this.nodes.ids[this.r.below(this.nodes.n)];
    return this.r.below(this.nextNode + 3);
  }
  pickEdge() {
    if (this.edges.n && this.r.below(10) < 9) return this.edges.ids[this.r.below(this.edges.n)];
    return this.r.below(this.nextEdge + 3);
  }
  genTag() { return this.r.below(10) < 9 ? BigInt(this.r.below(16)) : this.r.next(); }
  genBytes(n) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n;) {
      let v = this.r.next();
      for (let j = 0; j < 8 && i < n; j++, i++) { b[i] = Number(v & 0xFFn); v >>= 8n; }
    }
    return b;
  }
  genMetaLen() {
    const c = this.r.below(1000);
    if (c < 400) return 0;
    if (c < 800) return this.r.below(65);
    if (c < 960) return this.r.below(1025);
    if (c < 994) return this.r.below(16385);
    if (c < 998) return this.r.below(MAX_META + 1);
    return MAX_META;
  }
  genVec(remember) { // -> Uint32Array(dim)
    if (this.ring.length && this.r.below(100) < 5) return this.ring[this.r.below(this.ring.length)].slice();
    const v = new Uint32Array(this.dim);
    if (this.whole && this.r.below(100) < this.whole) {
      for (let i = 0; i < this.dim; i++) v[i] = q16bits((this.r.below(2 * this.wmax + 1) - this.wmax) * 65536);
    } else {
      for (let i = 0; i < this.dim; i++) v[i] = genComp(this.r);
    }
    if (remember) {
      this.ring[this.ringNext] = v.slice();
      this.ringNext = (this.ringNext + 1) % RING;
    }
    return v;
  }
  poison(v) { const at = this.r.below(v.length); const [b, code] = genBad(this.r); v[at] = b; return code; }
  genQuery(ev) {
    const c = this.r.below(100);
    ev.nvec = 1;
    if (c < 30 && this.ring.length) ev.vbits = [this.ring[this.r.below(this.ring.length)].slice()];
    else ev.vbits = [this.genVec(false)];
    if (c >= 95) {
      const code = this.poison(ev.vbits[0]);
      if (ev.expect === OK) ev.expect = code;
    }
  }
  genParams(ev) {
    const c = this.r.below(100);
    ev.mode = this.r.below(3);
    ev.k = 1 + this.r.below(20);
    if (c < 2) { ev.k = 0; ev.expect = EK; } else if (c < 3) { ev.k = MAX_K + 1; ev.expect = EK; }
    ev.ef = this.r.below(2) ? 0 : ev.k + this.r.below(100);
    const d = this.r.below(10);
    const ntags = d < 5 ? 0 : d < 8 ? 1 : 2 + this.r.below(4);
    ev.stags = [];
    for (let i = 0; i < ntags; i++) ev.stags.push(this.r.below(10) < 9 ? BigInt(this.r.below(18)) : this.r.next());
    // k is checked first, then the mode against the store, then the query
    if (this.flat && ev.mode === 2 && ev.expect === OK) ev.expect = EINVAL;
  }
  genExpand(ev) { ev.hops = this.r.below(5); ev.dir = 1 + this.r.below(3); ev.maxNodes = 1 + this.r.below(200); }

  next() {
    const r = this.r, dim = this.dim;
    const c = r.below(1000);
    const ev = newEvent(dim);
    if (c < 300) {
      const sub = r.below(100);
      ev.kind = 'insert'; ev.nvec = 1;
      ev.vbits = [this.genVec(true)];
      ev.tags = [this.genTag()];
      ev.mlen = [this.genMetaLen()];
      if (sub < 8) ev.expect = this.poison(ev.vbits[0]);
      else if (sub < 10) { ev.mlen[0] = MAX_META + 1 + r.below(100); ev.expect = ETOOBIG; }
      else if (sub < 12) {
        ev.kind = 'insert_raw'; ev.mlen[0] = 0;
        ev.vdim = r.below(2) ? dim + 1 : dim - 1;
        const v = new Uint32Array(ev.vdim);
        v.set(ev.vbits[0].subarray(0, Math.min(dim, ev.vdim)));
        if (ev.vdim > dim) v[dim] = genComp(r);
        ev.vbits = [v];
        ev.expect = ECORRUPT;
      }
      ev.metas = [this.genBytes(ev.mlen[0])];
      if (ev.expect === OK) this.recAdd();
    } else if (c < 360) {
      let n = 1 + r.below(MAX_BATCH);
      const sub = r.below(100);
      ev.kind = 'batch';
      if (sub < 3) n = 0;
      ev.nvec = n;
      for (let i = 0; i < n; i++) {
        ev.vbits.push(this.genVec(true));
        ev.tags.push(this.genTag());
        ev.mlen.push(r.below(4) ? r.below(BATCH_META + 1) : 0);
        ev.metas.push(this.genBytes(ev.mlen[i]));
      }
      if (n === 0) ev.expect = EEMPTY;
      else if (sub < 13) ev.expect = this.poison(ev.vbits[r.below(n)]);
      else for (let i = 0; i < n; i++) this.recAdd();
    } else if (c < 430) {
      ev.kind = 'delete';
      ev.id = this.pickRec();
      if (this.recs.has(ev.id)) this.recDel(ev.id); else ev.expect = ENOTFOUND;
    } else if (c < 510) {
      const sub = r.below(3);
      ev.kind = 'update';
      ev.id = this.pickRec();
      ev.flags = sub === 0 ? F_VEC : sub === 1 ? F_TAG : (F_VEC | F_TAG);
      if (ev.flags & F_TAG) ev.tag = this.genTag();
      if (ev.flags & F_VEC) {
        ev.nvec = 1;
        ev.vbits = [this.genVec(true)];
        if (r.below(100) < 8) ev.expect = this.poison(ev.vbits[0]);
      }
      if (ev.expect === OK && !this.recs.has(ev.id)) ev.expect = ENOTFOUND;
    } else if (c < 550) {
      const sub = r.below(100);
      ev.kind = 'set_meta';
      ev.id = this.pickRec();
      ev.tags = [0n];
      ev.mlen = [sub < 15 ? 0 : this.genMetaLen()];
      if (sub >= 97) { ev.mlen[0] = MAX_META + 1 + r.below(100); ev.expect = ETOOBIG; }
      ev.metas = [this.genBytes(ev.mlen[0])];
      if (ev.expect === OK && !this.recs.has(ev.id)) ev.expect = ENOTFOUND;
    } else if (c < 620) {
      const sub = r.below(100);
      ev.kind = 'node_create';
      ev.ukind = r.below(5);
      ev.tags = [0n];
      ev.mlen = [r.below(4) ? r.below(49) : this.genMetaLen()];
      ev.metas = [this.genBytes(ev.mlen[0])];
      ev.id = sub < 40 ? 0 : this.pickRec();
      if (ev.id && !this.recs.has(ev.id)) ev.expect = ENOTFOUND;
      else if (ev.id && this.recNode.get(ev.id)) ev.expect = EEXIST;
      else {
        const n = this.nextNode++;
        this.nodes.add(n); this.nodeRec.set(n, ev.id);
        if (ev.id) this.recNode.set(ev.id, n);
      }
    } else if (c < 632) {
      ev.kind = 'node_delete';
      ev.id = this.pickNode();
      if (this.nodes.has(ev.id)) this.nodeDel(ev.id); else ev.expect = ENOTFOUND;
    } else if (c < 760) {
      const sub = r.below(100);
      ev.kind = 'edge_create';
      ev.id = this.pickNode();
      ev.id2 = this.pickNode();
      ev.ukind = r.below(4);
      if (sub < 50) {
        ev.flags = F_WEIGHT;
        ev.weight = genComp(r);
        if (sub < 5) [ev.weight, ev.expect] = genBad(r);
      }
      if (ev.expect === OK && (!this.nodes.has(ev.id) || !this.nodes.has(ev.id2))) ev.expect = ENOTFOUND;
      if (ev.expect === OK) {
        const e = this.nextEdge++;
        this.edges.add(e); this.edgeFrom.set(e, ev.id); this.edgeTo.set(e, ev.id2);
      }
    } else if (c < 775) {
      ev.kind = 'edge_delete';
      ev.id = this.pickEdge();
      if (this.edges.has(ev.id)) this.edgeDel(ev.id); else ev.expect = ENOTFOUND;
    } else if (c < 900) {
      ev.kind = 'search';
      this.genParams(ev);
      this.genQuery(ev);
    } else if (c < 950) {
      ev.kind = 'expand';
      this.genExpand(ev);
      const ns = r.below(4);
      for (let i = 0; i < ns; i++) {
        const s = this.pickNode();
        ev.seeds.push(s);
        if (!this.nodes.has(s)) ev.expect = ENOTFOUND;
      }
    } else {
      ev.kind = 'search_expand';
      this.genParams(ev);
      this.genQuery(ev);
      this.genExpand(ev);
    }
    return ev;
  }
}

function newEvent(dim) {
  return {
    kind: '?', expect: OK, nvec: 0, vdim: dim, id: 0, id2: 0, flags: 0, tag: 0n, ukind: 0, weight: 0,
    k: 0, ef: 0, mode: 0, stags: [], hops: 0, dir: 0, maxNodes: 0, seeds: [],
    vbits: [], tags: [], mlen: [], metas: [],
    vectors() { return this.vbits.map((v) => new Float32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength))); },
    weightF32() { return new Float32Array(new Uint32Array([this.weight]).buffer)[0]; },
  };
}

export function* generate(cfg) {
  const g = new Generator(cfg);
  for (let i = 0; i < cfg.events; i++) yield g.next();
}

// The canonical bytes of an event, exactly as workload.c's hash_event feeds them to SHA-256.
export function serializeEvent(ev) {
  const nrec = ev.kind === 'insert' || ev.kind === 'insert_raw' || ev.kind === 'batch' ? ev.nvec
    : ev.kind === 'set_meta' || ev.kind === 'node_create' ? 1 : 0;
  const nmeta = ev.metas.reduce((s, m) => s + m.length, 0);
  const size = 4 * 5 + 8 * 2 + 4 + 8 + 4 * 2 + 4 * 4 + 8 * ev.stags.length + 4 * 4 + 8 * ev.seeds.length +
    4 * ev.nvec * ev.vdim + 12 * nrec + nmeta;
  const b = new Uint8Array(size), dv = new DataView(b.buffer);
  let o = 0;
  const u32 = (v) => { dv.setUint32(o, v >>> 0, true); o += 4; };
  const u64 = (v) => { dv.setBigUint64(o, BigInt.asUintN(64, BigInt(v)), true); o += 8; };
  u32(K[ev.kind]); u32(ev.expect); u32(ev.nvec); u32(ev.vdim); u32(nrec);
  u64(ev.id); u64(ev.id2); u32(ev.flags); u64(ev.tag); u32(ev.ukind); u32(ev.weight);
  u32(ev.k); u32(ev.ef); u32(ev.mode); u32(ev.stags.length);
  for (const t of ev.stags) u64(t);
  u32(ev.hops); u32(ev.dir); u32(ev.maxNodes); u32(ev.seeds.length);
  for (const s of ev.seeds) u64(s);
  for (let i = 0; i < ev.nvec; i++) for (let j = 0; j < ev.vdim; j++) u32(ev.vbits[i][j]);
  for (let i = 0; i < nrec; i++) { u64(ev.tags[i]); u32(ev.mlen[i]); }
  for (const m of ev.metas) { b.set(m, o); o += m.length; }
  if (o !== size) throw new Error(`serializeEvent: size ${o} != ${size}`);
  return b;
}

// Parses a golden transcript into { header, checkpoints: [{ev, fields}] }.
export function parseTranscript(text) {
  const out = { header: '', checkpoints: [], end: '' };
  for (const line of text.split('\n')) {
    if (line.startsWith('identity v1 ')) out.header = line;
    else if (line.startsWith('end ')) out.end = line;
    else if (line.startsWith('ev=')) {
      const fields = Object.fromEntries(line.split(' ').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; }));
      out.checkpoints.push({ ev: Number(fields.ev), fields });
    }
  }
  return out;
}

// Node-only self-check: the JS stream hashes must equal the C runner's `stream=` checkpoints.
async function selfCheck(files) {
  const { createHash } = await import('node:crypto');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const url = await import('node:url');
  const here = path.dirname(url.fileURLToPath(import.meta.url));
  if (!files.length) {
    const dir = path.join(here, '..', 'golden');
    files = fs.readdirSync(dir).filter((f) => /^identity-.*\.txt$/.test(f)).sort().map((f) => path.join(dir, f));
  }
  let bad = 0;
  for (const file of files) {
    const t = parseTranscript(fs.readFileSync(file, 'utf8'));
    const name = /config=(\S+)/.exec(t.header)?.[1];
    const cfg = golden[name];
    if (!cfg) { console.log(`workload.mjs: ${file}: unknown configuration '${name}'`); bad++; continue; }
    const g = new Generator(cfg);
    const want = new Map(t.checkpoints.map((c) => [c.ev, c.fields.stream]));
    let h = createHash('sha256'), ok = 0, first = null;
    const t0 = Date.now();
    for (let i = 0; i < cfg.events; i++) {
      h.update(serializeEvent(g.next()));
      if ((i + 1) % cfg.every === 0 || i + 1 === cfg.events) {
        const got = h.digest('hex');
        h = createHash('sha256');
        if (got === want.get(i + 1)) ok++;
        else if (!first) first = `ev=${i + 1}: stream expected ${want.get(i + 1)} got ${got}`;
      }
    }
    if (first) { bad++; console.log(`workload.mjs: ${name}: MISMATCH at ${first}`); }
    else console.log(`workload.mjs: ${name}: JS replay of the event stream identical at all ${ok} checkpoints (${Date.now() - t0} ms)`);
  }
  return bad;
}

if (typeof process === 'object' && process.argv && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1] || '').href) {
  process.exit((await selfCheck(process.argv.slice(2))) ? 1 : 0);
}
