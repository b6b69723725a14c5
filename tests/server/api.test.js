// Every endpoint and error status of docs/HTTP.md through raw HTTP, with the values checked, and
// bad input of every kind: the right status and code, and nothing stored (height, root and record
// count unchanged).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, rawStatus, request, startServer, stopServer, tmpDir, vectorsBody } from './helpers.js';

let srv;
const dir = tmpDir('api');

beforeAll(async () => {
  srv = await startServer(['--data', path.join(dir, 'db'), '--max-body', '200000', '--max-batch', '50', '--max-k', '100',
    '--max-ef', '500', '--max-dim', '64', '--max-collections', '5']);
  const mk = (body) => request(srv, 'POST', '/v1/collections', { body });
  expect((await mk({ name: 'c3', dim: 3 })).status).toBe(201);
  expect((await mk({ name: 'flat', dim: 2, index: 'none', metric: 'ip' })).status).toBe(201);
  expect((await mk({ name: 'small', dim: 2, hnsw: { m: 4, ef_construction: 20, ef_search: 10 } })).status).toBe(201);
});
afterAll(async () => {
  if (srv) expect((await stopServer(srv)).code).toBe(0);
  fs.rmSync(dir, { recursive: true, force: true });
});

const post = (p, body, opts = {}) => request(srv, 'POST', p, { body, ...opts });
const get = (p) => request(srv, 'GET', p);
async function state(name) {
  const s = await get(`/v1/collections/${name}/state`);
  const d = await get(`/v1/collections/${name}`);
  expect(s.status).toBe(200);
  return { height: s.json.height, root: s.json.root, records: d.json.records };
}
function expectError(r, status, code) {
  expect(r.status, r.text).toBe(status);
  expect(r.json, r.text).toEqual({ error: { code, message: expect.any(String) } });
}

