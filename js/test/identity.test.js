// identity.test.js: replays the identity workload (tests/identity/workload.mjs, the JS mirror of the C
// generator) through the `valori` package and checks every checkpoint of the golden transcripts
// tests/golden/identity-seed1.txt (HNSW store), identity-seed5.txt (index-less store, where every
// mode 'hnsw' search must be refused), identity-seed8.txt and identity-seed9.txt (stores with a lossy
// and a lossless compact traversal copy): state root, index digest, snapshot SHA-256, the event
// stream itself, and the hashes of every result code and search/expand result (same encoding as
// tests/identity/workload.c). Owned by the identity suite (scripts/identity.sh).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import url from 'node:url';
import { describe, expect, it } from 'vitest';
import { Valori } from '../src/index.js';
import { Generator, KINDS, golden, parseTranscript, serializeEvent } from '../../tests/identity/workload.mjs';

const here = path.dirname(url.fileURLToPath(import.meta.url));
const MODES = ['auto', 'exact', 'hnsw'];
const DIRS = [null, 'out', 'in', 'both'];

class Hasher {
  constructor() { this.h = createHash('sha256'); }
  u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); this.h.update(b); }
  u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v))); this.h.update(b); }
  bytes(b) { this.h.update(b); }
  hex() { return this.h.digest('hex'); }
  raw() { return this.h.digest(); }
}

// The INSERT event with the wrong number of components, exactly as workload.c builds it.
function rawInsert(ev) {
  const b = Buffer.alloc(20 + 4 * ev.vdim);
  b.writeUInt32LE(1, 0); // opcode INSERT, flags 0
  b.writeUInt32LE(b.length - 8, 4);
  b.writeBigUInt64LE(BigInt.asUintN(64, ev.tags[0]), 8);
  b.writeUInt32LE(0, 16);
  for (let i = 0; i < ev.vdim; i++) { // the same boundary conversion the core does (all components valid)
    const q = f32ToQ16(ev.vbits[0][i]);
    b.writeInt32LE(q, 20 + 4 * i);
  }
  return new Uint8Array(b);
}
function f32ToQ16(bits) { // mirrors core/fixed.c for valid inputs (round half to even)
  const sign = bits >>> 31, exp = (bits >>> 23) & 0xFF, m = (bits & 0x7FFFFF) | 0x800000;
  if (exp === 0) return 0;
  const sh = exp - 134;
  let q;
  if (sh >= 0) q = m * 2 ** sh;
  else {
    const r = -sh;
    if (r >= 25) q = 0;
    else {
      const half = 2 ** (r - 1), rem = m % 2 ** r;
      q = Math.floor(m / 2 ** r);
      if (rem > half || (rem === half && (q & 1))) q++;
    }
  }
  return sign ? -q : q;
}

async function call(fn) {
  try { return { rc: 0, value: await fn() }; } catch (e) {
    if (e && e.name === 'ValoriError') return { rc: e.errno, value: undefined };
    throw e;
  }
}

