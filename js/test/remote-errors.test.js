// remote-errors.test.js: every error status `valori serve` has (docs/HTTP.md section 3: 400, 401,
// 403, 404, 405, 409, 413, 415, 429, 500, 503, 507) reaches the remote client's caller as a
// ValoriError with the server's code, its .status, and .errno from the package's own constants for
// the core's codes (the embedded database's numbers); what the client can not get from a server
// (no answer, a lost connection, a timeout, something that is not Valori's error shape) has the
// client's own codes ECONNECT and EPROTOCOL. Every case runs against a real server on 127.0.0.1
// port 0; the statuses the client's own requests never provoke (a wrong method, media type, JSON
// body, Host or Origin) are provoked through the `fetch` option, by a fetch that alters the request
// on its way, so that what comes back is still the real server's answer. After every refused write
// the collection's height and root are unchanged.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Valori, ValoriError } from '../src/index.js';
import { startValori } from './remote-server.js';
import { tmpDir } from '../../tests/server/helpers.js';

const f32 = (...xs) => Float32Array.from(xs);
let C;

/** The rejection of p (a ValoriError), or a failure naming what it resolved with. */
async function rejection(p) {
  try {
    const v = await p;
    throw new Error(`resolved with ${String(v)}`);
  } catch (e) {
    if (!(e instanceof ValoriError)) throw e;
    return e;
  }
}

/** The server's own number for one of its codes (GET /v1/constants), or -1 without that endpoint. */
async function serverNumber(url, code) {
  const r = await fetch(`${url}/v1/constants`);
  if (r.status === 404) return -1;
  return (await r.json()).server_codes[code];
}

/** A fetch that passes every request through `edit(url, init)` first (returns [url, init]). */
const altered = (edit) => (url, init) => fetch(...edit(url, { ...init, headers: { ...init.headers } }));

/** A fetch over node:http (where the Host header can be chosen), answering a WHATWG Response. */
function fetchWithHost(host) {
  return (url, init) => new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: init.method,
      headers: { ...init.headers, Host: host }, setHost: false, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode, headers: res.headers })));
    });
    req.on('error', reject);
    if (init.body) req.write(init.body);
    req.end();
  });
}

beforeAll(async () => { C = await Valori.constants(); });

