// Helpers for the server tests (tests/server/*.test.js): start a real `valori serve` on 127.0.0.1
// port 0 (binary from VALORI_SERVER_BIN, default build/native/valori), speak HTTP to it (node:http,
// and raw sockets for malformed or slow requests), stop it with a signal or kill -9.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.resolve(ROOT, process.env.VALORI_SERVER_BIN || 'build/native/valori');

export function tmpDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `valori-server-${tag}-`));
}

export function haveBinary() {
  if (!fs.existsSync(BIN)) throw new Error(`no server binary at ${BIN}: build it (cmake --build build) or set VALORI_SERVER_BIN`);
  return true;
}

/** Starts `valori serve ARGS` and resolves once it printed `ready` (or rejects with its output). */
export function startServer(args = [], { env = {}, timeoutMs = 60_000, waitReady = true, noListen = false } = {}) {
  return startValori(['serve', ...(noListen ? [] : ['--listen', '127.0.0.1:0']), ...args], { env, timeoutMs, waitReady });
}

/** Starts `valori ARGV` (serve, or follow: docs/REPLICATION.md) and resolves like startServer. */
export function startValori(argv, { env = {}, timeoutMs = 60_000, waitReady = true } = {}) {
  haveBinary();
  const child = spawn(BIN, argv, {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const srv = { child, out: '', err: '', url: null, port: 0, exited: null };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { srv.err += d; });
  srv.exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => { srv.exited = { code, signal }; resolve(srv.exited); }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start in ${timeoutMs} ms:\n${srv.out}\n${srv.err}`)); }, timeoutMs);
    child.stdout.on('data', (d) => {
      srv.out += d;
      if (!srv.url) {
        const m = /^valori listening on (http:\/\/127\.0\.0\.1:(\d+))\n/.exec(srv.out);
        if (m) { srv.url = m[1]; srv.port = Number(m[2]); }
      }
      if (srv.url && (!waitReady || /\nready: /.test(srv.out))) { clearTimeout(timer); resolve(srv); }
    });
    srv.exitPromise.then((x) => { clearTimeout(timer); if (!srv.url || waitReady) reject(new Error(`server exited (${JSON.stringify(x)}):\n${srv.out}\n${srv.err}`)); });
  });
}

/** SIGTERM (default) and wait for the exit; returns {code, signal}. */
export async function stopServer(srv, signal = 'SIGTERM', timeoutMs = 30_000) {
  if (srv.exited) return srv.exited;
  srv.child.kill(signal);
  const t = setTimeout(() => srv.child.kill('SIGKILL'), timeoutMs);
  const x = await srv.exitPromise;
  clearTimeout(t);
  return x;
}

/** Runs `valori ARGS` to completion. */
export function runValori(args) {
  haveBinary();
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * One HTTP request. headers: object (Host defaults to 127.0.0.1:PORT). body: string, Buffer or
 * object (sent as JSON with Content-Type application/json unless given). Resolves
 * {status, reason, headers, body (Buffer), text, json}.
 */
export function request(srv, method, p, { headers = {}, body, token, timeoutMs = 60_000 } = {}) {
  const h = { ...headers };
  let data = body;
  if (data !== undefined && !Buffer.isBuffer(data) && typeof data !== 'string') {
    data = JSON.stringify(data);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
  }
  if (token) h.Authorization = `Bearer ${token}`;
  if (!Object.keys(h).some((k) => k.toLowerCase() === 'host')) h.Host = `127.0.0.1:${srv.port}`;
  if (data !== undefined) h['Content-Length'] = Buffer.byteLength(data);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, method, path: p, headers: h, setHost: false, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, reason: res.statusMessage, headers: res.headers, body: buf, text, json });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${p}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** Raw bytes on a fresh socket; resolves everything the server sent until it closed (or timeout). */
export function rawRequest(srv, bytes, { timeoutMs = 10_000, keepOpenMs = 0 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = (why) => { if (done) return; done = true; clearTimeout(t); s.destroy(); resolve({ data: Buffer.concat(chunks).toString('latin1'), why }); };
    const t = setTimeout(() => finish('timeout'), timeoutMs);
    s.on('data', (c) => chunks.push(c));
    s.on('end', () => finish('end'));
    s.on('close', () => finish('close'));
    s.on('error', () => finish('error'));
    s.on('connect', () => { s.write(bytes); if (keepOpenMs) setTimeout(() => {}, keepOpenMs); });
  });
}

/** Parses the status code of a raw response. */
export function rawStatus(data) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
  return m ? Number(m[1]) : 0;
}

export function rawJson(data) {
  const i = data.indexOf('\r\n\r\n');
  try { return JSON.parse(data.slice(i + 4)); } catch { return undefined; }
}

/** The binary ingest body of docs/HTTP.md section 7. */
export function vectorsBody(vectors, dim, tags) {
  const n = vectors.length / dim;
  const buf = Buffer.alloc(24 + vectors.length * 4 + (tags ? n * 8 : 0));
  buf.write('VLVB', 0, 'latin1');
  buf.writeUInt32LE(1, 4); buf.writeUInt32LE(n, 8); buf.writeUInt32LE(dim, 12); buf.writeUInt32LE(tags ? 1 : 0, 16);
  for (let i = 0; i < vectors.length; i++) buf.writeFloatLE(vectors[i], 24 + 4 * i);
  if (tags) for (let i = 0; i < n; i++) buf.writeBigUInt64LE(BigInt(tags[i]), 24 + vectors.length * 4 + 8 * i);
  return buf;
}

export const JSON_CT = { 'Content-Type': 'application/json' };
