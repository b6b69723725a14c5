// remote-api.test.js: what is particular to the remote face (Valori.connect, Valori.server), against
// real `valori serve` processes on 127.0.0.1 port 0: URL forms and options, collections, call
// order, concurrent clients and group commit, lastWrite, C's check order for what JSON cannot
// carry, the wire forms chosen (binary ingest, the SET_META event) giving the embedded roots,
// minHeight, snapshot(), large neighbour lists, close(), kill -9 of the server under concurrent
// clients (no acknowledged write lost), and the type declarations. (The shared suite's run against
// a server is remote.test.js; every error status is remote-errors.test.js.)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Valori, ValoriError, RemoteValori, ValoriServer } from '../src/index.js';
import { startValori } from './remote-server.js';
import { runValori, tmpDir } from '../../tests/server/helpers.js';

const f32 = (...xs) => Float32Array.from(xs);
const codeOf = (p) => p.then(() => 'resolved', (e) => { if (!(e instanceof ValoriError)) throw e; return e.code; });

/** A fetch that records each request (method, URL, content type) before sending it on. */
function recording(log, edit = (url) => url) {
  return (url, init) => {
    log.push({ method: init.method, url, type: init.headers['Content-Type'] });
    return fetch(edit(url), init);
  };
}

let srv;
beforeAll(async () => { srv = await startValori(); });
afterAll(async () => { if (srv) expect((await srv.stop()).code).toBe(0); });
const connect = (collection, opts = {}) => Valori.connect(srv.url, { collection, token: srv.write, ...opts });