describe('collections', () => {
  it('create validates every field', async () => {
    const cases = [
      [{ dim: 3 }, 400, 'EINVAL'], [{ name: 'x' }, 400, 'EINVAL'], [{ name: 'x', dim: '3' }, 400, 'EINVAL'],
      [{ name: 'x', dim: 0 }, 400, 'EDIM'], [{ name: 'x', dim: 3.5 }, 400, 'EINVAL'], [{ name: 'x', dim: 65 }, 400, 'EDIM'],
      [{ name: 'x', dim: -1 }, 400, 'EINVAL'], [{ name: 'x', dim: 4097 }, 400, 'EDIM'], [{ name: 'x', dim: 2 ** 32 }, 400, 'EINVAL'],
      [{ name: 'x', dim: 3, metric: 'cos' }, 400, 'EINVAL'], [{ name: 'x', dim: 3, index: 'ivf' }, 400, 'EINVAL'],
      [{ name: 'x', dim: 3, index: 'none', hnsw: { m: 8 } }, 400, 'EINVAL'], [{ name: 'x', dim: 3, hnsw: { m: 1 } }, 400, 'EINVAL'],
      [{ name: 'x', dim: 3, hnsw: { m: 65 } }, 400, 'EINVAL'], [{ name: 'x', dim: 3, hnsw: { mm: 8 } }, 400, 'EINVAL'],
      [{ name: 'a/b', dim: 3 }, 400, 'EINVAL'], [{ name: '..', dim: 3 }, 400, 'EINVAL'], [{ name: '-x', dim: 3 }, 400, 'EINVAL'],
      [{ name: 'x'.repeat(65), dim: 3 }, 400, 'EINVAL'], [{ name: 'c3', dim: 3 }, 409, 'EEXIST'], [[1, 2], 400, 'EINVAL'],
    ];
    for (const [body, status, code] of cases) expectError(await post('/v1/collections', body), status, code);
    expect((await post('/v1/collections', { name: 'x'.repeat(64), dim: 1 })).status).toBe(201);
    expect((await request(srv, 'DELETE', `/v1/collections/${'x'.repeat(64)}`)).status).toBe(200);
    const list = await get('/v1/collections');
    expect(list.json.collections.map((c) => c.name)).toEqual(['c3', 'flat', 'small']);
  });

  it('list pages with limit and after, describe and delete', async () => {
    const p1 = await get('/v1/collections?limit=2');
    expect(p1.json.collections.map((c) => c.name)).toEqual(['c3', 'flat']);
    expect(p1.json.next).toBe('flat');
    const p2 = await get('/v1/collections?limit=2&after=flat');
    expect(p2.json.collections.map((c) => c.name)).toEqual(['small']);
    expect(p2.json.next).toBe(null);
    expectError(await get('/v1/collections?limit=0'), 400, 'EINVAL');
    expectError(await get('/v1/collections?sort=name'), 400, 'EINVAL');
    const d = await get('/v1/collections/small');
    expect(d.json.hnsw).toEqual({ m: 4, ef_construction: 20, ef_search: 10 });
    expect(d.json.disk_bytes).toBeGreaterThan(0);
    expect((await post('/v1/collections', { name: 'gone', dim: 2 })).status).toBe(201);
    expect((await post('/v1/collections/gone/records', { vector: [1, 2] })).status).toBe(201);
    expect((await request(srv, 'DELETE', '/v1/collections/gone')).json).toEqual({ deleted: 'gone' });
    expect(fs.existsSync(path.join(dir, 'db', 'gone'))).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'db')).filter((n) => n.startsWith('.'))).toEqual([]);
    expectError(await post('/v1/collections/gone/records', { vector: [1, 2] }), 404, 'ENOCOLLECTION');
    expectError(await get('/v1/collections/gone/state'), 404, 'ENOCOLLECTION');
    expectError(await get('/v1/collections/no_such'), 404, 'ENOCOLLECTION');
  });

  it('an invalid collection name in a path is EINVAL on every method; a valid unknown one ENOCOLLECTION', async () => {
    const before = await state('c3');
    for (const name of ['-x', '.hidden', '%2E%2E', 'a%20b', '_a', 'x'.repeat(65), 'caf%C3%A9']) {
      expectError(await get(`/v1/collections/${name}`), 400, 'EINVAL');
      expectError(await request(srv, 'DELETE', `/v1/collections/${name}`), 400, 'EINVAL');
      expectError(await get(`/v1/collections/${name}/state`), 400, 'EINVAL');
      expectError(await post(`/v1/collections/${name}/records`, { vector: [1, 2, 3] }), 400, 'EINVAL');
      expectError(await post(`/v1/collections/${name}/search`, { vector: [1, 2, 3] }), 400, 'EINVAL');
    }
    for (const name of ['x'.repeat(64), 'a_b-c', '0']) {
      expectError(await get(`/v1/collections/${name}`), 404, 'ENOCOLLECTION');
      expectError(await request(srv, 'DELETE', `/v1/collections/${name}`), 404, 'ENOCOLLECTION');
    }
    expect(await state('c3')).toEqual(before);
    expect(fs.readdirSync(path.join(dir, 'db')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('describe reports the engine counters of valori_stats: next node/edge ids, tombstones, bytes', async () => {
    const c = '/v1/collections/counters';
    const d0 = (await post('/v1/collections', { name: 'counters', dim: 2 })).json;
    expect([d0.next_node_id, d0.next_edge_id, d0.index_tombstones, d0.vector_bytes, d0.index_bytes]).toEqual(['1', '1', 0, 0, 0]);
    expect(d0.other_bytes).toEqual(expect.any(Number));
    for (const v of [[1, 1], [2, 1], [3, 1]]) expect((await post(`${c}/records`, { vector: v })).status).toBe(201);
    const n1 = (await post(`${c}/nodes`, { record: '1' })).json.id;
    const n2 = (await post(`${c}/nodes`, {})).json.id;
    expect((await post(`${c}/edges`, { from: n1, to: n2, kind: 1 })).status).toBe(201);
    expect((await request(srv, 'DELETE', `${c}/records/3`)).status).toBe(200);
    const d = (await get(c)).json;
    expect([d.records, d.nodes, d.edges, d.next_id, d.next_node_id, d.next_edge_id, d.index_tombstones])
      .toEqual([2, 2, 1, '4', '3', '2', 1]);
    expect(d.vector_bytes).toBeGreaterThanOrEqual(2 * 2 * 4);
    expect(d.index_bytes).toBeGreaterThan(0);
    expect(d.other_bytes).toBeGreaterThan(d0.other_bytes);
    const flat = (await get('/v1/collections/flat')).json;
    expect([flat.index_tombstones, flat.index_bytes]).toEqual([0, 0]); // no index
    expect((await request(srv, 'DELETE', c)).status).toBe(200);
  });
});

describe('collection limit', () => {
  it('--max-collections bounds the directory', async () => {
    expect((await post('/v1/collections', { name: 'm1', dim: 1 })).status).toBe(201);
    expect((await post('/v1/collections', { name: 'm2', dim: 1 })).status).toBe(201);
    expectError(await post('/v1/collections', { name: 'm3', dim: 1 }), 400, 'ETOOBIG');
    expect((await request(srv, 'DELETE', '/v1/collections/m1')).status).toBe(200);
    expect((await request(srv, 'DELETE', '/v1/collections/m2')).status).toBe(200);
    expect((await get('/v1/collections')).json.collections.length).toBe(3);
  });
});

describe('records', () => {
  it('insert, get exact values, u64 tags, update every field combination, delete', async () => {
    const vals = [1 / 65536, -255.9999847412109375, 256];
    const r = await post('/v1/collections/c3/records', { vector: vals, tag: '18446744073709551615', meta: Buffer.from('héllo').toString('base64') });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ id: expect.stringMatching(/^\d+$/), height: expect.any(Number), root: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const id = r.json.id;
    const g = await get(`/v1/collections/c3/records/${id}`);
    expect(g.json.vector).toEqual(vals);
    expect(g.text).toContain('"vector":[0.0000152587890625,-255.9999847412109375,256]');
    expect(g.json.tag).toBe('18446744073709551615');
    expect(Buffer.from(g.json.meta, 'base64').toString()).toBe('héllo');
    expect(g.json.height).toBe(r.json.height);
    const combos = [{ vector: [1, 2, 3] }, { tag: '5' }, { meta: 'AA==' }, { vector: [0, 0, 0], tag: 6 }, { vector: [3, 3, 3], meta: null },
      { tag: '7', meta: 'AQI=' }, { vector: [-1, -2, -3], tag: '8', meta: 'Aw==' }];
    let h = r.json.height;
    for (const c of combos) {
      const u = await request(srv, 'PATCH', `/v1/collections/c3/records/${id}`, { body: c });
      expect(u.status, u.text).toBe(200);
      expect(u.json.height).toBe(++h); // one event per update, whatever the fields
      const now = (await get(`/v1/collections/c3/records/${id}`)).json;
      if (c.vector) expect(now.vector).toEqual(c.vector);
      if (c.tag !== undefined) expect(now.tag).toBe(String(c.tag));
      if ('meta' in c) expect(now.meta).toBe(c.meta);
    }
    const before = await state('c3');
    expectError(await request(srv, 'PATCH', `/v1/collections/c3/records/${id}`, { body: { vector: [1, 2, 300], tag: '9' } }), 400, 'ERANGE');
    expectError(await request(srv, 'PATCH', '/v1/collections/c3/records/999', { body: { tag: '9' } }), 404, 'ENOTFOUND');
    expectError(await request(srv, 'PATCH', `/v1/collections/c3/records/${id}`, { body: { tag: '9', meta: 'A'.repeat(87384) } }), 400, 'ETOOBIG');
    expect(await state('c3')).toEqual(before);
    expect((await get(`/v1/collections/c3/records/${id}`)).json.tag).toBe('8');
    const del = await request(srv, 'DELETE', `/v1/collections/c3/records/${id}`);
    expect(del.json.height).toBe(before.height + 1);
    expectError(await get(`/v1/collections/c3/records/${id}`), 404, 'ENOTFOUND');
    expectError(await get('/v1/collections/c3/records/abc'), 400, 'EINVAL');
    expectError(await get('/v1/collections/c3/records/99999999999999999999999'), 400, 'EINVAL');
  });

  it('bad bodies change nothing', async () => {
    await post('/v1/collections/c3/records', { vector: [1, 1, 1] });
    const before = await state('c3');
    const rec = '/v1/collections/c3/records';
    const raw = (body, ct = 'application/json') => post(rec, body, { headers: { 'Content-Type': ct } });
    const cases = [
      [raw('{"vector": [1, 2, 3]'), 400, 'EJSON'], [raw('{"vector": [1, 2, 3]}}'), 400, 'EJSON'], [raw(''), 400, 'EJSON'],
      [raw('{"vector": [1, 2, NaN]}'), 400, 'EJSON'], [raw('{"vector": [1, 2, Infinity]}'), 400, 'EJSON'],
      [raw('{"vector": [1, 2, 3], "meta": "\xff"}'), 400, 'EINVAL'],
      [post(rec, Buffer.from('{"vector": [1, 2, 3], "meta": "\xc3\x28"}', 'latin1'), { headers: { 'Content-Type': 'application/json' } }), 400, 'EJSON'],
      [raw('{"vector": [1, 2, 3], "meta": "a\u0001b"}'), 400, 'EJSON'], [raw('{"vector": [1, 2, 3], "tag": "\\u0000"}'), 400, 'EJSON'],
      [raw('{"vector": ' + '['.repeat(40) + ']'.repeat(40) + '}'), 400, 'EJSON'],
      [raw('[' .repeat(100000) + ']'.repeat(100000)), 400, 'EJSON'],
      [raw('{"vector": [1, 2, 3], "tag": 1' + '0'.repeat(70) + '}'), 400, 'EINVAL'],
      [post(rec, { vector: [1, 2] }), 400, 'EDIM'], [post(rec, { vector: [1, 2, 3, 4] }), 400, 'EDIM'], [post(rec, { vector: [] }), 400, 'EDIM'],
      [post(rec, { vector: [1, 1e39, 3] }), 400, 'ERANGE'], [post(rec, { vector: [1, 256.0001, 3] }), 400, 'ERANGE'],
      [raw('{"vector": [1, 1e400, 3]}'), 400, 'ERANGE'], [raw('{"vector": [1, -1e400, 3]}'), 400, 'ERANGE'],
      [post(rec, { vector: ['1', 2, 3] }), 400, 'EINVAL'], [post(rec, { vector: '1,2,3' }), 400, 'EINVAL'], [post(rec, { vector: [1, null, 3] }), 400, 'EINVAL'],
      [post(rec, { vector: [1, 2, 3], tag: -1 }), 400, 'EINVAL'], [post(rec, { vector: [1, 2, 3], tag: 1.5 }), 400, 'EINVAL'],
      [post(rec, { vector: [1, 2, 3], tag: '0x10' }), 400, 'EINVAL'], [post(rec, { vector: [1, 2, 3], tag: ' 1' }), 400, 'EINVAL'],
      [post(rec, { vector: [1, 2, 3], tag: '18446744073709551616' }), 400, 'EINVAL'], [post(rec, { vector: [1, 2, 3], tag: 2 ** 53 + 2 }), 400, 'EINVAL'],
      [post(rec, { vector: [1, 2, 3], tag: true }), 400, 'EINVAL'], [post(rec, { vector: [1, 2, 3], meta: 5 }), 400, 'EINVAL'],
      [post(rec, { vector: [1, 2, 3], meta: 'AAE' }), 400, 'EINVAL'], [post(rec, { vector: [1, 2, 3], meta: 'AA=E' }), 400, 'EINVAL'],
      [post(rec, { vector: [1, 2, 3], meta: Buffer.alloc(65537).toString('base64') }), 400, 'ETOOBIG'],
      [post(rec, { vector: [1, 2, 3], metadata: 'AA==' }), 400, 'EINVAL'], [raw('{"vector": [1, 2, 3], "vector": [1, 2, 3]}'), 400, 'EINVAL'],
      [post(rec, [1, 2, 3]), 400, 'EINVAL'], [raw('"x"'), 400, 'EINVAL'], [post(rec, 'x'), 415, 'EMEDIA'],
      [raw('{"vector": [1, 2, 3]}', 'text/plain'), 415, 'EMEDIA'], [raw('{"vector": [1, 2, 3]}', 'application/json; charset=latin1'), 415, 'EMEDIA'],
      [raw('{"vector": [1, 2, 3]}', 'application/vnd.valori.vectors'), 415, 'EMEDIA'],
      [post(rec, 'x'.repeat(200001), { headers: { 'Content-Type': 'application/json' } }), 413, 'ETOOLARGE'],
      [post('/v1/collections/nope/records', { vector: [1, 2, 3] }), 404, 'ENOCOLLECTION'],
      [post(rec + '?x=1', { vector: [1, 2, 3] }), 400, 'EINVAL'],
    ];
    for (const [p, status, code] of cases) expectError(await p, status, code);
    expect(await state('c3')).toEqual(before);
  });

  it('batches are atomic and validated whole; binary ingest', async () => {
    const before = await state('c3');
    const b = '/v1/collections/c3/records/batch';
    const many = (n) => ({ records: Array.from({ length: n }, (_, i) => ({ vector: [i, 0, 0] })) });
    const vec = (body) => post(b, body, { headers: { 'Content-Type': 'application/vnd.valori.vectors' } });
    const bad = [
      [post(b, many(51)), 400, 'ETOOBIG'], [post(b, { records: [] }), 400, 'EEMPTY'], [post(b, { records: {} }), 400, 'EINVAL'],
      [post(b, { records: [{ vector: [1, 2, 3] }, { vector: [1, 2] }] }), 400, 'EDIM'],
      [post(b, { records: [{ vector: [1, 2, 3] }, { vector: [1, 2, 3], tag: 'x' }] }), 400, 'EINVAL'], [post(b, {}), 400, 'EINVAL'],
      [vec(vectorsBody([1, 2, 3], 3).subarray(0, 30)), 400, 'EBINARY'], [vec(Buffer.alloc(10)), 400, 'EBINARY'],
      [vec(Buffer.concat([vectorsBody([1, 2, 3], 3), Buffer.alloc(4)])), 400, 'EBINARY'],
      [vec(vectorsBody([1, 2], 2)), 400, 'EDIM'], [vec(vectorsBody([1, NaN, 3], 3)), 400, 'ENAN'],
      [vec(vectorsBody([1, Infinity, 3], 3)), 400, 'EINF'], [vec(vectorsBody([1, 2, 300], 3)), 400, 'ERANGE'],
      [vec(vectorsBody(new Array(51 * 3).fill(0), 3)), 400, 'ETOOBIG'],
      [vec((() => { const x = vectorsBody([1, 2, 3], 3); x.write('VLVX', 0, 'latin1'); return x; })()), 400, 'EBINARY'],
      [vec((() => { const x = vectorsBody([1, 2, 3], 3); x.writeUInt32LE(2, 4); return x; })()), 400, 'EBINARY'],
      [vec((() => { const x = vectorsBody([1, 2, 3], 3); x.writeUInt32LE(2, 16); return x; })()), 400, 'EBINARY'],
      [vec((() => { const x = vectorsBody([1, 2, 3], 3); x.writeUInt32LE(0xffffffff, 8); return x; })()), 400, 'ETOOBIG'],
      [vec((() => { const x = vectorsBody([1, 2, 3], 3); x.writeUInt32LE(0, 8); return x; })()), 400, 'EEMPTY'],
    ];
    for (const [p, status, code] of bad) expectError(await p, status, code);
    expect(await state('c3')).toEqual(before);
    const ok = await post(b, many(50));
    expect(ok.status).toBe(201);
    expect(ok.json.count).toBe(50);
    expect(ok.json.height).toBe(before.height + 1);
    const bin = await vec(vectorsBody([7, 7, 7, 8, 8, 8, 9, 9, 9], 3, [70n, 80n, 18446744073709551615n]));
    expect(bin.status, bin.text).toBe(201);
    expect(bin.json.height).toBe(before.height + 2);
    const first = BigInt(bin.json.first_id);
    const third = await get(`/v1/collections/c3/records/${first + 2n}`);
    expect(third.json.vector).toEqual([9, 9, 9]);
    expect(third.json.tag).toBe('18446744073709551615');
    const s = await post('/v1/collections/c3/search', { vector: [8, 8, 8], k: 1, tag: '80' });
    expect(s.json.hits.map((x) => x.id)).toEqual([String(first + 1n)]);
    expect((await state('c3')).records).toBe(before.records + 53);
  });

  it('events endpoint applies canonical events and rejects bad ones', async () => {
    const before = await state('c3');
    const ev = (hex, ct = 'application/vnd.valori.event') => post('/v1/collections/c3/events', Buffer.from(hex, 'hex'), { headers: { 'Content-Type': ct } });
    expectError(await ev('63000000' + '00000000'), 400, 'EOPCODE');
    expectError(await ev('0300000008000000' + '0100'), 400, 'EBINARY');
    expectError(await ev('0300000008000000' + 'ffffffffffffffff'), 404, 'ENOTFOUND');
    expectError(await post('/v1/collections/c3/events', '', { headers: { 'Content-Type': 'application/vnd.valori.event' } }), 400, 'EBINARY');
    expectError(await ev('0300000008000000' + '0100000000000000', 'application/octet-stream'), 415, 'EMEDIA');
    expect(await state('c3')).toEqual(before);
  });
});

describe('search and graph', () => {
  it('search limits, filters and modes', async () => {
    const s = '/v1/collections/c3/search';
    const before = await state('c3');
    const cases = [
      [{ vector: [1, 2, 3], k: 0 }, 'EK'], [{ vector: [1, 2, 3], k: 101 }, 'EK'], [{ vector: [1, 2, 3], ef: 501 }, 'EK'],
      [{ vector: [1, 2, 3], k: '5' }, 'EINVAL'], [{ vector: [1, 2, 3], tags: [] }, 'EINVAL'],
      [{ vector: [1, 2, 3], tags: Array.from({ length: 257 }, (_, i) => String(i)) }, 'ETOOBIG'],
      [{ vector: [1, 2, 3], mode: 'fast' }, 'EINVAL'], [{ vector: [1, 2] }, 'EDIM'], [{ k: 3 }, 'EINVAL'],
      [{ vector: [1, 2, 3], with_meta: 1 }, 'EINVAL'], [{ vector: [1, 2, 3], expand: { hops: 17 } }, 'EINVAL'],
      [{ vector: [1, 2, 3], expand: { dir: 'up' } }, 'EINVAL'], [{ vector: [1, 2, 3], expand: { max_nodes: 0 } }, 'EINVAL'],
      [{ vector: [1, 2, 3], expand: { depth: 1 } }, 'EINVAL'],
    ];
    for (const [body, code] of cases) expectError(await post(s, body), 400, code);
    expectError(await post('/v1/collections/flat/search', { vector: [1, 2], mode: 'hnsw' }), 400, 'EINVAL');
    const r = await post(s, { vector: [0, 0, 0], k: 100, ef: 200, mode: 'exact' });
    expect(r.status).toBe(200);
    expect(r.json.height).toBe(before.height);
    const d = r.json.hits.map((h) => BigInt(h.distance_raw));
    for (let i = 1; i < d.length; i++) expect(d[i] >= d[i - 1]).toBe(true);
    for (const h of r.json.hits) expect(h.distance).toBe(Number(BigInt(h.distance_raw)) / 2 ** 32);
    const hnsw = await post(s, { vector: [0, 0, 0], k: 10, mode: 'hnsw', ef: 100 });
    expect(hnsw.json.hits.map((h) => h.id)).toEqual(r.json.hits.slice(0, 10).map((h) => h.id));
    await post('/v1/collections/flat/records', { vector: [1, 2], tag: 3 });
    const ip = await post('/v1/collections/flat/search', { vector: [1, 1], with_meta: true });
    expect(ip.json.hits).toEqual([{ id: '1', distance: -3, distance_raw: String(-3n * 2n ** 32n), tag: '3', meta: null }]);
    expect(await state('c3')).toEqual(before);
  });

  it('graph endpoints and their errors', async () => {
    const c = '/v1/collections/small';
    const r1 = (await post(`${c}/records`, { vector: [1, 0] })).json.id;
    const n1 = await post(`${c}/nodes`, { kind: 1, record: r1 });
    const n2 = await post(`${c}/nodes`, { kind: 2, label: 'bGFiZWw=' });
    expect([n1.status, n2.status]).toEqual([201, 201]);
    const e1 = await post(`${c}/edges`, { from: n1.json.id, to: n2.json.id, kind: 3, weight: -0.5 });
    expect(e1.status).toBe(201);
    expect((await get(`${c}/records/${r1}`)).json.node).toBe(n1.json.id);
    const before = await state('small');
    const bad = [
      [post(`${c}/nodes`, { kind: -1 }), 400, 'EINVAL'], [post(`${c}/nodes`, { record: '999' }), 404, 'ENOTFOUND'],
      [post(`${c}/nodes`, { record: r1 }), 409, 'EEXIST'], [post(`${c}/nodes`, { label: Buffer.alloc(65537).toString('base64') }), 400, 'ETOOBIG'],
      [post(`${c}/edges`, { from: n1.json.id, to: '999' }), 404, 'ENOTFOUND'], [post(`${c}/edges`, { to: n1.json.id }), 400, 'EINVAL'],
      [post(`${c}/edges`, { from: n1.json.id, to: n2.json.id, weight: 300 }), 400, 'ERANGE'],
      [post(`${c}/edges`, { from: n1.json.id, to: n2.json.id, weight: '1' }), 400, 'EINVAL'],
      [post(`${c}/expand`, { seeds: {} }), 400, 'EINVAL'], [post(`${c}/expand`, { seeds: ['999'] }), 404, 'ENOTFOUND'],
      [post(`${c}/expand`, { seeds: [n1.json.id], hops: 17 }), 400, 'EINVAL'],
      [get(`${c}/nodes/999`), 404, 'ENOTFOUND'], [get(`${c}/nodes/999/neighbors`), 404, 'ENOTFOUND'],
      [get(`${c}/nodes/${n1.json.id}/neighbors?limit=0`), 400, 'EINVAL'], [get(`${c}/nodes/${n1.json.id}/neighbors?kind=x`), 400, 'EINVAL'],
      [get(`${c}/nodes/${n1.json.id}/neighbors?depth=1`), 400, 'EINVAL'],
      [request(srv, 'DELETE', `${c}/edges/999`), 404, 'ENOTFOUND'], [request(srv, 'DELETE', `${c}/nodes/999`), 404, 'ENOTFOUND'],
    ];
    for (const [p, status, code] of bad) expectError(await p, status, code);
    expect(await state('small')).toEqual(before);
    const nb = await get(`${c}/nodes/${n1.json.id}/neighbors?kind=3&limit=1`);
    expect(nb.json.edges).toEqual([{ id: e1.json.id, from: n1.json.id, to: n2.json.id, kind: 3, weight: -0.5 }]);
    expect((await get(`${c}/nodes/${n1.json.id}/neighbors?kind=4`)).json).toEqual({ edges: [], total: 0, height: before.height });
    const x = await post(`${c}/search`, { vector: [1, 0], k: 1, expand: { hops: 1, dir: 'out', max_nodes: 10 } });
    expect(x.json.nodes.map((n) => n.node)).toEqual([n1.json.id, n2.json.id]);
    // no seeds, no expansion: an empty list (as valori_expand), never an error; likewise a search
    // whose hits have no node (the record at [0, 1] has none)
    for (const body of [{ seeds: [] }, { seeds: [], hops: 3, dir: 'both', max_nodes: 1 }]) {
      const e0 = await post(`${c}/expand`, body);
      expect([e0.status, e0.json]).toEqual([200, { nodes: [], visited: 0, height: before.height }]);
    }
    const r2 = (await post(`${c}/records`, { vector: [0, 1] })).json.id;
    const bare = await post(`${c}/search`, { vector: [0, 1], k: 1, expand: { hops: 2 } });
    expect([bare.status, bare.json.hits.map((h) => h.id), bare.json.nodes]).toEqual([200, [r2], []]);
    await request(srv, 'DELETE', `${c}/records/${r2}`);
    // deleting the record deletes its node and the node's edges
    await request(srv, 'DELETE', `${c}/records/${r1}`);
    expectError(await get(`${c}/nodes/${n1.json.id}`), 404, 'ENOTFOUND');
    expect((await get(`${c}/nodes/${n2.json.id}/neighbors?dir=both`)).json.total).toBe(0);
  });
});

describe('routing, state, snapshots', () => {
  it('404, 405, HEAD, trailing slashes, bodies where none belong', async () => {
    expectError(await get('/v1/nothing'), 404, 'ENOROUTE');
    expectError(await get('/v1/collections/'), 404, 'ENOROUTE');
    expectError(await get('/v1/collections/c3/records/1/extra'), 404, 'ENOROUTE');
    const m = await request(srv, 'PUT', '/v1/collections/c3');
    expectError(m, 405, 'EMETHOD');
    expect(m.headers.allow).toBe('GET, HEAD, DELETE');
    expect((await request(srv, 'POST', '/v1/collections/c3/state')).headers.allow).toBe('GET, HEAD');
    const h = await request(srv, 'HEAD', '/v1/collections/c3/state');
    expect(h.status).toBe(200);
    expect(h.body.length).toBe(0);
    expectError(await request(srv, 'DELETE', '/v1/collections/c3/records/1', { body: 'x', headers: { 'Content-Type': 'text/plain' } }), 415, 'EMEDIA');
    expectError(await request(srv, 'POST', '/v1/collections/c3/checkpoint', { body: '{}', headers: { 'Content-Type': 'application/json' } }), 415, 'EMEDIA');
    const raw = await rawRequest(srv, 'GET /v1/collections HTTP/1.1\r\nHost: 127.0.0.1:' + srv.port + '\r\nContent-Length: abc\r\n\r\n');
    expect(rawStatus(raw.data)).toBe(400);
  });

  it('state, checkpoint, snapshot download, verify', async () => {
    expectError(await get('/v1/collections/flat/snapshot'), 404, 'ENOSNAPSHOT');
    const st = await get('/v1/collections/c3/state');
    expect(st.json.durable_height).toBe(st.json.height);
    const cp = await post('/v1/collections/c3/checkpoint');
    expect(cp.json).toEqual({ snapshot_height: st.json.height, height: st.json.height, root: st.json.root });
    const snap = await get('/v1/collections/c3/snapshot');
    expect(snap.headers['content-type']).toBe('application/vnd.valori.snapshot');
    expect(snap.headers['x-valori-height']).toBe(String(st.json.height));
    expect(snap.headers['x-valori-root']).toBe(st.json.root);
    expect(snap.body.subarray(0, 8).toString('latin1')).toBe('VALORSNP');
    expect(snap.body.readBigUInt64LE(40)).toBe(BigInt(st.json.height));
    expect(snap.body.subarray(56, 88).toString('hex')).toBe(st.json.root);
    const files = fs.readdirSync(path.join(dir, 'db', 'c3')).filter((f) => f.endsWith('.vsnap'));
    expect(snap.body.equals(fs.readFileSync(path.join(dir, 'db', 'c3', files.sort().at(-1))))).toBe(true);
    const v = await post('/v1/collections/c3/verify');
    expect(v.status, v.text).toBe(200);
    expect(v.json.ok).toBe(true);
    expect(v.json.log_height).toBe(st.json.height);
    expect(v.json.root).toBe(st.json.root);
    expect((await get('/v1/collections/c3/state')).json.snapshot_height).toBe(st.json.height);
  });
});