describe('a server with tokens', () => {
  let srv, db, ro;
  beforeAll(async () => {
    srv = await startValori({ args: ['--max-k', '100', '--max-batch', '50'] });
    db = await Valori.connect(srv.url, { collection: 'errs', token: srv.write, dim: 3 });
    await db.insertBatch([f32(1, 1, 1), f32(2, 2, 2)], { tags: [1, 2] });
    await db.createNode({ kind: 1, record: 1 });
    ro = await Valori.connect(srv.url, { collection: 'errs', token: srv.read });
  });
  afterAll(async () => {
    await db?.close();
    await ro?.close();
    if (srv) expect((await srv.stop()).code).toBe(0);
  });

  /** Runs `p` and requires the code, status and number; the collection's height and root stay. */
  async function refused(p, code, status) {
    const before = db.lastWrite;
    const e = await rejection(p);
    expect([e.code, e.status, e.message.length > 0]).toEqual([code, status, true]);
    expect(e.errno).toBe(C.codes[code] ?? await serverNumber(srv.url, code));
    const st = (await db.describe());
    expect([st.height, st.root]).toEqual([before.height, before.root]);
    return e;
  }

  it('400: the core\'s codes the server finds (ERANGE, ETOOBIG, EEMPTY, EK, EINVAL, EOPCODE) and its own (EJSON, EBINARY)', async () => {
    await refused(db.insert([1, 300, 1]), 'ERANGE', 400);
    await refused(db.insert([1, 1, 1], { meta: new Uint8Array(C.limits.MAX_META + 1) }), 'ETOOBIG', 400);
    await refused(db.insertBatch(new Float32Array(3 * 51)), 'ETOOBIG', 400); // above this server's --max-batch
    await refused(db.insertBatch([]), 'EEMPTY', 400);
    await refused(db.insertBatch([f32(0, 0, 0), f32(0, NaN, 0)]), 'ENAN', 400); // binary32 reaches C through binary ingest
    await refused(db.search(f32(1, 1, 1), { k: 101 }), 'EK', 400); // below C's limit, above this server's --max-k
    await refused(db.update(1, {}), 'EINVAL', 400);
    await refused(db.apply(Uint8Array.from([0x63, 0, 0, 0, 0, 0, 0, 0])), 'EOPCODE', 400);
    const truncate = altered((url, init) => [url, init.body ? { ...init, body: init.body.slice(0, -1) } : init]);
    const bad = await Valori.connect(srv.url, { collection: 'errs', token: srv.write, fetch: truncate });
    // (connect's own requests have no body)
    await refused(bad.insert([1, 2, 3]), 'EJSON', 400);
    await refused(bad.insertBatch([f32(1, 2, 3)]), 'EBINARY', 400);
    await bad.close();
  });

  it('401 EAUTH without a token or with an unknown one', async () => {
    const e1 = await rejection(Valori.connect(srv.url, { collection: 'errs' }));
    expect([e1.code, e1.status, e1.errno]).toEqual(['EAUTH', 401, await serverNumber(srv.url, 'EAUTH')]);
    const e2 = await rejection(Valori.connect(srv.url, { collection: 'errs', token: 'not-a-token-of-this-server' }));
    expect([e2.code, e2.status]).toEqual(['EAUTH', 401]);
  });

  it('403: EFORBIDDEN for a read token that writes, EORIGIN and EHOST for a foreign page or host name', async () => {
    expect((await ro.search(f32(1, 1, 1), { k: 1 }))[0].id).toBe(1n); // reads are fine
    await refused(ro.insert(f32(1, 2, 3)), 'EFORBIDDEN', 403);
    await refused(ro.checkpoint(), 'EFORBIDDEN', 403);
    const evil = altered((url, init) => [url, { ...init, headers: { ...init.headers, Origin: 'http://evil.example' } }]);
    const e = await rejection(Valori.connect(srv.url, { collection: 'errs', token: srv.write, fetch: evil }));
    expect([e.code, e.status]).toEqual(['EORIGIN', 403]);
    const h = await rejection(Valori.connect(srv.url, { collection: 'errs', token: srv.write, fetch: fetchWithHost('attacker.example') }));
    expect([h.code, h.status]).toEqual(['EHOST', 403]);
    // the same fetch with this server's own name is fine (the test's fetch is not what refused)
    const ok = await Valori.connect(srv.url, { collection: 'errs', token: srv.write, fetch: fetchWithHost(`127.0.0.1:${srv.port}`) });
    expect((await ok.get(1)).tag).toBe(1n);
    await ok.close();
    // the client's own read-only connection refuses before sending (the embedded EREADONLY)
    const mine = await Valori.connect(srv.url, { collection: 'errs', token: srv.write, readOnly: true });
    const r = await rejection(mine.insert(f32(1, 2, 3)));
    expect([r.code, r.status, r.errno]).toEqual(['EREADONLY', undefined, C.codes.EREADONLY]);
    await mine.close();
  });

  it('404: ENOTFOUND for unknown ids, ENOCOLLECTION for a collection deleted under a client, ENOROUTE for a wrong URL', async () => {
    await refused(db.delete(99), 'ENOTFOUND', 404);
    await refused(db.createEdge(1, 77), 'ENOTFOUND', 404);
    expect(await db.get(99)).toBeNull(); // reads of a missing record or node answer null, as embedded
    expect(await db.getNode(99)).toBeNull();
    const gone = await Valori.connect(srv.url, { collection: 'gone', token: srv.write, dim: 2 });
    await gone.deleteCollection('gone');
    const e = await rejection(gone.insert(f32(1, 2)));
    expect([e.code, e.status, e.errno]).toEqual(['ENOCOLLECTION', 404, await serverNumber(srv.url, 'ENOCOLLECTION')]);
    await gone.close();
    const n = await rejection(Valori.connect(srv.url, { collection: 'never', token: srv.write, create: false }));
    expect([n.code, n.status]).toEqual(['ENOCOLLECTION', 404]);
    const r = await rejection(Valori.connect(`${srv.url}/no/such/prefix`, { collection: 'errs', token: srv.write }));
    expect([r.code, r.status]).toEqual(['ENOROUTE', 404]);
  });

  it('405 EMETHOD and 415 EMEDIA from requests altered on their way', async () => {
    const put = altered((url, init) => [url, { ...init, method: init.method === 'DELETE' ? 'PUT' : init.method }]);
    const a = await Valori.connect(srv.url, { collection: 'errs', token: srv.write, fetch: put });
    await refused(a.delete(1), 'EMETHOD', 405);
    await a.close();
    const text = altered((url, init) => [url, init.body ? { ...init, headers: { ...init.headers, 'Content-Type': 'text/plain' } } : init]);
    const b = await Valori.connect(srv.url, { collection: 'errs', token: srv.write, fetch: text });
    await refused(b.insert(f32(1, 2, 3)), 'EMEDIA', 415);
    await b.close();
  });

  it('409: EEXIST (a linked record, an existing collection); ECONFIG for options that do not match the collection', async () => {
    await refused(db.createNode({ record: 1 }), 'EEXIST', 409);
    const e = await rejection(db.createCollection('errs', { dim: 3 }));
    expect([e.code, e.status]).toEqual(['EEXIST', 409]);
    for (const opts of [{ dim: 4 }, { dim: 3, metric: 'ip' }, { dim: 3, index: 'none' }, { dim: 3, hnsw: { m: 8 } }]) {
      const c = await rejection(Valori.connect(srv.url, { collection: 'errs', token: srv.write, ...opts }));
      expect([c.code, c.errno]).toEqual(['ECONFIG', C.codes.ECONFIG]);
    }
    // the defaults C fills in count as asked for: m 16 is what the collection has
    const same = await Valori.connect(srv.url, { collection: 'errs', token: srv.write, dim: 3, hnsw: { m: 16 } });
    await same.close();
  });

  it('500 ECORRUPT from check() when the collection\'s log is damaged, with the file, offset and height', async () => {
    const bad = await Valori.connect(srv.url, { collection: 'rot', token: srv.write, dim: 4, index: 'none' });
    for (let i = 0; i < 20; i++) await bad.insert(f32(i, 1, 2, 3), { meta: `record ${i}` });
    await bad.check();
    const dir = path.join(srv.data, 'rot');
    const seg = fs.readdirSync(dir).find((f) => f.endsWith('.vlog'));
    const file = path.join(dir, seg);
    const bytes = fs.readFileSync(file);
    const at = Math.floor(bytes.length / 3);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([bytes[at] ^ 0x5a]), 0, 1, at);
    fs.closeSync(fd);
    const e = await rejection(bad.check());
    expect([e.code, e.status, e.errno]).toEqual(['ECORRUPT', 500, C.codes.ECORRUPT]);
    expect(e.details.file).toBe(seg);
    expect(e.details.offset).toBeGreaterThan(0);
    expect(e.message).toContain(seg);
    await bad.close();
  });
});

