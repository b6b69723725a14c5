// RELIABILITY.md server-abuse scenarios 14 (loopback by default, no open bind without tokens, 401
// for missing or wrong tokens), 15 (413 before buffering, 400 for malformed input and over-limit
// values, bad Host refused) and 16 (slow clients cut by timeouts while normal requests keep their
// latency), plus the connection limit, CORS, static files, the access log, /metrics checked by
// Prometheus' own parser, and a clean shutdown that writes every store's clean close.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, haveBinary, rawRequest, rawStatus, request, runValori, startServer, stopServer, tmpDir } from './helpers.js';

const W = 'write-token-abcdefghijkl';
const R = 'read-token-abcdefghijklm';
const dir = tmpDir('abuse');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('scenario 14: binding and tokens', () => {
  it('listens on 127.0.0.1 by default (VALORI_HTTP_PORT=0 picks the port)', async () => {
    haveBinary();
    const srv = await startServer([], { env: { VALORI_HTTP_PORT: '0', VALORI_DATA: path.join(dir, 'default') }, noListen: true });
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await stopServer(srv)).code).toBe(0);
  });

  it('refuses a non-loopback address without a token file, and bad token files', () => {
    for (const addr of ['0.0.0.0:0', '[::]:0']) {
      const r = spawnSync(BIN, ['serve', '--listen', addr, '--data', path.join(dir, 'never')], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('refusing to listen on');
      expect(r.stderr).toContain('without --token-file');
      expect(r.stdout).toBe('');
    }
    const envr = spawnSync(BIN, ['serve', '--data', path.join(dir, 'never')], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, VALORI_LISTEN: '0.0.0.0:0' } });
    expect(envr.status).toBe(2);
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
    const bad = path.join(dir, 'bad-tokens');
    for (const text of ['write short\n', 'admin abcdefghijklmnopqrstu\n', 'write abcdefghijklmnop extra\n', '# only a comment\n', 'read abcdefghijklmnop"q\n']) {
      fs.writeFileSync(bad, text);
      const r = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--token-file', bad, '--data', path.join(dir, 'never')], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status, text).toBe(2);
      expect(r.stderr).toMatch(/error: .*(line 1|no token)/);
    }
    for (const args of [['--max-k', '10001'], ['--threads', 'x'], ['--frobnicate', '1'], ['--listen', '127.0.0.1'], ['--listen', 'example.com:80']]) {
      const r = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: 10_000 });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
    }
    const help = spawnSync(BIN, ['serve', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    for (const f of ['--listen', '--data', '--token-file', '--max-body', '--header-timeout', 'VALORI_HTTP_PORT', 'VALORI_LISTEN']) expect(help.stdout).toContain(f);
  });
});