describe.each(['seed1', 'seed5', 'seed8', 'seed9'])('identity workload through the JS package (%s)', (name) => {
  it('reproduces every golden checkpoint', async () => {
    const cfg = golden[name];
    const want = parseTranscript(fs.readFileSync(path.join(here, '..', '..', 'tests', 'golden', `identity-${name}.txt`), 'utf8'));
    const db = await Valori.open({ path: ':memory:', dim: cfg.dim, metric: 'l2', ...(cfg.index ? { index: cfg.index } : {}),
      ...(cfg.m || cfg.efc ? { hnsw: { ...(cfg.m ? { m: cfg.m } : {}), ...(cfg.efc ? { efConstruction: cfg.efc } : {}) } } : {}),
      ...(cfg.trav ? { traversal: { int8: [-cfg.trav, cfg.trav] } } : {}) });
    const gen = new Generator(cfg);
    let results = new Hasher(), codes = new Hasher(), stream = new Hasher();
    const got = [];
    try {
      for (let i = 0; i < cfg.events; i++) {
        const ev = gen.next();
        stream.bytes(serializeEvent(ev));
        const vec = () => ev.vectors()[0];
        const searchOpts = () => ({ k: ev.k, ef: ev.ef, mode: MODES[ev.mode], ...(ev.stags.length ? { tags: ev.stags } : {}) });
        const expandOpts = () => ({ hops: ev.hops, dir: DIRS[ev.dir], maxNodes: ev.maxNodes });
        let r, id = 0n, hits = null, reach = null;
        switch (ev.kind) {
          case 'insert':
            r = await call(() => db.insert(vec(), { tag: ev.tags[0], meta: ev.metas[0] }));
            if (!r.rc) id = r.value;
            break;
          case 'insert_raw':
            r = await call(() => db.apply(rawInsert(ev)));
            if (!r.rc) id = r.value;
            break;
          case 'batch':
            r = await call(() => db.insertBatch(ev.vectors(), { tags: ev.tags, metas: ev.metas }));
            if (!r.rc) id = r.value[0];
            break;
          case 'delete': r = await call(() => db.delete(ev.id)); break;
          case 'update': {
            const ch = {};
            if (ev.flags & 1) ch.vector = vec();
            if (ev.flags & 2) ch.tag = ev.tag;
            r = await call(() => db.update(ev.id, ch));
            break;
          }
          case 'set_meta': r = await call(() => db.setMeta(ev.id, ev.metas[0])); break;
          case 'node_create':
            r = await call(() => db.createNode({ kind: ev.ukind, record: ev.id || null, label: ev.metas[0] }));
            if (!r.rc) id = r.value;
            break;
          case 'node_delete': r = await call(() => db.deleteNode(ev.id)); break;
          case 'edge_create':
            r = await call(() => db.createEdge(ev.id, ev.id2, { kind: ev.ukind, ...(ev.flags & 4 ? { weight: ev.weightF32() } : {}) }));
            if (!r.rc) id = r.value;
            break;
          case 'edge_delete': r = await call(() => db.deleteEdge(ev.id)); break;
          case 'search':
            r = await call(() => db.search(vec(), searchOpts()));
            hits = r.rc ? [] : r.value;
            break;
          case 'expand':
            r = await call(() => db.expand(ev.seeds, expandOpts()));
            reach = r.rc ? [] : r.value;
            break;
          case 'search_expand':
            r = await call(() => db.searchExpand(vec(), { ...searchOpts(), ...expandOpts() }));
            hits = r.rc ? [] : r.value.hits;
            reach = r.rc ? [] : r.value.nodes;
            break;
          default: throw new Error(`unknown kind ${ev.kind}`);
        }
        codes.u64(i); codes.u32(r.rc); codes.u64(id);
        if (hits || reach) {
          const h = new Hasher();
          h.u64(i); h.u32(KINDS.indexOf(ev.kind)); h.u32(r.rc);
          if (hits) { h.u32(hits.length); for (const x of hits) { h.u64(x.id); h.u64(x.distanceRaw); } }
          if (reach) { h.u32(reach.length); for (const x of reach) { h.u64(x.node); h.u64(x.via); h.u32(x.depth); } }
          results.bytes(h.raw());
        }
        if ((i + 1) % cfg.every === 0 || i + 1 === cfg.events) {
          const snap = await db.snapshot();
          got.push({
            ev: i + 1,
            root: (await db.stateRoot()).toLowerCase(),
            digest: (await db.indexDigest()).toLowerCase(),
            snap: createHash('sha256').update(snap).digest('hex'),
            stream: stream.hex(),
            codes: codes.hex(),
            results: results.hex(),
          });
          results = new Hasher(); codes = new Hasher(); stream = new Hasher();
        }
      }
    } finally {
      await db.close();
    }
    const expected = want.checkpoints.map((c) => ({ ev: c.ev, root: c.fields.root, digest: c.fields.digest,
      snap: c.fields.snap, stream: c.fields.stream, codes: c.fields.codes, results: c.fields.results }));
    // Root first (the product's promise), then everything else, so a failure names the component.
    expect(got.map((c) => `ev=${c.ev} stream=${c.stream}`)).toEqual(expected.map((c) => `ev=${c.ev} stream=${c.stream}`));
    expect(got.map((c) => `ev=${c.ev} root=${c.root}`)).toEqual(expected.map((c) => `ev=${c.ev} root=${c.root}`));
    expect(got.map((c) => `ev=${c.ev} digest=${c.digest}`)).toEqual(expected.map((c) => `ev=${c.ev} digest=${c.digest}`));
    expect(got.map((c) => `ev=${c.ev} snap=${c.snap}`)).toEqual(expected.map((c) => `ev=${c.ev} snap=${c.snap}`));
    expect(got.map((c) => `ev=${c.ev} codes=${c.codes}`)).toEqual(expected.map((c) => `ev=${c.ev} codes=${c.codes}`));
    expect(got.map((c) => `ev=${c.ev} results=${c.results}`)).toEqual(expected.map((c) => `ev=${c.ev} results=${c.results}`));
  }, 300_000);
});