describe('servers in particular states', () => {
  it('409 ELOCKED when another process holds the collection\'s store', async () => {
    const data = tmpDir('jslocked');
    const srv = await startValori({ data });
    const db = await Valori.connect(srv.url, { collection: 'held', token: srv.write, dim: 2 });
    await db.insert(f32(1, 2));
    await db.close();
    expect((await srv.stop()).code).toBe(0);
    // an embedded writer (this process) holds the store's lock while the server restarts on it
    const holder = await Valori.open({ path: path.join(data, 'held') });
    const again = await startValori({ data });
    try {
      const e = await rejection(Valori.connect(again.url, { collection: 'held', token: again.write }));
      expect([e.code, e.status, e.errno]).toEqual(['ELOCKED', 409, C.codes.ELOCKED]);
      await holder.close();
      const ok = await Valori.connect(again.url, { collection: 'held', token: again.write });
      expect((await ok.get(1)).vector).toEqual(f32(1, 2));
      await ok.close();
    } finally {
      await again.stop();
      fs.rmSync(data, { recursive: true, force: true });
    }
  });

  it('413 ETOOLARGE for a body above --max-body, JSON and binary', async () => {
    const srv = await startValori({ args: ['--max-body', '4096'] });
    try {
      const db = await Valori.connect(srv.url, { collection: 'big', token: srv.write, dim: 8 });
      const e1 = await rejection(db.insertBatch(new Float32Array(8 * 200))); // 6,424 bytes of binary ingest
      expect([e1.code, e1.status, e1.errno]).toEqual(['ETOOLARGE', 413, await serverNumber(srv.url, 'ETOOLARGE')]);
      const e2 = await rejection(db.insert(new Float32Array(8), { meta: new Uint8Array(6000) }));
      expect([e2.code, e2.status]).toEqual(['ETOOLARGE', 413]);
      expect((await db.stats()).height).toBe(0);
      expect(await db.insertBatch(new Float32Array(8 * 10))).toHaveLength(10);
      await db.close();
    } finally {
      await srv.stop();
    }
  });

  it('429 ETOOMANY when the server has no connection left', async () => {
    const srv = await startValori({ tokens: false, args: ['--max-connections', '1'] });
    const hog = net.connect(srv.port, '127.0.0.1');
    await new Promise((r) => hog.on('connect', r));
    try {
      const e = await rejection(Valori.connect(srv.url, { collection: 'c', dim: 2 }));
      expect([e.code, e.status]).toEqual(['ETOOMANY', 429]);
    } finally {
      hog.destroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    const db = await Valori.connect(srv.url, { collection: 'c', dim: 2 }); // service again
    await db.close();
    await srv.stop();
  });

  it('503 EUNAVAILABLE when every open-collection slot is busy (--max-open 1, a long verify)', async () => {
    const srv = await startValori({ tokens: false, args: ['--max-open', '1'] });
    try {
      const a = await Valori.connect(srv.url, { collection: 'a', dim: 16, hnsw: { efConstruction: 40 } });
      for (let b = 0; b < 10; b++) {
        const v = new Float32Array(16 * 1000);
        for (let i = 0; i < v.length; i++) v[i] = ((i * 7919 + b * 13) % 1000) / 10 - 50;
        await a.insertBatch(v);
      }
      const b = await Valori.connect(srv.url, { collection: 'b', dim: 2 });
      let e = null;
      for (let attempt = 0; attempt < 5 && !e; attempt++) { // a.check() replays 10,000 HNSW inserts
        let done = false;
        const verify = a.check().finally(() => { done = true; });
        // ask for b for as long as a's verify runs (no fixed delay: a faster build or a busy machine
        // moves the window); each refusal comes back at once
        for (let k = 0; k < 10_000 && !done && !e; k++) e = await b.stats().then(() => null, (x) => x);
        await verify.catch(() => undefined);
      }
      expect(e).toBeInstanceOf(ValoriError);
      expect([e.code, e.status, e.errno]).toEqual(['EUNAVAILABLE', 503, await serverNumber(srv.url, 'EUNAVAILABLE')]);
      expect((await b.stats()).records).toBe(0); // and once a's verify is done, b opens
      await a.close();
      await b.close();
    } finally {
      await srv.stop();
    }
  }, 120_000);

  it('507 ENOSPC when the disk fills up, with nothing of the failed batch stored', async () => {
    expect(process.getuid(), 'this test mounts a tmpfs and needs root').toBe(0);
    const dir = tmpDir('jsfull');
    const mnt = path.join(dir, 'mnt');
    fs.mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    let srv = null;
    try {
      srv = await startValori({ tokens: false, data: path.join(mnt, 'db'), args: ['--snapshot-every', '0'] });
      const db = await Valori.connect(srv.url, { collection: 'full', dim: 256 });
      const acked = [];
      let e = null;
      for (let b = 0; b < 100 && !e; b++) {
        const v = new Float32Array(256 * 50).fill((b % 200) - 100);
        try {
          acked.push(await db.insertBatch(v, { tags: new Array(50).fill(b) }));
        } catch (x) {
          e = x;
        }
      }
      expect(e).toBeInstanceOf(ValoriError);
      expect([e.code, e.status, e.errno]).toEqual(['ENOSPC', 507, C.codes.ENOSPC]);
      expect(acked.length).toBeGreaterThan(3);
      const next = acked.at(-1).at(-1) + 1n;
      for (let i = 0; i < 5; i++) { // the collection reopens from its log: 503 EPOISONED meanwhile, or the record's absence
        const g = await db.get(next).then((r) => r, (x) => x);
        if (g instanceof ValoriError) expect([g.code, g.status]).toEqual(['EPOISONED', 503]);
        else { expect(g).toBeNull(); break; }
      }
      expect((await db.get(acked.at(-1).at(-1))).tag).toBe(BigInt(acked.length - 1));
      await db.close();
    } finally {
      if (srv) await srv.stop();
      spawnSync('umount', [mnt]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what is not the server\'s answer', () => {
  it('ECONNECT when nothing listens, when the server is gone, and when no answer comes in timeoutMs', async () => {
    const srv = await startValori({ tokens: false });
    const db = await Valori.connect(srv.url, { collection: 'c', dim: 2 });
    await db.insert(f32(1, 1));
    await srv.stop('SIGKILL');
    const w = await rejection(db.insert(f32(2, 2)));
    expect([w.code, w.errno, w.status]).toEqual(['ECONNECT', 201, undefined]);
    const r = await rejection(db.get(1));
    expect(r.code).toBe('ECONNECT');
    await db.close();
    const n = await rejection(Valori.connect(srv.url, { collection: 'c' })); // the port is closed now
    expect(n.code).toBe('ECONNECT');
    const silent = net.createServer(() => { /* accepts, never answers */ });
    await new Promise((res) => silent.listen(0, '127.0.0.1', res));
    try {
      const t0 = Date.now();
      const t = await rejection(Valori.connect(`http://127.0.0.1:${silent.address().port}`, { collection: 'c', timeoutMs: 300 }));
      expect(t.code).toBe('ECONNECT');
      expect(t.message).toMatch(/no answer .* within 300 ms/);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      silent.close();
    }
  });

  it('EPROTOCOL for an answer that is not Valori\'s: an HTML error page, a 200 that is not JSON', async () => {
    const fake = http.createServer((req, res) => {
      if (req.url.startsWith('/html')) { res.writeHead(502, { 'Content-Type': 'text/html' }); res.end('<html><body>Bad Gateway</body></html>'); return; }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('not json');
    });
    await new Promise((res) => fake.listen(0, '127.0.0.1', res));
    try {
      const base = `http://127.0.0.1:${fake.address().port}`;
      const e1 = await rejection(Valori.connect(`${base}/html`, { collection: 'c' }));
      expect([e1.code, e1.errno]).toEqual(['EPROTOCOL', 202]);
      expect(e1.message).toContain('HTTP 502');
      expect(e1.message).toContain('Bad Gateway');
      const e2 = await rejection(Valori.connect(base, { collection: 'c' }));
      expect(e2.code).toBe('EPROTOCOL');
    } finally {
      fake.close();
    }
  });
});