describe('a server with tokens, small limits and short timeouts', () => {
  let srv;
  const stat = path.join(dir, 'static');
  const log = path.join(dir, 'access.log');
  beforeAll(async () => {
    fs.writeFileSync(path.join(dir, 'tokens'), `# test tokens\nwrite ${W}\n\nread ${R}\n`);
    fs.mkdirSync(path.join(stat, 'sub'), { recursive: true });
    for (const f of ['index.html', 'a.js', 'a.mjs', 'a.wasm', 'a.css', 'a.png', 'a.json', 'a.svg', 'a.txt', 'a.bin', 'sub/b.html', '.secret']) fs.writeFileSync(path.join(stat, f), `file ${f}`);
    fs.writeFileSync(path.join(dir, 'outside.txt'), 'SECRET-OUTSIDE-CONTENT');
    fs.symlinkSync(path.join(dir, 'outside.txt'), path.join(stat, 'link.txt'));
    srv = await startServer(['--data', path.join(dir, 'db'), '--token-file', path.join(dir, 'tokens'), '--max-body', '4096',
      '--max-connections', '40', '--header-timeout', '2', '--body-timeout', '2', '--idle-timeout', '3', '--static', stat,
      '--cors-origin', 'http://app.example,http://localhost:5173', '--allow-host', 'valori.internal', '--access-log', log, '--threads', '2']);
    expect((await request(srv, 'POST', '/v1/collections', { token: W, body: { name: 'a', dim: 2 } })).status).toBe(201);
  });
  afterAll(async () => {
    if (srv) {
      const x = await stopServer(srv);
      expect(x.code).toBe(0);
      expect(srv.out).toMatch(/stopping \(signal 15\)\nstopped\n$/);
      const v = runValori(['verify', path.join(dir, 'db', 'a')]);
      expect(v.code, v.err).toBe(0);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('scenario 14: missing or wrong token 401, read token cannot write', async () => {
    const none = await request(srv, 'GET', '/v1/collections');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json.error.code).toBe('EAUTH');
    for (const t of ['wrong-token-abcdefghijkl', W + 'x', W.slice(0, -1), R.toUpperCase(), '']) {
      expect((await request(srv, 'GET', '/v1/collections', { headers: { Authorization: `Bearer ${t}` } })).status).toBe(401);
    }
    expect((await request(srv, 'GET', '/v1/collections', { headers: { Authorization: `Basic ${W}` } })).status).toBe(401);
    expect((await request(srv, 'GET', '/metrics')).status).toBe(401);
    expect((await request(srv, 'GET', '/v1/collections', { token: R })).status).toBe(200);
    const ins = await request(srv, 'POST', '/v1/collections/a/records', { token: R, body: { vector: [1, 2] } });
    expect(ins.status).toBe(403);
    expect(ins.json.error.code).toBe('EFORBIDDEN');
    expect((await request(srv, 'POST', '/v1/collections/a/records', { token: W, body: { vector: [1, 2] } })).status).toBe(201);
    expect((await request(srv, 'POST', '/v1/collections/a/search', { token: R, body: { vector: [1, 2] } })).json.hits.length).toBe(1);
    expect((await request(srv, 'POST', '/v1/collections/a/checkpoint', { token: R })).status).toBe(403);
    expect((await request(srv, 'GET', '/healthz')).status).toBe(200);
    expect((await request(srv, 'GET', '/readyz')).json).toEqual({ status: 'ready', collections: 1 });
  });

  it('scenario 15: 413 from Content-Length before any body byte; Host checks', async () => {
    const t0 = Date.now();
    const big = await rawRequest(srv, `POST /v1/collections/a/records HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nAuthorization: Bearer ${W}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n', { timeoutMs: 5000 });
    expect(rawStatus(big.data)).toBe(413);
    expect(big.data).toContain('"ETOOLARGE"');
    expect(Date.now() - t0).toBeLessThan(4000); // answered without waiting for a body that never came
    const chunked = await rawRequest(srv, `POST /v1/collections/a/records HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nAuthorization: Bearer ${W}\r\n` +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' + ('1000\r\n' + 'x'.repeat(4096) + '\r\n').repeat(3), { timeoutMs: 5000 });
    expect([0, 413]).toContain(rawStatus(chunked.data)); // answered 413 or cut, never accepted
    for (const host of ['attacker.example', `127.0.0.1:${srv.port + 1}`, `localhost.attacker.example:${srv.port}`, '127.0.0.1:abc', '[::1']) {
      const r = await request(srv, 'GET', '/v1', { token: R, headers: { Host: host } });
      expect(r.status, host).toBe(403);
      expect(r.json.error.code).toBe('EHOST');
    }
    for (const host of [`localhost:${srv.port}`, 'LOCALHOST', `valori.internal:${srv.port}`, `[::1]:${srv.port}`, '127.0.0.1']) {
      expect((await request(srv, 'GET', '/v1', { token: R, headers: { Host: host } })).status, host).toBe(200);
    }
    const st = (await request(srv, 'GET', '/v1/collections/a/state', { token: R })).json;
    const k = await request(srv, 'POST', '/v1/collections/a/search', { token: R, body: { vector: [1, 2], k: 1001 } });
    expect(k.status).toBe(400);
    expect(k.json.error.code).toBe('EK');
    const dim = await request(srv, 'POST', '/v1/collections', { token: W, body: { name: 'big', dim: 4097 } });
    expect(dim.json.error.code).toBe('EDIM'); // the core's code for a dimension above VALORI_MAX_DIM
    expect((await request(srv, 'GET', '/v1/collections/a/state', { token: R })).json).toEqual(st);
  });

  it('CORS for configured origins only; same-origin allowed; preflight', async () => {
    const ok = await request(srv, 'GET', '/v1', { token: R, headers: { Origin: 'http://localhost:5173' } });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(ok.headers.vary).toBe('Origin');
    const same = await request(srv, 'GET', '/v1', { token: R, headers: { Origin: `http://127.0.0.1:${srv.port}` } });
    expect(same.status).toBe(200);
    expect(same.headers['access-control-allow-origin']).toBeUndefined();
    for (const o of ['http://evil.example', 'http://app.example.evil', 'null', 'https://app.example']) {
      const r = await request(srv, 'POST', '/v1/collections/a/records', { token: W, headers: { Origin: o }, body: { vector: [1, 2] } });
      expect(r.status, o).toBe(403);
      expect(r.json.error.code).toBe('EORIGIN');
    }
    const pre = await request(srv, 'OPTIONS', '/v1/collections/a/records', { headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, X-Valori-Follower');
    expect(ok.headers['access-control-expose-headers']).toBe('X-Valori-Height, X-Valori-Root, X-Valori-Chain');
    expect((await request(srv, 'OPTIONS', '/v1', { headers: { Origin: 'http://evil.example' } })).status).toBe(403);
  });

  it('static files with content types, no token; traversal, hidden files and symlinks out are 404', async () => {
    const types = { 'index.html': 'text/html; charset=utf-8', 'a.js': 'text/javascript; charset=utf-8', 'a.mjs': 'text/javascript; charset=utf-8',
      'a.wasm': 'application/wasm', 'a.css': 'text/css; charset=utf-8', 'a.png': 'image/png', 'a.json': 'application/json',
      'a.svg': 'image/svg+xml', 'a.txt': 'text/plain; charset=utf-8', 'a.bin': 'application/octet-stream', 'sub/b.html': 'text/html; charset=utf-8' };
    for (const [f, t] of Object.entries(types)) {
      const r = await request(srv, 'GET', `/${f}`);
      expect(r.status, f).toBe(200);
      expect(r.headers['content-type']).toBe(t);
      expect(r.text).toBe(`file ${f}`);
    }
    expect((await request(srv, 'GET', '/')).text).toBe('file index.html');
    for (const p of ['/.secret', '/sub/../.secret', '/link.txt', '/nope.html', '/sub', '/%2e%2e/outside.txt', '/../outside.txt']) {
      const r = await request(srv, 'GET', p);
      expect(r.status, p).toBe(404);
    }
    const raw = await rawRequest(srv, `GET /../outside.txt HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: close\r\n\r\n`);
    expect(rawStatus(raw.data)).toBe(404);
    expect(raw.data).not.toContain('SECRET-OUTSIDE-CONTENT');
  });

  it('scenario 16: trickling headers and stalled bodies are cut; other requests keep their latency', async () => {
    const N = 30;
    const socks = [];
    const closedAt = [];
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const s = net.connect(srv.port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => closedAt.push(Date.now() - t0));
      socks.push(s);
    }
    // half trickle headers, one byte every 300 ms; half send complete headers and then stall the body
    const head = `GET /v1 HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nAuthorization: Bearer ${R}\r\nX-Pad: ${'p'.repeat(200)}\r\n\r\n`;
    const post = `POST /v1/collections/a/records HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nAuthorization: Bearer ${W}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"vec`;
    let pos = 0;
    const trickle = setInterval(() => { for (let i = 0; i < N / 2; i++) if (!socks[i].destroyed) socks[i].write(head[pos % head.length]); pos++; }, 300);
    for (let i = N / 2; i < N; i++) socks[i].write(post);
    const lat = [];
    try {
      for (let k = 0; k < 25; k++) {
        const a = Date.now();
        const r = await request(srv, 'POST', '/v1/collections/a/search', { token: R, body: { vector: [1, 2], k: 1 }, timeoutMs: 5000 });
        expect(r.status).toBe(200);
        lat.push(Date.now() - a);
        await sleep(200);
      }
    } finally {
      clearInterval(trickle);
    }
    const deadline = Date.now() + 8000;
    while (closedAt.length < N && Date.now() < deadline) await sleep(100);
    for (const s of socks) s.destroy();
    expect(closedAt.length).toBe(N); // every slow connection was closed by the server
    expect(Math.max(...closedAt)).toBeLessThan(9000);
    lat.sort((a, b) => a - b);
    expect(lat[Math.floor(lat.length / 2)]).toBeLessThan(500); // median with 30 slow clients attached (other test files may load the machine)
    expect((await request(srv, 'GET', '/v1/collections/a', { token: R })).json.records).toBe(1); // the stalled bodies stored nothing
  });

  it('over --max-connections: 429 ETOOMANY, then service again', async () => {
    const idle = [];
    for (let i = 0; i < 40; i++) {
      const s = net.connect(srv.port, '127.0.0.1');
      s.on('error', () => {});
      idle.push(s);
      await new Promise((r) => s.on('connect', r));
    }
    await sleep(100);
    const over = await rawRequest(srv, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`, { timeoutMs: 3000 });
    expect(rawStatus(over.data)).toBe(429);
    expect(over.data).toContain('"ETOOMANY"');
    expect(over.data).toMatch(/Retry-After: 1/i);
    for (const s of idle) s.destroy();
    await sleep(300);
    expect((await request(srv, 'GET', '/healthz')).status).toBe(200);
  });

  it('/metrics parses with the Prometheus client parser and counts what happened', async () => {
    const m = await request(srv, 'GET', '/metrics', { token: R });
    expect(m.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const py = spawnSync('/usr/bin/python3', ['-c', `
import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.setdefault(s.name, []).append([s.labels, s.value])
    out.setdefault('__types__', []).append([fam.name, fam.type])
print(json.dumps(out))
`], { input: m.text, encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const fams = JSON.parse(py.stdout);
    const types = Object.fromEntries(fams.__types__);
    for (const [n, t] of [['valori_http_requests', 'counter'], ['valori_http_request_duration_seconds', 'histogram'], ['valori_events_committed', 'counter'],
      ['valori_commit_duration_seconds', 'histogram'], ['valori_fsync_duration_seconds', 'histogram'], ['valori_collections', 'gauge'],
      ['valori_records', 'gauge'], ['valori_disk_bytes', 'gauge'], ['valori_collection_snapshot_age_events', 'gauge']]) expect(types[n], n).toBe(t);
    const val = (name, labels = {}) => (fams[name] || []).find(([l]) => Object.entries(labels).every(([k, v]) => l[k] === v))?.[1];
    expect(val('valori_http_requests_total', { route: 'GET /v1/collections', status: '401' })).toBeGreaterThanOrEqual(6);
    expect(val('valori_http_requests_total', { route: 'POST /v1/collections/{name}/records', status: '403' })).toBeGreaterThanOrEqual(1);
    expect(val('valori_http_requests_total', { route: 'unmatched', status: '403' })).toBeGreaterThanOrEqual(4); // Host and Origin refusals
    expect(val('valori_events_committed_total')).toBeGreaterThanOrEqual(1);
    expect(val('valori_fsync_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(val('valori_http_connections_rejected_total')).toBeGreaterThanOrEqual(1);
    expect(val('valori_collection_records', { collection: 'a' })).toBe(1);
    expect(val('valori_collections')).toBe(1);
    // histogram buckets are cumulative and end at the count
    const b = fams.valori_http_request_duration_seconds_bucket.filter(([l]) => l.route === 'POST /v1/collections/{name}/search');
    for (let i = 1; i < b.length; i++) expect(b[i][1]).toBeGreaterThanOrEqual(b[i - 1][1]);
    expect(b.at(-1)[0].le).toBe('+Inf');
    expect(b.at(-1)[1]).toBe(val('valori_http_request_duration_seconds_count', { route: 'POST /v1/collections/{name}/search' }));
  });

  it('access log: one line per request, no tokens', async () => {
    await request(srv, 'GET', '/v1/collections/a?x=1', { token: R });
    await sleep(100);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(50);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ [A-Z]+ \S+ \d{3} \d+ \d+\.\d{6}$/);
    expect(lines.at(-1)).toMatch(/ 127\.0\.0\.1 GET \/v1\/collections\/a 400 \d+ /);
    const text = fs.readFileSync(log, 'utf8');
    expect(text).not.toContain(W);
    expect(text).not.toContain(R);
  });
});
