// The int8 compact traversal copy through the server (docs/HTTP.md "Create", docs/DETERMINISM.md
// "Compact traversal copy"): a collection created with "traversal": {"int8": [lo, hi]} reports it,
// keeps it across a restart, has the state root and the search results of an npm store opened with
// traversal: { int8: [lo, hi] } fed the same records; every bad shape or value is EINVAL with nothing
// created; and a native follower (`valori follow`) and an npm follower (Valori.follow) of such a
// collection bootstrap to the same root, configuration and search results (HELLO carries no
// traversal word: the snapshot does). It lives in js/test because it needs the built package
// (dist/valori.mjs), which the server's ctest run does not build.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Valori } from '../src/index.js';
import { request, startServer, startValori, stopServer, tmpDir } from '../../tests/server/helpers.js';

const DIM = 8;
const N = 300;
const RANGE = [-1, 1];

/** N deterministic vectors with components k/1024 in [-1, 1] (exact in binary32 and in Q16.16). */
function vectors() {
  let s = 12345;
  const v = new Float32Array(N * DIM);
  for (let i = 0; i < v.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v[i] = ((s >> 8) % 2049 - 1024) / 1024;
  }
  return v;
}
const VECS = vectors();
const QUERIES = [0, 17, 123, 299].map((i) => Array.from(VECS.subarray(i * DIM, i * DIM + DIM), (x) => x * 0.75 + 0.125));

const dir = tmpDir('traversal');
const data = path.join(dir, 'db');
let srv;
const post = (p, body) => request(srv, 'POST', p, { body });
const get = (p) => request(srv, 'GET', p);
function expectError(r, status, code) {
  expect(r.status, r.text).toBe(status);
  expect(r.json, r.text).toEqual({ error: { code, message: expect.any(String) } });
}

async function fill(target, name) {
  for (let i = 0; i < N; i += 100) {
    const records = [];
    for (let j = i; j < i + 100; j++) records.push({ vector: Array.from(VECS.subarray(j * DIM, j * DIM + DIM)), tag: String(j % 7) });
    const r = await request(target, 'POST', `/v1/collections/${name}/records/batch`, { body: { records } });
    expect(r.status, r.text).toBe(201);
  }
}
async function searches(target, name) {
  const out = [];
  for (const q of QUERIES) {
    for (const mode of ['hnsw', 'exact']) {
      const r = await request(target, 'POST', `/v1/collections/${name}/search`, { body: { vector: q, k: 10, ef: 40, mode } });
      expect(r.status, r.text).toBe(200);
      out.push(r.json.hits.map((h) => [h.id, h.distance_raw]));
    }
  }
  return out;
}

