// remote-traversal.test.js: a store with an int8 compact traversal copy, written by the npm package
// on the filesystem and then served by `valori serve --data` (the server opens the stores it finds;
// before it could create one): its describe answer and RemoteValori.stats() report the copy
// exactly as the embedded stats() does, a collection the server creates reports none, and the
// server's state root and HNSW results are the embedded ones; RemoteValori.createCollection with
// `traversal` makes a collection with the same copy, and refuses a bad range with EINVAL.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Valori } from '../src/index.js';
import { request, startServer, stopServer, tmpDir } from '../../tests/server/helpers.js';

const dir = tmpDir('traversal');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('serves a store with an int8 traversal copy made by the npm package and reports the copy', async () => {
  const data = path.join(dir, 'db');
  fs.mkdirSync(data);
  let x = 99;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) % 256;
  const rows = Array.from({ length: 300 }, () => Float32Array.from({ length: 4 }, rnd));
  const queries = Array.from({ length: 10 }, () => Float32Array.from({ length: 4 }, rnd));
  const db = await Valori.open({ path: path.join(data, 'pixels'), dim: 4, traversal: { int8: [0, 255] } });
  await db.insertBatch(rows);
  const want = (await db.stats()).traversal, root = await db.stateRoot();
  const hits = [];
  for (const q of queries) hits.push(await db.search(q, { k: 5, mode: 'hnsw' }));
  await db.close();
  expect(want).toEqual({ int8: [0, 255], shift: 16, center: 128, word: 0x00801001 });
  const srv = await startServer(['--data', data]);
  try {
    const d = await request(srv, 'GET', '/v1/collections/pixels');
    expect(d.status, d.text).toBe(200);
    expect(d.json.traversal).toEqual(want);
    const made = await request(srv, 'POST', '/v1/collections', { body: { name: 'plain', dim: 4 } });
    expect(made.status, made.text).toBe(201);
    expect(made.json.traversal).toBeNull();
    const r = await Valori.connect(srv.url, { collection: 'pixels' });
    try {
      expect((await r.stats()).traversal).toEqual(want);
      expect(await r.stateRoot()).toBe(root);
      for (let i = 0; i < queries.length; i++) {
        const got = await r.search(queries[i], { k: 5, mode: 'hnsw' });
        expect(got.map((h) => [h.id, h.distanceRaw])).toEqual(hits[i].map((h) => [h.id, h.distanceRaw]));
      }
    } finally {
      await r.close();
    }
    const p = await Valori.connect(srv.url, { collection: 'plain' });
    expect((await p.stats()).traversal).toBeNull();
    // createCollection sends the option: the server's copy is the embedded one
    const c = await p.createCollection('made8', { dim: 4, traversal: { int8: [0, 255] } });
    expect(c.traversal).toEqual(want);
    const bad = await p.createCollection('bad8', { dim: 4, traversal: { int8: [1, 0] } }).catch((e) => e);
    expect(bad.code).toBe('EINVAL');
    expect((await request(srv, 'GET', '/v1/collections/bad8')).status).toBe(404);
    await p.close();
  } finally {
    expect((await stopServer(srv)).code).toBe(0);
  }
});
