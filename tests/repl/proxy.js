// tests/repl/proxy.js: the replication test proxy (docs/REPLICATION.md section 13). It sits between
// a follower and a leader on 127.0.0.1, forwards every HTTP request, and decodes the frames of
// replication stream and long-poll answers so that it can break them on command:
//
//   {kind: 'cut', frame: 'record' | 'heartbeat', nth: 1, bytes: 20}
//        forward `bytes` bytes (default: half) of the nth RECORD / HEARTBEAT frame seen after the
//        fault was set, then cut both connections (a connection lost mid-frame)
//   {kind: 'flip-event', height: H, chain: false}   flip one bit of record H's event; the record CRC
//   {kind: 'flip-root', height: H, chain: true}      and the frame CRC are recomputed, and with
//        chain: true the chain too, so the follower sees a well-formed record of another history
//   {kind: 'swap-events', height: H}   exchange the events of records H and H+1 (heights, roots and
//        chains kept; CRCs recomputed)
//   {kind: 'reorder', height: H}       send record H+1 before record H (frames intact)
//   {kind: 'hold'}                     stop forwarding stream bytes (the connection stays open)
//
// A fault fires once (repeat: true: every time it matches), then the proxy passes everything again.
// Module use (Node):  const p = new ReplProxy({ upstream: 'http://127.0.0.1:PORT' }); await p.start();
//   p.url; p.setFault({...}); p.clearFault(); p.setUpstream(url); p.stats; await p.close();
// Command (for browser tests and by hand):  node tests/repl/proxy.js --upstream http://127.0.0.1:PORT
//   [--port N] prints `proxy listening on http://127.0.0.1:PORT`; `POST /__proxy` with JSON
//   {"fault": {...} | null, "upstream": "..."} changes it, `GET /__proxy` returns its stats.
import crypto from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { crc32c } from '../../examples/demo/record.js';

// CRC-32C (Castagnoli): the one the demo page uses to build its records (examples/demo/record.js)
export { crc32c };

export const FRAME = { HELLO: 1, RECORD: 2, HEARTBEAT: 3, ERROR: 4 };

/** Frames a payload: header, payload, CRC-32C. */
export function frame(type, payload) {
  const h = Buffer.alloc(8);
  h[0] = type; h[1] = 1; h.writeUInt32LE(payload.length, 4);
  const t = Buffer.alloc(4);
  t.writeUInt32LE(crc32c(h, payload), 0);
  return Buffer.concat([h, payload, t]);
}

/** Parses whole frames from buf: {frames: [{type, payload, bytes}], rest}. Throws on a bad CRC. */
export function parseFrames(buf) {
  const frames = [];
  let off = 0;
  while (buf.length - off >= 8) {
    const len = buf.readUInt32LE(off + 4);
    if (buf.length - off < 12 + len) break;
    const bytes = buf.subarray(off, off + 12 + len);
    if (crc32c(bytes.subarray(0, 8 + len)) !== bytes.readUInt32LE(8 + len)) throw new Error('bad frame CRC');
    frames.push({ type: bytes[0], payload: bytes.subarray(8, 8 + len), bytes });
    off += 12 + len;
  }
  return { frames, rest: buf.subarray(off) };
}

/** A record's fields (docs/FORMAT.md "Record"). */
export function recordFields(r) {
  return { len: r.readUInt32LE(0), height: r.readBigUInt64LE(8), root: r.subarray(24, 56), chain: r.subarray(56, 88), event: r.subarray(88) };
}

/** Rebuilds a record from fields, recomputing its CRC (and its chain from prevChain when given). */
export function buildRecord(rec, { root, event, prevChain }) {
  const r = Buffer.concat([rec.subarray(0, 88), event ?? rec.subarray(88)]);
  r.writeUInt32LE(r.length - 88, 0);
  if (root) root.copy(r, 24);
  if (prevChain) {
    const hb = Buffer.alloc(8);
    hb.writeBigUInt64LE(r.readBigUInt64LE(8));
    crypto.createHash('sha256').update(prevChain).update(hb).update(r.subarray(24, 56)).update(r.subarray(88)).digest().copy(r, 56);
  }
  r.writeUInt32LE(crc32c(r.subarray(0, 4), r.subarray(8)), 4);
  return r;
}

export class ReplProxy {
  constructor({ upstream, port = 0 } = {}) {
    this.upstream = new URL(upstream);
    this.port = port;
    this.fault = null;
    this.stats = { requests: 0, streams: 0, records: 0, heartbeats: 0, faults: 0, cuts: 0 };
    this.live = new Set();
  }

  setUpstream(url) { this.upstream = new URL(url); }
  setFault(f) { this.fault = f ? { ...f, seen: 0 } : null; }
  clearFault() { this.fault = null; }