beforeAll(async () => {
  srv = await startServer(['--data', data]);
  const r = await post('/v1/collections', { name: 'q', dim: DIM, traversal: { int8: RANGE } });
  expect(r.status, r.text).toBe(201);
  await fill(srv, 'q');
  expect((await post('/v1/collections', { name: 'plain', dim: DIM })).status).toBe(201);
  await fill(srv, 'plain');
});
afterAll(async () => {
  if (srv) await stopServer(srv);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('create with traversal', () => {
  it('bad shapes and values are EINVAL and create nothing', async () => {
    const bad = [
      { int8: [0] }, { int8: [0, 1, 2] }, { int8: ['0', 1] }, { int8: [0, null] }, { int8: {} }, { uint8: [0, 255] },
      { int8: [0, 1], x: 1 }, [0, 255], 'int8', 8, true, {},
      { int8: [1, 0] }, { int8: [-300, 0] }, { int8: [0, 257] }, { int8: [0, 1e300] }, { int8: [-1e39, 0] },
    ];
    const cases = bad.map((traversal) => ({ name: 'x', dim: 4, traversal }));
    cases.push({ name: 'x', dim: 4, index: 'none', traversal: { int8: [0, 255] } });
    cases.push({ name: 'x', dim: 4, metric: 'ip', traversal: { int8: [0, 255] } }); // centre 128: refused by valori_open
    cases.push({ name: 'x', dim: 4, metric: 'ip', traversal: { int8: [-1, 1] } }); // centre 64
    for (const body of cases) expectError(await post('/v1/collections', body), 400, 'EINVAL');
    expect((await get('/v1/collections')).json.collections.map((c) => c.name)).toEqual(['plain', 'q']);
    expect(fs.readdirSync(data).filter((f) => !f.startsWith('.') || f.startsWith('.tmp'))).toEqual(['plain', 'q']);
    // null is "no copy"; an "ip" collection takes a range whose copy has centre 0
    const n = await post('/v1/collections', { name: 'n', dim: 4, traversal: null });
    expect(n.status, n.text).toBe(201);
    expect(n.json.traversal).toBeNull();
    const ip = await post('/v1/collections', { name: 'ip', dim: 4, metric: 'ip', traversal: { int8: [-1, 0.9921875] } });
    expect(ip.status, ip.text).toBe(201);
    expect(ip.json.traversal).toEqual({ int8: [-1, 0.9921875], shift: 9, center: 0, word: expect.any(Number) });
    for (const c of ['n', 'ip']) expect((await request(srv, 'DELETE', `/v1/collections/${c}`)).status).toBe(200);
  });

  it('describe reports the copy as stats().traversal does; the bytes count it', async () => {
    const d = (await get('/v1/collections/q')).json;
    const p = (await get('/v1/collections/plain')).json;
    const e = await Valori.open({ dim: DIM, traversal: { int8: RANGE } });
    try {
      const st = await e.stats();
      expect(d.traversal).toEqual(st.traversal);
      expect(d.traversal.int8[0]).toBeLessThanOrEqual(RANGE[0]);
      expect(d.traversal.int8[1]).toBeGreaterThanOrEqual(RANGE[1]);
    } finally { await e.close(); }
    expect(p.traversal).toBeNull();
    expect(d.vector_bytes - p.vector_bytes).toBeGreaterThanOrEqual(N * DIM); // capacity, not only the N records
    expect(d.root).not.toBe(p.root); // the copy is configuration, in the root
  });

  it('root and search results equal an embedded npm store with the same option', async () => {
    const e = await Valori.open({ dim: DIM, traversal: { int8: RANGE } });
    try {
      for (let i = 0; i < N; i += 100) {
        await e.insertBatch(VECS.slice(i * DIM, (i + 100) * DIM), { tags: Array.from({ length: 100 }, (_, j) => BigInt((i + j) % 7)) });
      }
      const st = (await get('/v1/collections/q/state')).json;
      expect(st.root).toBe(await e.stateRoot());
      expect((await get('/v1/collections/q')).json.vector_bytes).toBe((await e.stats()).vectorBytes);
      const want = [];
      for (const q of QUERIES) {
        for (const mode of ['hnsw', 'exact']) {
          const hits = await e.search(new Float32Array(q), { k: 10, ef: 40, mode });
          want.push(hits.map((h) => [String(h.id), String(h.distanceRaw)]));
        }
      }
      const got = await searches(srv, 'q');
      expect(got).toEqual(want);
      expect(got.every((h) => h.length === 10)).toBe(true);
    } finally { await e.close(); }
  });

  it('a restart keeps the copy; a native follower bootstraps to the same root, copy and results', async () => {
    const before = { d: (await get('/v1/collections/q')).json, hits: await searches(srv, 'q') };
    expect((await stopServer(srv)).code).toBe(0);
    srv = await startServer(['--data', data, '--heartbeat-ms', '200']);
    const d = (await get('/v1/collections/q')).json;
    expect(d.traversal).toEqual(before.d.traversal);
    expect(d.root).toBe(before.d.root);
    expect(await searches(srv, 'q')).toEqual(before.hits);
    const fdata = path.join(dir, 'follower');
    const f = await startValori(['follow', `${srv.url}/v1/collections/q`, '--listen', '127.0.0.1:0', '--data', fdata, '--heartbeat-ms', '200']);
    try {
      let fd;
      for (let t = 0; t < 300; t++) {
        const r = await request(f, 'GET', '/v1/collections/q');
        if (r.status === 200 && r.json.height === d.height && r.json.root === d.root) { fd = r.json; break; }
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(fd, `the follower did not reach height ${d.height}:\n${f.out}\n${f.err}`).toBeDefined();
      expect(fd.traversal).toEqual(d.traversal);
      expect(fd.vector_bytes).toBe(d.vector_bytes);
      expect(await searches(f, 'q')).toEqual(before.hits);
      // live records stream to it and it stays equal
      await fill(srv, 'q');
      const d2 = (await get('/v1/collections/q')).json;
      let ok = false;
      for (let t = 0; t < 300 && !ok; t++) {
        const r = await request(f, 'GET', '/v1/collections/q/state');
        ok = r.status === 200 && r.json.height === d2.height && r.json.root === d2.root;
        if (!ok) await new Promise((res) => setTimeout(res, 100));
      }
      expect(ok, `the follower did not reach height ${d2.height}`).toBe(true);
      expect(await searches(f, 'q')).toEqual(await searches(srv, 'q'));
    } finally {
      await stopServer(f);
    }
  });

  it('an npm follower (Valori.follow) bootstraps to the same root, copy and results', async () => {
    const d = (await get('/v1/collections/q')).json;
    const f = await Valori.follow(`${srv.url}/v1/collections/q`);
    try {
      for (let t = 0; t < 300 && f.status().height < d.height; t++) await new Promise((res) => setTimeout(res, 100));
      expect(f.status().height).toBe(d.height);
      expect(await f.stateRoot()).toBe(d.root);
      expect((await f.stats()).traversal).toEqual(d.traversal);
      const want = await searches(srv, 'q');
      const got = [];
      for (const q of QUERIES) {
        for (const mode of ['hnsw', 'exact']) {
          const hits = await f.search(new Float32Array(q), { k: 10, ef: 40, mode });
          got.push(hits.map((h) => [String(h.id), String(h.distanceRaw)]));
        }
      }
      expect(got).toEqual(want);
    } finally {
      await f.close();
    }
  });
});
