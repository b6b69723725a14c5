// suite.js: the one test body run against every backend and environment (node-fs, node-memory,
// chromium-idb, chromium-memory). `env.open(opts)` opens a database on a fresh store of that backend
// for each test (env.fresh() names a new one; env.open({ reuse: true }) reopens the last one).
import { describe, it, expect } from 'vitest';
import { Valori, ValoriError } from '../src/index.js';
import { workloadOps, runOps, WORKLOAD_DIM } from './workload.js';
import { goldenWorkload, GOLDEN_OPTIONS, GOLDEN_FLAT_OPTIONS, parseGolden, sha256hex } from './golden-workload.js';
import { runCall, runAllAtOnce, openWithSetup } from './conformance.js';
import goldenText from '../../tests/golden/core.txt?raw';
import goldenFlatText from '../../tests/golden/core-flat.txt?raw';
import conformanceTable from '../../tests/conformance/bad_calls.json';

const f32 = (...xs) => Float32Array.from(xs);

async function codeOf(p) {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ValoriError)) throw e;
    return e.code;
  }
  return 'resolved';
}

const text = (b) => (b ? new TextDecoder().decode(b) : null);

/**
 * @param {string} label backend name for the test titles
 * @param {{persistent: boolean, remote?: boolean, fresh: () => string, open: (opts?: object) => Promise<Valori>,
 *          exists?: () => Promise<boolean>}} env  exists(): is anything stored under the last fresh() name;
 *          remote: a collection of a `valori serve` server (Valori.connect), whose only writer is the server;
 *          unreportedStats: stats() fields this backend reports as null (a server whose describe lacks them)
 */