  start() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    return new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', () => {
      this.port = this.server.address().port;
      this.url = `http://127.0.0.1:${this.port}`;
      resolve(this);
    }));
  }

  /** Cuts every connection in flight (the leader as seen from the follower just vanished). */
  cutAll() {
    for (const s of this.live) s.destroy();
    this.live.clear();
  }

  close() {
    this.cutAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  handle(req, res) {
    if (req.url.startsWith('/__proxy')) return this.control(req, res);
    this.stats.requests++;
    const framed = /\/replication\/(stream|log)\?/.test(req.url);
    const up = http.request({ host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url,
      headers: { ...req.headers, host: this.upstream.host }, agent: false }, (ur) => {
      res.writeHead(ur.statusCode, ur.statusMessage, ur.headers);
      if (!framed || ur.statusCode !== 200) { ur.pipe(res); return; }
      this.stats.streams++;
      this.transform(req, ur, res, up);
    });
    const done = () => { this.live.delete(req.socket); };
    this.live.add(req.socket);
    req.socket.on('close', done);
    up.on('error', () => { res.destroy(); });
    req.on('error', () => up.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  }

  control(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') {
        const j = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        if ('fault' in j) this.setFault(j.fault);
        if (j.upstream) this.setUpstream(j.upstream);
      }
      res.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*' });
      res.end(JSON.stringify({ upstream: String(this.upstream), fault: this.fault, stats: this.stats }));
    });
  }

  /** Decodes upstream frames, applies the fault, writes them on. */
  transform(req, ur, res, up) {
    const q = new URL(req.url, 'http://x').searchParams;
    let prevChain = Buffer.from(q.get('chain') || '0'.repeat(64), 'hex');
    let buf = Buffer.alloc(0);
    let held = null; // a record kept back (swap, reorder)
    const cut = (bytes) => {
      this.stats.cuts++;
      res.write(bytes);
      setImmediate(() => { res.socket?.destroy(); up.destroy(); ur.destroy(); });
    };
    const matches = (f, h) => f && BigInt(f.height) === h;
    ur.on('data', (chunk) => {
      if (res.destroyed) return;
      buf = Buffer.concat([buf, chunk]);
      let parsed;
      try { parsed = parseFrames(buf); } catch { res.destroy(); return; }
      buf = Buffer.from(parsed.rest);
      for (let i = 0; i < parsed.frames.length; i++) {
        const fr = parsed.frames[i];
        const f = this.fault;
        if (f && f.kind === 'hold') { // keep this frame and the rest, in order, until the hold is lifted
          buf = Buffer.concat([...parsed.frames.slice(i).map((x) => x.bytes), buf]);
          break;
        }
        if (fr.type === FRAME.HEARTBEAT) this.stats.heartbeats++;
        if (f && f.kind === 'cut' && ((f.frame === 'record' && fr.type === FRAME.RECORD) || (f.frame === 'heartbeat' && fr.type === FRAME.HEARTBEAT))) {
          if (++f.seen >= (f.nth || 1)) {
            this.stats.faults++;
            if (!f.repeat) this.fault = null;
            cut(fr.bytes.subarray(0, f.bytes ?? Math.floor(fr.bytes.length / 2)));
            return;
          }
        }
        if (fr.type !== FRAME.RECORD) { res.write(fr.bytes); continue; }
        this.stats.records++;
        const rec = Buffer.from(fr.payload);
        const { height, chain } = recordFields(rec);
        let out = [rec];
        if (held) { // the record after a held one
          const h = held;
          held = null;
          if (f && f.kind === 'swap-events') {
            out = [buildRecord(h, { event: recordFields(rec).event }), buildRecord(rec, { event: recordFields(h).event })];
          } else {
            out = [rec, h];
          }
          if (f && !f.repeat) this.fault = null;
          this.stats.faults++;
        } else if (f && (f.kind === 'swap-events' || f.kind === 'reorder') && matches(f, height)) {
          held = rec;
          prevChain = Buffer.from(chain);
          continue;
        } else if (f && (f.kind === 'flip-event' || f.kind === 'flip-root') && matches(f, height)) {
          const fl = recordFields(rec);
          if (f.kind === 'flip-event') {
            const ev = Buffer.from(fl.event);
            ev[f.byte ?? ev.length - 1] ^= 1;
            out = [buildRecord(rec, { event: ev, prevChain: f.chain ? prevChain : null })];
          } else {
            const root = Buffer.from(fl.root);
            root[3] ^= 0x80;
            out = [buildRecord(rec, { root, prevChain: f.chain ? prevChain : null })];
          }
          this.stats.faults++;
          if (!f.repeat) this.fault = null;
        }
        prevChain = Buffer.from(chain);
        for (const r of out) res.write(frame(FRAME.RECORD, r));
      }
    });
    ur.on('end', () => { if (!res.destroyed) res.end(); });
    ur.on('error', () => res.destroy());
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  if (!arg('--upstream')) {
    console.error('usage: node tests/repl/proxy.js --upstream http://127.0.0.1:PORT [--port N]');
    process.exit(2);
  }
  const p = new ReplProxy({ upstream: arg('--upstream'), port: Number(arg('--port') || 0) });
  p.start().then(() => console.log(`proxy listening on ${p.url}`));
}