describe('connecting', () => {
  it('takes the server URL with a collection option, or the collection URL; "default" without either', async () => {
    const a = await connect('urls', { dim: 2 });
    expect([a.collection, a.path, a.url, a.dim, a.metric, a.index]).toEqual(['urls', `${srv.url}/v1/collections/urls`, a.path, 2, 'l2', 'hnsw']);
    await a.insert(f32(1, 2));
    for (const u of [`${srv.url}/v1/collections/urls`, `${srv.url}/v1/collections/urls/`]) {
      const b = await Valori.connect(u, { token: srv.write });
      expect([b.collection, (await b.get(1)).vector]).toEqual(['urls', f32(1, 2)]);
      await b.close();
    }
    const d = await Valori.connect(`${srv.url}/`, { token: srv.write, dim: 3 });
    expect(d.collection).toBe('default');
    await d.close();
    expect(await codeOf(Valori.connect(`${srv.url}/v1/collections/urls`, { collection: 'other', token: srv.write }))).toBe('EINVAL');
    for (const bad of ['ftp://127.0.0.1/', 'not a url', `${srv.url}/v1`, `${srv.url}/?x=1`, 42]) {
      expect(await codeOf(Valori.connect(bad, { token: srv.write })), String(bad)).toBe('EINVAL');
    }
    await a.close();
  });

  it('refuses bad names and options with EINVAL, and checks open options with C (its codes)', async () => {
    for (const name of ['', '.hidden', 'a/b', '-x', 'x'.repeat(65), 7]) expect(await codeOf(connect(name, { dim: 2 })), String(name)).toBe('EINVAL');
    const cases = [[{ dim: 4097 }, 'EDIM'], [{ dim: 2, metric: 'cosine' }, 'EINVAL'], [{ dim: 2, hnsw: { m: 1 } }, 'EINVAL'],
      [{ dim: 2, index: 'none', hnsw: { m: 8 } }, 'EINVAL'], [{ dim: 2, durability: 'relaxed' }, 'EINVAL'], [{ dim: 2, path: '/tmp/x' }, 'EINVAL'],
      [{ dim: 2, ordered: 'yes' }, 'EINVAL'], [{ dim: 2, timeoutMs: 0 }, 'EINVAL'], [{ dim: 2, token: '' }, 'EINVAL'], [{ dim: '2' }, 'EINVAL'],
      [{ dim: 2, fetch: 'no' }, 'EINVAL']];
    for (const [opts, code] of cases) expect(await codeOf(connect('opts', opts)), JSON.stringify(opts)).toBe(code);
    expect(await codeOf(Valori.connect(srv.url, 'options'))).toBe('EINVAL');
    expect((await Valori.server(srv.url, { token: srv.read }).then((s) => s.collections())).map((c) => c.name)).not.toContain('opts');
  });

  it('creates a missing collection only when given dim (and never with create: false or readOnly)', async () => {
    const e = await connect('nodim').catch((x) => x);
    expect([e.code, /dim/.test(e.message)]).toEqual(['EINVAL', true]);
    expect(await codeOf(connect('nodim', { dim: 2, create: false }))).toBe('ENOCOLLECTION');
    expect(await codeOf(connect('nodim', { dim: 2, readOnly: true }))).toBe('ENOCOLLECTION');
    const s = await Valori.server(srv.url, { token: srv.read });
    expect((await s.collections()).map((c) => c.name)).not.toContain('nodim');
    const made = await connect('nodim', { dim: 5, metric: 'ip', index: 'none' });
    expect([made.dim, made.metric, made.index]).toEqual([5, 'ip', 'none']);
    const info = await s.describe('nodim');
    expect([info.dim, info.metric, info.index, info.hnsw, info.height]).toEqual([5, 'ip', 'none', null, 0]);
    await made.close();
  });

  it('lets clients that connect at once all create the same new collection (one creates it, the others wait for it)', async () => {
    for (let round = 0; round < 5; round++) {
      const dbs = await Promise.all(Array.from({ length: 8 }, () => connect(`race${round}`, { dim: 4 })));
      const ids = await Promise.all(dbs.map((db, i) => db.insert(f32(i, 0, 0, 1))));
      expect(new Set(ids).size).toBe(8);
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});

describe('collections', () => {
  it('lists every collection (page after page), describes, creates and deletes them', async () => {
    const s = await Valori.server(srv.url, { token: srv.write });
    expect(s).toBeInstanceOf(ValoriServer);
    expect((await s.info()).auth).toBe(true);
    for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await s.createCollection(n, { dim: 2, hnsw: { m: 8 } });
    const created = await s.describe('p3');
    expect([created.dim, created.hnsw, created.records, created.nextRecordId]).toEqual([2, { m: 8, efConstruction: 200, efSearch: 64 }, 0, 1n]);
    const all = await s.collections();
    // the same list in pages of two (the server's paging, with the limit the client asks for made small)
    const log = [];
    const paged = await Valori.server(srv.url, { token: srv.write, fetch: recording(log, (u) => u.replace('limit=1000', 'limit=2')) });
    expect(await paged.collections()).toEqual(all);
    expect(log.filter((r) => r.url.includes('/v1/collections?')).length).toBe(Math.max(1, Math.ceil(all.length / 2)));
    expect(all.map((c) => c.name)).toEqual([...all.map((c) => c.name)].sort());
    expect(all.find((c) => c.name === 'p1')).toMatchObject({ dim: 2, metric: 'l2', index: 'hnsw', records: 0, height: 0 });
    const db = await connect('p1');
    await db.insert(f32(1, 1));
    expect((await db.describe()).records).toBe(1);
    expect((await db.collections()).length).toBe(all.length);
    await db.deleteCollection('p2');
    expect((await s.collections()).map((c) => c.name)).not.toContain('p2');
    expect(await codeOf(s.deleteCollection('p2'))).toBe('ENOCOLLECTION');
    expect(await codeOf(s.createCollection('p9', {}))).toBe('EINVAL');
    expect(await codeOf(s.createCollection('p9', { dim: 5000 }))).toBe('EDIM'); // C's code for the option
    expect(await codeOf(db.createCollection('p1', { dim: 2 }))).toBe('EEXIST');
    await db.close();
  });
});

describe('semantics', () => {
  it('runs calls in call order: issued together, they give what the embedded database gives', async () => {
    const remote = await connect('order', { dim: 2 });
    const local = await Valori.open({ dim: 2 });
    const script = (db) => [
      db.insert(f32(1, 1)), db.search(f32(1, 1), { k: 5 }), db.insert(f32(2, 2)), db.insert(f32(NaN, 1)),
      db.get(2), db.delete(1), db.get(1), db.insertBatch([f32(3, 3), f32(4, 4)], { metas: ['a', null] }),
      db.search(f32(3, 3), { k: 5 }), db.update(3, { tag: 9 }), db.get(3), db.stats().then((s) => [s.height, s.records]),
      db.createNode({ record: 3 }), db.nodeOfRecord(3), db.stateRoot(),
    ];
    const settle = (ps) => Promise.all(ps.map((p) => p.then((v) => ['ok', v], (e) => ['err', e.code])));
    expect(await settle(script(remote))).toEqual(await settle(script(local)));
    await remote.close();
    await local.close();
  });

  it('ordered: false sends every call at once, so concurrent writes share fsyncs; ordered ones do not', async () => {
    const fsyncs = async () => {
      const t = await (await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${srv.read}` } })).text();
      return Number(/^valori_fsync_duration_seconds_count (\d+)/m.exec(t)[1]);
    };
    const run = async (ordered) => {
      const db = await connect(`conc${ordered}`, { dim: 2, ordered });
      const f0 = await fsyncs();
      const ids = await Promise.all(Array.from({ length: 64 }, (_, i) => db.insert(f32(i, 1), { tag: i })));
      const used = (await fsyncs()) - f0;
      expect(new Set(ids).size).toBe(64);
      expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(Array.from({ length: 64 }, (_, i) => BigInt(i + 1)));
      for (const [i, id] of ids.entries()) if (i % 16 === 0) expect((await db.get(id)).tag).toBe(BigInt(i));
      expect(db.lastWrite.height).toBe(64);
      await db.close();
      return { ids, used };
    };
    const o = await run(true);
    expect(o.ids).toEqual(Array.from({ length: 64 }, (_, i) => BigInt(i + 1))); // in call order
    expect(o.used).toBeGreaterThanOrEqual(64); // one after another: an fsync each (other collections' too)
    const u = await run(false);
    expect(u.used).toBeLessThan(64); // at once: group commit shares fsyncs
  });

  it('lets several clients write one collection (the server is its one writer); each reads the others\' acknowledged writes', async () => {
    const a = await connect('shared', { dim: 2 });
    const b = await connect('shared');
    const ids = await Promise.all([a.insert(f32(1, 0)), b.insert(f32(0, 1)), a.insert(f32(2, 0)), b.insert(f32(0, 2))]);
    expect(new Set(ids).size).toBe(4);
    expect((await a.get(ids[1])).vector).toEqual(f32(0, 1));
    expect((await b.get(ids[2])).vector).toEqual(f32(2, 0));
    expect(await a.stateRoot()).toBe(await b.stateRoot());
    await a.close();
    await b.close();
  });

  it('lastWrite: the height and state root the latest acknowledged write reported', async () => {
    const db = await connect('last', { dim: 2 });
    expect(db.lastWrite).toBeNull();
    const heights = [];
    for (const w of [() => db.insert(f32(1, 1)), () => db.insertBatch([f32(2, 2), f32(3, 3)]), () => db.update(1, { tag: 4 }),
      () => db.setMeta(2, 'm'), () => db.createNode({ record: 1 }), () => db.delete(3), () => db.checkpoint()]) {
      await w();
      const st = await db.describe();
      expect(db.lastWrite).toEqual({ height: st.height, root: st.root });
      expect(db.lastWrite.root).toBe(await db.stateRoot());
      heights.push(db.lastWrite.height);
    }
    expect(heights).toEqual([1, 2, 3, 4, 5, 6, 6]); // a checkpoint is no event
    await db.insert(f32(NaN, 0)).catch(() => undefined); // refused: no acknowledgement
    expect(db.lastWrite.height).toBe(6);
    await db.close();
  });

  it('checks what JSON cannot carry, and search arguments, in C\'s order (the server alone would answer otherwise)', async () => {
    const db = await connect('order2', { dim: 3 });
    const flat = await connect('order2flat', { dim: 3, index: 'none' });
    await db.insert(f32(1, 1, 1));
    const raw = async (name, body) => (await (await fetch(`${srv.url}/v1/collections/${name}/search`, { method: 'POST',
      headers: { Authorization: `Bearer ${srv.write}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json()).error?.code;
    // valori_search checks k before the query; the server's decoder reads the vector first
    expect(await codeOf(db.search([257, 1, 1], { k: 0 }))).toBe('EK');
    expect(await raw('order2', { vector: [257, 1, 1], k: 0 })).toBe('ERANGE');
    // valori_search_expand checks the expansion before the search
    expect(await codeOf(db.searchExpand(f32(1, 1, 1), { k: 0, hops: 17 }))).toBe('EINVAL');
    expect(await raw('order2', { vector: [1, 1, 1], k: 0, expand: { hops: 17 } })).toBe('EK');
    // an index-less store refuses mode hnsw before it reads the query
    expect(await codeOf(flat.search(f32(NaN, 1, 1), { mode: 'hnsw' }))).toBe('EINVAL');
    expect(await codeOf(flat.search(f32(NaN, 1, 1), { mode: 'exact' }))).toBe('ENAN');
    // NaN and infinities: C's codes, C's order (the first bad component decides; the tags before the query)
    expect(await codeOf(db.search([NaN, 300, 1]))).toBe('ENAN');
    expect(await codeOf(db.search([300, NaN, 1]))).toBe('ERANGE');
    expect(await codeOf(db.search(f32(NaN, 1, 1), { tags: [] }))).toBe('EINVAL');
    expect(await codeOf(db.update(99, { vector: f32(1, Infinity, 1) }))).toBe('EINF'); // values before state
    expect(await codeOf(db.insertBatch([f32(1, 1, 1), f32(1, NaN, 1)], { metas: [new Uint8Array(65537), null] }))).toBe('ETOOBIG');
    expect(await codeOf(db.insertBatch([f32(1, 1, 1), f32(1, NaN, 1)], { metas: ['a', new Uint8Array(65537)] }))).toBe('ENAN');
    expect(await codeOf(db.createEdge(77, 78, { weight: NaN }))).toBe('ENAN');
    // no seeds: nothing to expand (C's answer), not the server's EINVAL
    expect(await db.expand([])).toEqual([]);
    expect((await db.stats()).height).toBe(1);
    await db.close();
    await flat.close();
  });

  it('sends batches without metadata as binary ingest, with metadata as JSON, setMeta as its SET_META event: the embedded roots', async () => {
    const log = [];
    const db = await connect('wire', { dim: 3, fetch: recording(log) });
    const local = await Valori.open({ dim: 3 });
    const calls = [
      (d) => d.insertBatch([f32(1, 2, 3), f32(4, 5, 6)], { tags: [7, 8] }),
      (d) => d.insertBatch([f32(0, 1, 0)], { metas: [null] }),
      (d) => d.insertBatch([f32(0, 0, 1), f32(1, 0, 0)], { tags: [1, 2], metas: ['x', null] }),
      (d) => d.setMeta(1, 'meta'), (d) => d.setMeta(2, null), (d) => d.update(3, { meta: 'u' }),
    ];
    for (const c of calls) expect(await c(db)).toEqual(await c(local));
    expect(await db.stateRoot()).toBe(await local.stateRoot());
    expect((await db.get(1)).meta).toEqual(new TextEncoder().encode('meta'));
    const writes = log.filter((r) => r.method !== 'GET' && r.url.includes('/wire/')).map((r) => `${r.method} ${r.url.slice(srv.url.length)} ${r.type}`);
    expect(writes).toEqual([
      'POST /v1/collections/wire/records/batch application/vnd.valori.vectors',
      'POST /v1/collections/wire/records/batch application/vnd.valori.vectors',
      'POST /v1/collections/wire/records/batch application/json',
      'POST /v1/collections/wire/events application/vnd.valori.event',
      'POST /v1/collections/wire/events application/vnd.valori.event',
      'PATCH /v1/collections/wire/records/3 application/json',
    ]);
    await db.close();
    await local.close();
  });

  it('sends minHeight as the protocol\'s min_height on every read (read-your-writes)', async () => {
    const log = [];
    // the leader answers at once for every height it returned, and waits (then ETIMEOUT) for one it never returned
    const db = await connect('minh', { dim: 2, fetch: recording(log) });
    await db.insert(f32(1, 1));
    const h = db.lastWrite.height;
    const o = { minHeight: h };
    await db.get(1, o); await db.getNode(1, o); await db.nodeOfRecord(1, o); await db.search(f32(1, 1), o);
    await db.searchExpand(f32(1, 1), o); await db.neighbors(1, o).catch(() => undefined); await db.expand([1], o).catch(() => undefined);
    await db.stats(o); await db.stateRoot(o); await db.indexDigest(o); await db.snapshot(o);
    const reads = log.filter((r) => r.method === 'GET' || /\/(search|expand)/.test(r.url));
    expect(reads.filter((r) => r.url.includes(`min_height=${h}`)).length).toBeGreaterThanOrEqual(11);
    expect(await codeOf(db.get(1, { minHeight: BigInt(h) + 1000n }))).toBe('ETIMEOUT'); // after the server's default wait_ms
    expect(await codeOf(db.get(1, { minHeight: -1 }))).toBe('EINVAL');
    expect(await codeOf(db.get(1, 'x'))).toBe('EINVAL');
    await db.close();
  });

  it('snapshot(): a checkpoint first when the newest snapshot is older; with a read token EFORBIDDEN saying why', async () => {
    const db = await connect('snap', { dim: 2 });
    const ro = await Valori.connect(srv.url, { collection: 'snap', token: srv.read });
    await db.insert(f32(1, 2));
    const miss = await fetch(`${srv.url}/v1/collections/snap/snapshot`, { headers: { Authorization: `Bearer ${srv.read}` } });
    expect([miss.status, (await miss.json()).error.code]).toEqual([404, 'ENOSNAPSHOT']);
    const e = await ro.snapshot().catch((x) => x);
    expect([e.code, /write token/.test(e.message)]).toEqual(['EFORBIDDEN', true]);
    const s1 = await db.snapshot();
    expect(await (await Valori.fromSnapshot(s1)).stateRoot()).toBe(await db.stateRoot());
    expect(await ro.snapshot()).toEqual(s1); // current now: no checkpoint needed
    await db.insert(f32(3, 4));
    expect(await codeOf(ro.snapshot())).toBe('EFORBIDDEN');
    const s2 = await db.snapshot();
    expect((await Valori.fromSnapshot(s2).then((x) => x.stats())).records).toBe(2);
    await db.close();
    await ro.close();
  });

  it('neighbors: every edge of a node with more than one answer\'s worth of them', async () => {
    const db = await connect('fan', { dim: 2, ordered: false });
    const hub = await db.createNode({ kind: 1 });
    const leaves = await Promise.all(Array.from({ length: 1100 }, () => db.createNode({ kind: 2 })));
    await Promise.all(leaves.map((n, i) => db.createEdge(hub, n, { kind: i % 3 })));
    const out = await db.neighbors(hub);
    expect(out.length).toBe(1100);
    expect(new Set(out.map((e) => e.to)).size).toBe(1100);
    expect((await db.neighbors(hub, { kind: 1 })).length).toBe(367);
    await db.close();
  }, 60_000);

  it('close() waits for the calls in flight; calls after it are ECLOSED', async () => {
    const db = await connect('closing', { dim: 2 });
    const ps = Array.from({ length: 10 }, (_, i) => db.insert(f32(i, i)));
    const closed = db.close();
    expect(await codeOf(db.insert(f32(1, 1)))).toBe('ECLOSED');
    await closed;
    expect(db.closed).toBe(true);
    expect((await Promise.all(ps)).length).toBe(10);
    expect(await codeOf(db.get(1))).toBe('ECLOSED');
    const again = await connect('closing');
    expect((await again.stats()).records).toBe(10);
    await again[Symbol.asyncDispose]();
    expect(again.closed).toBe(true);
  });
});

describe('durability', () => {
  it('keeps every write acknowledged to the client through kill -9 of the server (3 trials, 4 concurrent clients)', async () => {
    const data = tmpDir('jskill');
    const servers = [];
    try {
      for (let trial = 0; trial < 3; trial++) {
        const s = await startValori({ data, tokens: false });
        servers.push(s);
        const name = `k${trial}`;
        const dbs = await Promise.all(Array.from({ length: 4 }, () => Valori.connect(s.url, { collection: name, dim: 4, ordered: false })));
        const acked = new Map(); // tag -> id
        const tried = new Set();
        let stop = false;
        const client = async (db, c) => {
          for (let i = 0; !stop && i < 100000; i++) {
            const tag = c * 1_000_000 + i;
            tried.add(tag);
            try {
              const x = i % 256; // a component stays inside [-256, 256] however many writes a trial gets done
              if (i % 3 === 0) {
                const tags = [tag, tag + 500_000];
                tried.add(tag + 500_000);
                const ids = await db.insertBatch([f32(c, x, 0, 1), f32(c, x, 1, 1)], { tags });
                ids.forEach((id, k) => acked.set(tags[k], id));
              } else {
                acked.set(tag, await db.insert(f32(c, x, 2, 1), { tag }));
              }
            } catch (e) {
              if (!(e instanceof ValoriError) || e.code !== 'ECONNECT') throw e;
              return;
            }
          }
        };
        const runs = dbs.map((db, c) => client(db, c));
        await new Promise((r) => setTimeout(r, 300 + trial * 250));
        stop = true;
        s.srv.child.kill('SIGKILL');
        await Promise.all(runs);
        await s.srv.exitPromise;
        await Promise.all(dbs.map((db) => db.close()));
        expect(acked.size).toBeGreaterThan(10);
        const again = await startValori({ data, tokens: false });
        servers.push(again);
        const db = await Valori.connect(again.url, { collection: name });
        for (const [tag, id] of acked) expect((await db.get(id))?.tag, `acknowledged tag ${tag}`).toBe(BigInt(tag));
        const st = await db.stats();
        const seen = new Set();
        for (let id = 1n; id < st.nextRecordId; id++) {
          const r = await db.get(id);
          if (!r) continue;
          expect(tried.has(Number(r.tag)), `record ${id} (tag ${r.tag}) was written by a client`).toBe(true);
          expect(seen.has(r.tag), `tag ${r.tag} twice`).toBe(false);
          seen.add(r.tag);
        }
        await db.check(); // the live state against a replay of the files
        await db.close();
        expect((await again.stop()).code).toBe(0);
        const v = runValori(['verify', path.join(data, name)]);
        expect(v.code, v.out + v.err).toBe(0);
      }
    } finally {
      for (const s of servers) if (!s.srv.exited) await s.stop('SIGKILL');
      fs.rmSync(data, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('types', () => {
  it('declares in index.d.ts exactly the methods RemoteValori and ValoriServer have', () => {
    const dts = fs.readFileSync(fileURLToPath(new URL('../src/index.d.ts', import.meta.url)), 'utf8');
    for (const [name, cls] of [['RemoteValori', RemoteValori], ['ValoriServer', ValoriServer]]) {
      const start = dts.indexOf(`export class ${name} {`);
      expect(start, name).toBeGreaterThan(0);
      const body = dts.slice(start, dts.indexOf('\n}\n', start));
      const declared = new Set();
      for (const m of body.matchAll(/^ {2}(\[Symbol\.asyncDispose\]|[a-zA-Z]+)\(/gm)) declared.add(m[1]);
      const own = Object.getOwnPropertyNames(cls.prototype).filter((n) => n !== 'constructor' && !n.startsWith('_')
        && typeof Object.getOwnPropertyDescriptor(cls.prototype, n).value == 'function');
      if (typeof cls.prototype[Symbol.asyncDispose] == 'function') own.push('[Symbol.asyncDispose]');
      expect([...declared].sort(), name).toEqual(own.sort());
    }
    // the remote database has every method of the embedded one
    const embedded = Object.getOwnPropertyNames(Valori.prototype).filter((n) => n !== 'constructor' && !n.startsWith('_')
      && typeof Object.getOwnPropertyDescriptor(Valori.prototype, n).value == 'function');
    for (const m of embedded) expect(typeof RemoteValori.prototype[m], m).toBe('function');
  });
});