export function sharedSuite(label, env) {
  /** The expected values of stats fields, null for those env.unreportedStats lists (a server that does not report them). */
  const reported = (names, values) => names.map((k, i) => ((env.unreportedStats ?? []).includes(k) ? null : values[i]));
  describe(`valori on ${label}`, () => {
    it('inserts and reads back records with bigint ids, tags and metadata', async () => {
      env.fresh();
      const db = await env.open({ dim: 3 });
      try {
        const a = await db.insert(f32(1, 2, 3), { tag: 7, meta: 'hello' });
        const b = await db.insert([0.5, -0.25, 4], { tag: 8n });
        expect(a).toBe(1n);
        expect(b).toBe(2n);
        const r = await db.get(1);
        expect(Array.from(r.vector)).toEqual([1, 2, 3]);
        expect(r.tag).toBe(7n);
        expect(new TextDecoder().decode(r.meta)).toBe('hello');
        expect((await db.get(2n)).meta).toBeNull();
        expect(await db.get(99)).toBeNull();
      } finally {
        await db.close();
      }
    });

    it('inserts a batch atomically with consecutive ids, and a bad row stores nothing', async () => {
      env.fresh();
      const db = await env.open({ dim: 2 });
      try {
        const ids = await db.insertBatch([f32(0, 0), f32(1, 1), f32(2, 2)], { tags: [1, 2, 3], metas: ['a', null, 'c'] });
        expect(ids).toEqual([1n, 2n, 3n]);
        const root = await db.stateRoot();
        expect(await codeOf(db.insertBatch([f32(0, 1), f32(NaN, 1)]))).toBe('ENAN');
        expect(await codeOf(db.insertBatch([]))).toBe('EEMPTY');
        expect(await db.stateRoot()).toBe(root);
        const flat = await db.insertBatch(new Float32Array([5, 5, 6, 6]));
        expect(flat).toEqual([4n, 5n]);
        expect(new TextDecoder().decode((await db.get(3)).meta)).toBe('c');
      } finally {
        await db.close();
      }
    });

    it('deletes and updates records; unknown ids give ENOTFOUND', async () => {
      env.fresh();
      const db = await env.open({ dim: 2 });
      try {
        const [a, b] = await db.insertBatch([f32(0, 0), f32(10, 10)]);
        await db.update(a, { vector: f32(9, 9), tag: 4 });
        let r = await db.get(a);
        expect(Array.from(r.vector)).toEqual([9, 9]);
        expect(r.tag).toBe(4n);
        await db.update(a, { meta: 'm' });
        expect(new TextDecoder().decode((await db.get(a)).meta)).toBe('m');
        await db.setMeta(a, null);
        expect((await db.get(a)).meta).toBeNull();
        await db.delete(b);
        expect(await db.get(b)).toBeNull();
        expect(await codeOf(db.delete(b))).toBe('ENOTFOUND');
        expect(await codeOf(db.update(77, { tag: 1 }))).toBe('ENOTFOUND');
        const s = await db.stats();
        expect(s.records).toBe(1);
        expect(s.nextRecordId).toBe(3n);
      } finally {
        await db.close();
      }
    });

    it('searches by exact integer distance with tag filters that always match', async () => {
      env.fresh();
      const db = await env.open({ dim: 2, hnsw: { m: 8, efConstruction: 64 } });
      try {
        const vecs = [], tags = [];
        for (let i = 0; i < 300; i++) { vecs.push(f32(i % 17, Math.floor(i / 17))); tags.push(i % 10); }
        await db.insertBatch(vecs, { tags });
        const hits = await db.search(f32(0, 0), { k: 5 });
        expect(hits.length).toBe(5);
        expect(hits[0]).toEqual({ id: 1n, distance: 0, distanceRaw: 0n });
        expect(hits[1].distance).toBe(1);
        expect(hits[1].distanceRaw).toBe(1n << 32n);
        for (let i = 1; i < hits.length; i++) {
          const p = hits[i - 1], q = hits[i];
          expect(p.distanceRaw < q.distanceRaw || (p.distanceRaw === q.distanceRaw && p.id < q.id)).toBe(true);
        }
        const filtered = await db.search(f32(3, 3), { k: 20, tag: 3, ef: 100 });
        expect(filtered.length).toBe(20);
        for (const h of filtered) expect((await db.get(h.id)).tag).toBe(3n);
        const two = await db.search(f32(3, 3), { k: 100, tags: [1, 2n] });
        expect(two.length).toBe(60);
        const exact = await db.search(f32(3, 3), { k: 10, mode: 'exact' });
        expect(exact.length).toBe(10);
        const all = await db.search(f32(0, 0), { k: 1000 });
        expect(all.length).toBe(300);
      } finally {
        await db.close();
      }
    });

    it('builds and walks the knowledge graph', async () => {
      env.fresh();
      const db = await env.open({ dim: 2 });
      try {
        const [r1, r2] = await db.insertBatch([f32(0, 0), f32(5, 5)]);
        const n1 = await db.createNode({ kind: 1, record: r1, label: 'alice' });
        const n2 = await db.createNode({ kind: 1, record: r2, label: 'bob' });
        const n3 = await db.createNode({ kind: 2 });
        const e1 = await db.createEdge(n1, n2, { kind: 7, weight: 0.5 });
        const e2 = await db.createEdge(n2, n3, { kind: 8 });
        expect([n1, n2, n3, e1, e2]).toEqual([1n, 2n, 3n, 1n, 2n]);
        const node = await db.getNode(n1);
        expect(node.record).toBe(r1);
        expect(new TextDecoder().decode(node.label)).toBe('alice');
        expect((await db.getNode(n3)).record).toBeNull();
        expect(await db.nodeOfRecord(r2)).toBe(n2);
        expect(await db.neighbors(n1)).toEqual([{ id: e1, from: n1, to: n2, kind: 7, weight: 0.5 }]);
        expect((await db.neighbors(n2, { dir: 'in' }))[0].from).toBe(n1);
        expect((await db.neighbors(n2, { dir: 'both', kind: 8 })).map((e) => e.id)).toEqual([e2]);
        const reach = await db.expand([n1], { hops: 2 });
        expect(reach).toEqual([
          { node: n1, via: 0n, depth: 0 }, { node: n2, via: e1, depth: 1 }, { node: n3, via: e2, depth: 2 }]);
        const se = await db.searchExpand(f32(0, 0), { k: 1, hops: 1 });
        expect(se.hits[0].id).toBe(r1);
        expect(se.nodes.map((n) => n.node)).toEqual([n1, n2]);
        await db.delete(r2); // the linked node and its edges go with it
        expect(await db.getNode(n2)).toBeNull();
        expect(await db.neighbors(n1)).toEqual([]);
        await db.deleteEdge(e1).catch(() => undefined);
        expect(await codeOf(db.createEdge(n1, 99))).toBe('ENOTFOUND');
        await db.deleteNode(n3);
        expect((await db.stats()).nodes).toBe(1);
      } finally {
        await db.close();
      }
    });

    it('reproduces the fixed workload state root, and its snapshot loads to the same root', async () => {
      env.fresh();
      const db = await env.open({ dim: WORKLOAD_DIM });
      const mem = await Valori.open({ dim: WORKLOAD_DIM });
      try {
        const ops = workloadOps();
        await runOps(db, ops);
        await runOps(mem, ops);
        const root = await db.stateRoot();
        expect(root).toMatch(/^[0-9a-f]{64}$/);
        expect(root).toBe(await mem.stateRoot());
        await db.check();
        const snap = await db.snapshot();
        expect(snap).toBeInstanceOf(Uint8Array);
        const copy = await Valori.fromSnapshot(snap);
        expect(await copy.stateRoot()).toBe(root);
        expect(await copy.indexDigest()).toBe(await db.indexDigest());
        await copy.close();
        expect(await codeOf(Valori.fromSnapshot(snap.slice(0, snap.length - 3)))).toMatch(/ECORRUPT|EVERSION/);
      } finally {
        await db.close();
        await mem.close();
      }
    });

    it('reproduces the native golden root, index digest and snapshot bytes (tests/golden/core.txt)', async () => {
      env.fresh();
      const want = parseGolden(goldenText);
      const db = await env.open(GOLDEN_OPTIONS);
      try {
        await goldenWorkload(db);
        expect(await db.stateRoot()).toBe(want.root);
        expect(await db.indexDigest()).toBe(want.index);
        expect(await sha256hex(await db.snapshot())).toBe(want.snapshot);
      } finally {
        await db.close();
      }
    });

    it("runs an index-less store (index: 'none'): exact search, no index, the native golden values (core-flat.txt)", async () => {
      env.fresh();
      const want = parseGolden(goldenFlatText);
      expect(await codeOf(env.open({ ...GOLDEN_FLAT_OPTIONS, hnsw: { m: 16 } }))).toBe('EINVAL');
      expect(await codeOf(env.open({ ...GOLDEN_FLAT_OPTIONS, index: 'flat' }))).toBe('EINVAL');
      const db = await env.open(GOLDEN_FLAT_OPTIONS);
      try {
        expect(db.index).toBe('none');
        await goldenWorkload(db);
        expect(await db.stateRoot()).toBe(want.root);
        expect(await db.indexDigest()).toBe(want.index);
        const snap = await db.snapshot();
        expect(await sha256hex(snap)).toBe(want.snapshot);
        const st = await db.stats();
        expect([st.index, st.hnswM, st.hnswEfConstruction, st.hnswEfSearch]).toEqual(['none', 0, 0, 0]);
        expect([st.indexBytes, st.indexTombstones]).toEqual(reported(['indexBytes', 'indexTombstones'], [0, 0]));
        await db.check();
        let rec = null;
        for (let id = 500; !rec; id++) rec = await db.get(id); // a live record (deletes were random)
        const q = rec.vector;
        const auto = await db.search(q, { k: 8 });
        expect(auto[0].distanceRaw).toBe(0n); // the record itself (or an exact duplicate of it)
        expect(await db.search(q, { k: 8, mode: 'exact', ef: 300 })).toEqual(auto);
        expect(await codeOf(db.search(q, { k: 8, mode: 'hnsw' }))).toBe('EINVAL');
        expect(await codeOf(db.searchExpand(q, { k: 8, mode: 'hnsw', hops: 1 }))).toBe('EINVAL');
        const filtered = await db.search(q, { k: 8, tags: [2, 9] });
        expect(filtered.length).toBe(8);
        for (const h of filtered) expect([2n, 9n]).toContain((await db.get(h.id)).tag);
        const copy = await Valori.fromSnapshot(snap);
        expect(copy.index).toBe('none');
        expect(await copy.stateRoot()).toBe(want.root);
        expect(await copy.search(q, { k: 8 })).toEqual(auto);
        await copy.close();
      } finally {
        await db.close();
      }
    });

    it('rejects bad input with ValoriError and the stable code, changing nothing', async () => {
      env.fresh();
      const db = await env.open({ dim: 3 });
      try {
        await db.insert(f32(1, 1, 1));
        const root = await db.stateRoot();
        const C = await Valori.constants();
        const bad = [
          [db.insert('not a vector'), 'EINVAL'],
          [db.insert({ length: 3 }), 'EINVAL'],
          [db.insert([1, 'x', 3]), 'EINVAL'],
          [db.insert(f32(1, NaN, 3)), 'ENAN'],
          [db.insert(f32(1, Infinity, 3)), 'EINF'],
          [db.insert(f32(1, -Infinity, 3)), 'EINF'],
          [db.insert(f32(1, 300, 3)), 'ERANGE'],
          [db.insert(f32(1, 2)), 'EDIM'],
          [db.insert(f32(1, 2, 3, 4)), 'EDIM'],
          [db.insert(f32(1, 2, 3), { meta: new Uint8Array(C.limits.MAX_META + 1) }), 'ETOOBIG'],
          [db.insert(f32(1, 2, 3), { meta: 42 }), 'EINVAL'],
          [db.insert(f32(1, 2, 3), { tag: -1 }), 'EINVAL'],
          [db.insert(f32(1, 2, 3), { tag: 2 ** 64 }), 'EINVAL'],
          [db.insert(f32(1, 2, 3), { tag: 1n << 64n }), 'EINVAL'],
          [db.delete('1'), 'EINVAL'],
          [db.delete(1.5), 'EINVAL'],
          [db.delete(12345), 'ENOTFOUND'],
          [db.update(1, {}), 'EINVAL'],
          [db.update(1, { vector: f32(NaN, 0, 0) }), 'ENAN'],
          [db.search(f32(1, 1, 1), { k: 0 }), 'EK'],
          [db.search(f32(1, 1, 1), { k: C.limits.MAX_K + 1 }), 'EK'],
          [db.search(f32(1, 1, 1), { k: 1.5 }), 'EINVAL'], // not a u32: a type error (C never sees it)
          [db.search(f32(1, 1), { k: 1 }), 'EDIM'],
          [db.search(f32(1, NaN, 1), { k: 1 }), 'ENAN'],
          [db.search(f32(1, 1, 1), { mode: 'fast' }), 'EINVAL'],
          [db.createNode({ kind: -1 }), 'EINVAL'],
          [db.createNode({ label: new Uint8Array(C.limits.MAX_META + 1) }), 'ETOOBIG'],
          [db.createEdge(1, 2, { weight: 'heavy' }), 'EINVAL'],
          [db.expand([1], { hops: C.limits.MAX_HOPS + 1 }), 'EINVAL'],
          [db.insert(f32(1, 2, 3), 'tag 7'), 'EINVAL'], // options of the wrong type
          [db.search(f32(1, 1, 1), 5), 'EINVAL'],
          [db.update(1, 'meta'), 'EINVAL'],
          [db.update(1, null), 'EINVAL'], // no field: C's EINVAL
          [db.apply(new Uint8Array(0)), 'ECORRUPT'], // C decides what an empty event is
        ];
        const codes = bad.map(([p, code]) => [codeOf(p), code]); // every rejection handled at once
        for (const [c, code] of codes) expect(await c).toBe(code);
        const e = await db.insert(f32(1, 2)).catch((x) => x);
        expect(e).toBeInstanceOf(ValoriError);
        expect(e).toBeInstanceOf(Error);
        expect(e.errno).toBe(C.codes.EDIM);
        expect(await db.stateRoot()).toBe(root);
        expect((await db.stats()).height).toBe(1);
        // C's codes for a missing dim: a new store "needs a dimension" (EINVAL); an in-memory
        // database fails the configuration check (EDIM).
        env.fresh();
        expect(await codeOf(env.open({ dim: 0 }))).toBe(env.persistent ? 'EINVAL' : 'EDIM');
        env.fresh();
        expect(await codeOf(env.open({ dim: 3, metric: 'manhattan' }))).toBe('EINVAL');
      } finally {
        await db.close();
      }
    });

    it('updates any combination of vector, tag and metadata as one event (valori_update_record)', async () => {
      env.fresh();
      const db = await env.open({ dim: 2 });
      try {
        await db.insertBatch([f32(0, 0), f32(1, 1)], { tags: [1, 2], metas: ['m0', 'm1'] });
        const combos = [];
        for (let bits = 1; bits < 8; bits++) combos.push(bits);
        let want = { vector: [0, 0], tag: 1n, meta: 'm0' };
        for (const bits of combos) {
          const ch = {};
          if (bits & 1) { ch.vector = f32(bits, -bits); want = { ...want, vector: [bits, -bits] }; }
          if (bits & 2) { ch.tag = 10 + bits; want = { ...want, tag: BigInt(10 + bits) }; }
          if (bits & 4) { ch.meta = bits === 4 ? null : `u${bits}`; want = { ...want, meta: bits === 4 ? null : `u${bits}` }; }
          const h = (await db.stats()).height;
          await db.update(1, ch);
          expect((await db.stats()).height).toBe(h + 1); // one event, whatever the fields
          const r = await db.get(1);
          expect({ vector: Array.from(r.vector), tag: r.tag, meta: text(r.meta) }).toEqual(want);
        }
        expect(await codeOf(db.update(1, {}))).toBe('EINVAL'); // no field: C's rule
        expect(await codeOf(db.update(1, { vector: undefined, tag: undefined }))).toBe('EINVAL');
        expect(text((await db.get(2)).meta)).toBe('m1');
      } finally {
        await db.close();
      }
    });

    it('rejects an update with 65,537 bytes of metadata, a new vector and a new tag whole (ETOOBIG), changing nothing', async () => {
      env.fresh();
      let db = await env.open({ dim: 3 });
      let root, before;
      try {
        await db.insert(f32(1, 2, 3), { tag: 5, meta: 'keep' });
        root = await db.stateRoot();
        before = await db.get(1);
        const C = await Valori.constants();
        const e = await db.update(1, { vector: f32(9, 9, 9), tag: 6, meta: new Uint8Array(C.limits.MAX_META + 1) }).catch((x) => x);
        expect(e).toBeInstanceOf(ValoriError);
        expect(e.code).toBe('ETOOBIG');
        expect(await db.stateRoot()).toBe(root);
        expect(await db.get(1)).toEqual(before);
        expect((await db.stats()).height).toBe(1);
      } finally {
        await db.close();
      }
      if (!env.persistent) return;
      db = await env.open({ reuse: true });
      try {
        expect(await db.stateRoot()).toBe(root);
        expect(await db.get(1)).toEqual(before);
      } finally {
        await db.close();
      }
    });

    it('takes vectors at the binary32 boundary: Float32Array as is, JS numbers checked before rounding', async () => {
      env.fresh();
      const db = await env.open({ dim: 3 });
      try {
        const bad = [
          [[NaN, 0, 0], 'ENAN'], [[0, Infinity, 0], 'EINF'], [[0, 0, -Infinity], 'EINF'],
          [[1e300, 0, 0], 'ERANGE'], [[-1e300, 0, 0], 'ERANGE'], [[256.00001, 0, 0], 'ERANGE'],
          [[0, -256.00001, 0], 'ERANGE'], [[256.0000001, 0, 0], 'ERANGE'], [[NaN, 1e300, 0], 'ENAN'],
          [[1e300, NaN, 0], 'ERANGE'], [[300, Infinity, NaN], 'ERANGE'],
          [Float64Array.of(1e300, 0, 0), 'ERANGE'], [Float64Array.of(0, NaN, 0), 'ENAN'],
          [Float64Array.of(256.00001, 0, 0), 'ERANGE'], [Int32Array.of(0, 300, 0), 'ERANGE'],
          [Int16Array.of(-257, 0, 0), 'ERANGE'], [Uint32Array.of(4294967295, 0, 0), 'ERANGE'],
          [BigInt64Array.of(1n, 2n, 3n), 'EINVAL'], [BigUint64Array.of(1n, 2n, 3n), 'EINVAL'],
          [new DataView(new ArrayBuffer(12)), 'EINVAL'], ['abc', 'EINVAL'], [{ length: 3, 0: 1, 1: 2, 2: 3 }, 'EINVAL'],
          [[1, '2', 3], 'EINVAL'], [[1, 2n, 3], 'EINVAL'], [[1, , 3], 'EINVAL'], [null, 'EINVAL'], [[1, 2], 'EDIM'],
          [Float64Array.of(1, 2, 3, 4), 'EDIM'],
          [f32(NaN, 0, 0), 'ENAN'], [f32(1e300, 0, 0), 'EINF'], [f32(300, 0, 0), 'ERANGE'],
        ];
        for (const [v, code] of bad) {
          expect(`insert ${String(v)}: ${await codeOf(db.insert(v))}`).toBe(`insert ${String(v)}: ${code}`);
          expect(await codeOf(db.search(v, { k: 1 }))).toBe(code);
        }
        expect((await db.stats()).height).toBe(0);
        // The boundary values that are fine: exactly 256, and a Float32Array whose binary32 is 256.
        const ok = [[256, -256, 0], f32(256.00001, 0, 0), Float64Array.of(-256, 0.5, 1), Int32Array.of(-256, 7, 256),
          Uint8Array.of(255, 0, 1), [0.1, 1 / 3, -2.5]];
        const ids = [];
        for (const v of ok) ids.push(await db.insert(v));
        const vec = async (id) => Array.from((await db.get(id)).vector);
        expect(await vec(ids[0])).toEqual([256, -256, 0]);
        expect(await vec(ids[1])).toEqual([256, 0, 0]);
        expect(await vec(ids[3])).toEqual([-256, 7, 256]);
        expect(await vec(ids[4])).toEqual([255, 0, 1]);
        // numbers are rounded to binary32 (round half to even), exactly as a Float32Array of them
        const viaF32 = await db.insert(Float32Array.from([0.1, 1 / 3, -2.5]));
        expect(await vec(ids[5])).toEqual(await vec(viaF32));
        // the same rules in every call that takes a vector or a weight
        expect(await codeOf(db.insertBatch([[0, 0, 0], [1e300, 0, 0]]))).toBe('ERANGE');
        expect(await codeOf(db.update(ids[0], { vector: [0, 256.5, 0] }))).toBe('ERANGE');
        const [n1, n2] = [await db.createNode(), await db.createNode()];
        expect(await codeOf(db.createEdge(n1, n2, { weight: 1e300 }))).toBe('ERANGE');
        expect(await codeOf(db.createEdge(n1, n2, { weight: NaN }))).toBe('ENAN');
        expect(await codeOf(db.createEdge(n1, n2, { weight: -Infinity }))).toBe('EINF');
        expect(await codeOf(db.createEdge(n1, n2, { weight: 256 }))).toBe('resolved');
      } finally {
        await db.close();
      }
    });

    it("takes what a call needs from the caller's buffers when it is called (mutating them right after changes nothing)", async () => {
      const t = conformanceTable;
      env.fresh();
      const mutated = await env.open({ dim: t.dim });
      const clean = await Valori.open({ dim: t.dim });
      try {
        const got = await runAllAtOnce(t, mutated, t.script, { mutate: true });
        const want = await runAllAtOnce(t, clean, t.script, { mutate: false });
        expect(got).toEqual(want);
        expect(await mutated.stateRoot()).toBe(await clean.stateRoot());
        // and one at a time, insert / mutate / insert (issue 11, defect 5)
        const v = f32(1, 1, 1);
        const p1 = mutated.insert(v);
        v.fill(2);
        const p2 = mutated.insert(v);
        const flat = new Float32Array([3, 3, 3, 4, 4, 4]);
        const p3 = mutated.insertBatch(flat);
        flat.fill(5);
        const q = f32(1, 1, 1);
        const ps = mutated.search(q, { k: 1, mode: 'exact' });
        q.fill(200);
        const [a, b, [c]] = await Promise.all([p1, p2, p3]);
        expect(Array.from((await mutated.get(a)).vector)).toEqual([1, 1, 1]);
        expect(Array.from((await mutated.get(b)).vector)).toEqual([2, 2, 2]);
        expect(Array.from((await mutated.get(c)).vector)).toEqual([3, 3, 3]);
        expect((await ps)[0].distanceRaw).toBe(0n);
      } finally {
        await mutated.close();
        await clean.close();
      }
    });

    it('gives every call of the conformance table the code C gives (tests/conformance/bad_calls.json)', async () => {
      const t = conformanceTable;
      env.fresh();
      const db = await openWithSetup(t, (o) => env.open(o)); // (the table's 'open' calls are in memory)
      try {
        const root = await db.stateRoot();
        const got = [];
        for (const call of t.bad) got.push(`${call.name}: ${(await runCall(t, db, call)).code}`);
        expect(got).toEqual(t.bad.map((call) => `${call.name}: ${call.expect}`));
        expect(await db.stateRoot()).toBe(root);
      } finally {
        await db.close();
      }
    });

    it('reports stats with one type per field: counts and sizes as numbers, ids as bigints, names as strings', async () => {
      env.fresh();
      const db = await env.open({ dim: 2 });
      try {
        await db.insertBatch([f32(1, 1), f32(2, 2)]);
        await db.createNode({ record: 1 });
        const st = await db.stats();
        const types = Object.fromEntries(Object.entries(st).map(([k, v]) => [k, v === null ? 'null' : typeof v]));
        const want = {
          height: 'number', records: 'number', nodes: 'number', edges: 'number',
          nextRecordId: 'bigint', nextNodeId: 'bigint', nextEdgeId: 'bigint',
          indexTombstones: 'number', vectorBytes: 'number', indexBytes: 'number', otherBytes: 'number',
          dim: 'number', metric: 'string', hnswM: 'number', hnswEfConstruction: 'number', hnswEfSearch: 'number',
          index: 'string', traversal: 'null',
        };
        for (const k of env.unreportedStats ?? []) want[k] = 'null';
        expect(types).toEqual(want);
        expect([st.height, st.records, st.nodes, st.nextRecordId, st.metric, st.index]).toEqual([2, 2, 1, 3n, 'l2', 'hnsw']);
      } finally {
        await db.close();
      }
    });

    if (!env.remote) it('creates a store with an int8 traversal copy (traversal: { int8: [lo, hi] }): stats report it, HNSW results match, a reopen keeps it', async () => {
      env.fresh();
      // a wrong shape is refused in JS, a wrong value by C (valori_traversal_int8, the configuration): EINVAL
      for (const t of ['int8', [0, 255], 7, { int8: [0] }, { int8: ['0', 255] }, { int8: [0, 255], x: 1 }, { uint8: [0, 255] }]) {
        expect(await codeOf(env.open({ dim: 4, traversal: t }))).toBe('EINVAL');
      }
      for (const t of [{ int8: [255, 0] }, { int8: [NaN, 1] }, { int8: [0, Infinity] }, { int8: [0, 1e6] }]) {
        expect(await codeOf(env.open({ dim: 4, traversal: t }))).toBe('EINVAL');
      }
      if (env.exists) expect(await env.exists()).toBe(false); // refused before any storage is touched
      expect(await codeOf(env.open({ dim: 4, index: 'none', traversal: { int8: [0, 255] } }))).toBe('EINVAL');
      expect(await codeOf(env.open({ dim: 4, metric: 'ip', traversal: { int8: [0, 255] } }))).toBe('EINVAL'); // centre 128
      env.fresh();
      const hnsw = { m: 8, efConstruction: 64 };
      const PIXELS = { int8: [0, 255], shift: 16, center: 128, word: 0x00801001 };
      // whole values in [0, 255]: the copy is exact, so HNSW results equal those of a store without it
      let x = 12345;
      const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) % 256;
      const rows = Array.from({ length: 400 }, () => Float32Array.from({ length: 4 }, rnd));
      const db = await env.open({ dim: 4, hnsw, traversal: { int8: [0, 255] } });
      const plain = await Valori.open({ dim: 4, hnsw });
      let root;
      try {
        await db.insertBatch(rows);
        await plain.insertBatch(rows);
        const st = await db.stats(), ps = await plain.stats();
        expect(st.traversal).toEqual(PIXELS);
        expect(ps.traversal).toBeNull();
        expect(st.vectorBytes).toBeGreaterThan(ps.vectorBytes); // the copies are counted
        for (let i = 0; i < 20; i++) {
          const q = Float32Array.from({ length: 4 }, rnd);
          expect(await db.search(q, { k: 5, mode: 'hnsw', ef: 16 })).toEqual(await plain.search(q, { k: 5, mode: 'hnsw', ef: 16 }));
        }
        root = await db.stateRoot();
        expect(root).not.toBe(await plain.stateRoot()); // the word is configuration, in the root
        await db.check();
        const copy = await Valori.fromSnapshot(await db.snapshot());
        expect((await copy.stats()).traversal).toEqual(PIXELS);
        expect(await copy.stateRoot()).toBe(root);
        await copy.close();
      } finally {
        await db.close();
        await plain.close();
      }
      // another range: the stats give the components the 256 codes stand for
      const other = await Valori.open({ dim: 2, traversal: { int8: [-1, 1] } });
      expect((await other.stats()).traversal).toEqual({ int8: [-1, 2.984375], shift: 10, center: 64, word: 0x0040_0a01 });
      await other.close();
      if (!env.persistent) return;
      const again = await env.open({ reuse: true }); // no dim: the recorded configuration, the copy with it
      try {
        expect((await again.stats()).traversal).toEqual(PIXELS);
        expect(await again.stateRoot()).toBe(root);
      } finally {
        await again.close();
      }
      expect(await codeOf(env.open({ reuse: true, dim: 4, hnsw }))).toBe('ECONFIG'); // asked without the copy
      expect(await codeOf(env.open({ reuse: true, dim: 4, hnsw, traversal: { int8: [0, 127] } }))).toBe('ECONFIG');
      const same = await env.open({ reuse: true, dim: 4, hnsw, traversal: { int8: [0, 255] } });
      expect((await same.stats()).traversal).toEqual(PIXELS);
      await same.close();
    });

    it('refuses to create a store without dim, naming the option, and leaves nothing behind', async () => {
      env.fresh();
      const e = await env.open({}).catch((x) => x);
      expect(e).toBeInstanceOf(ValoriError);
      expect(e.code).toBe(env.persistent ? 'EINVAL' : 'EDIM'); // C's codes (see the bad-input test)
      expect(e.message).toMatch(/dim/);
      if (env.exists) expect(await env.exists()).toBe(false);
    });

    it('refuses calls after close with ECLOSED; Symbol.asyncDispose closes', async () => {
      env.fresh();
      const db = await env.open({ dim: 2 });
      await db.insert(f32(1, 1));
      await db[Symbol.asyncDispose]();
      expect(db.closed).toBe(true);
      expect(await codeOf(db.insert(f32(1, 1)))).toBe('ECLOSED');
      expect(await codeOf(db.search(f32(1, 1)))).toBe('ECLOSED');
      await db.close(); // idempotent
    });

    it('batches concurrent writes (group commit) and resolves each with its own id', async () => {
      env.fresh();
      const db = await env.open({ dim: 4 });
      try {
        const ps = [];
        for (let i = 0; i < 400; i++) ps.push(db.insert(f32(i % 7, i % 11, i % 13, 1), { tag: i }));
        ps.push(db.insert(f32(NaN, 0, 0, 0))); // one bad write in the middle fails alone
        for (let i = 400; i < 500; i++) ps.push(db.insert(f32(i % 7, 0, 0, 1), { tag: i }));
        const res = await Promise.allSettled(ps);
        const ok = res.filter((r) => r.status === 'fulfilled').map((r) => r.value);
        expect(ok.length).toBe(500);
        expect(new Set(ok).size).toBe(500);
        expect(res[400].reason.code).toBe('ENAN');
        expect((await db.get(ok[499])).tag).toBe(499n);
      } finally {
        await db.close();
      }
    });

    it('keeps the wasm heap flat over thousands of calls', async () => {
      env.fresh();
      const db = await env.open({ dim: 8 });
      try {
        const v = new Float32Array(8).fill(0.5);
        const nan = new Float32Array(8).fill(NaN);
        await db.insert(v, { tag: 1 });
        // One round touches every kind of call, failing ones included. Its arguments are fixed so
        // that the database itself does not grow (a delete tombstone is bounded, tags are reused).
        const round = async () => {
          await db.search(v, { k: 10, tags: [1, 2] });
          await db.searchExpand(v, { k: 3, hops: 1 });
          await db.get(1);
          await db.stateRoot();
          await db.stats();
          await db.update(1, { tag: 2, meta: 'y' });
          await db.update(1, { tag: 1, meta: 'x' });
          await db.insert(v, { tag: 1n << 70n }).catch(() => undefined);
          await db.insert(nan).catch(() => undefined);
          await db.insert(v, { meta: new Uint8Array(70000) }).catch(() => undefined);
          await db.search(nan).catch(() => undefined);
          await db.delete(999999).catch(() => undefined);
          await db.snapshot();
        };
        // (a remote database's calls reach the wasm heap through its empty local database only, and
        // each costs an HTTP round trip: a tenth of the rounds)
        const rounds = env.remote ? 40 : 400;
        for (let i = 0; i < rounds / 8; i++) await round(); // scratch buffers and the searcher reach their size
        const before = await Valori.heapUsed();
        for (let i = 0; i < rounds; i++) await round(); // 5,200 calls (520 remote)
        const after = await Valori.heapUsed();
        expect(after - before).toBeLessThanOrEqual(0);
      } finally {
        await db.close();
      }
    });

    it('returns the wasm heap to its baseline after open/use/close cycles', async () => {
      const cycle = async () => {
        env.fresh();
        const db = await env.open({ dim: 4 });
        await db.insertBatch([f32(1, 2, 3, 4), f32(4, 3, 2, 1)], { metas: ['a', 'b'] });
        await db.search(f32(1, 1, 1, 1), { k: 2 });
        await db.createNode({ record: 1 });
        await db.snapshot();
        await db.close();
      };
      await cycle();
      const base = await Valori.heapUsed();
      for (let i = 0; i < 10; i++) await cycle();
      expect(await Valori.heapUsed()).toBe(base);
      expect(await Valori.memoryBytes()).toBeGreaterThan(base); /* linear memory holds the heap */
      expect((await Valori.memoryBytes()) % 65536).toBe(0);     /* whole wasm pages */
    });

    if (env.persistent) {
      it('persists across close and reopen, with the same state root', async () => {
        env.fresh();
        let db = await env.open({ dim: WORKLOAD_DIM });
        const ops = workloadOps();
        await runOps(db, ops, 0, 150);
        await db.checkpoint();
        await runOps(db, ops, 150);
        const root = await db.stateRoot();
        const height = (await db.stats()).height;
        await db.close();
        db = await env.open({ reuse: true });
        try {
          expect(db.dim).toBe(WORKLOAD_DIM);
          expect(await db.stateRoot()).toBe(root);
          expect((await db.stats()).height).toBe(height);
          expect((await db.search(ops[10][1], { k: 1 }))[0].id).toBe(11n);
          expect(await db.insert(new Float32Array(WORKLOAD_DIM))).toBe(251n);
        } finally {
          await db.close();
        }
      });

      // A server collection has one writer, the server: any number of clients write to it
      // (js/test/remote-api.test.js), so the two tests below are the embedded stores' only.
      if (!env.remote) it('allows one writer per store: a second open gets ELOCKED until the first closes', async () => {
        env.fresh();
        const db = await env.open({ dim: 2 });
        await db.insert(f32(1, 2));
        expect(await codeOf(env.open({ reuse: true }))).toBe('ELOCKED');
        await db.close();
        const again = await env.open({ reuse: true });
        expect((await again.stats()).records).toBe(1);
        await again.close();
      });

      if (!env.remote) it('relaxed durability acknowledges before the commit; flush() and close() make it durable', async () => {
        env.fresh();
        let db = await env.open({ dim: 2, durability: 'relaxed' });
        const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => db.insert(f32(i, 0))));
        await db.flush();
        await db.insert(f32(99, 99));
        await db.close();
        db = await env.open({ reuse: true });
        try {
          expect((await db.stats()).records).toBe(51);
          expect((await db.get(ids[49])).vector[0]).toBe(49);
        } finally {
          await db.close();
        }
      });

      it('refuses an existing store opened with a conflicting dimension', async () => {
        env.fresh();
        const db = await env.open({ dim: 2 });
        await db.insert(f32(1, 2));
        await db.close();
        expect(await codeOf(env.open({ reuse: true, dim: 3 }))).toBe('ECONFIG');
      });

      it('records the index choice: reopening with the other one is ECONFIG, without dim the stored one', async () => {
        env.fresh();
        let db = await env.open({ dim: 2, index: 'none' });
        await db.insertBatch([f32(1, 2), f32(3, 4)]);
        await db.delete(1);
        const root = await db.stateRoot();
        await db.close();
        expect(await codeOf(env.open({ reuse: true, dim: 2 }))).toBe('ECONFIG');
        expect(await codeOf(env.open({ reuse: true, dim: 2, index: 'hnsw' }))).toBe('ECONFIG');
        db = await env.open({ reuse: true });
        try {
          expect(db.index).toBe('none');
          expect(await db.stateRoot()).toBe(root);
          expect(await db.insert(f32(5, 6))).toBe(3n);
          expect((await db.stats()).indexBytes).toBe(reported(['indexBytes'], [0])[0]);
        } finally {
          await db.close();
        }
        env.fresh();
        db = await env.open({ dim: 2 });
        await db.insert(f32(1, 2));
        await db.close();
        expect(await codeOf(env.open({ reuse: true, dim: 2, index: 'none' }))).toBe('ECONFIG');
      });
    }
  });
}
