// http.js: the HTTP transport of the remote face (remote.js; the follower will use it too). One
// request at a time over `fetch` only (no Node module: it runs unchanged in Node >= 20, browsers and
// workers), with a timeout, the bearer token, and one rule for what comes back (docs/HTTP.md,
// sections 2 and 3):
//   - 2xx: the JSON body (or the raw bytes for binary answers); a body that is not what HTTP.md
//     says is EPROTOCOL;
//   - any other status with HTTP.md's error shape {"error": {"code", "message"}}: a ValoriError
//     with that code and message, `.status` the HTTP status; its `.errno` is the package's own
//     number for the core's codes (valori_constants_json, so the same code has the same number as
//     in the embedded database), the server's number for the server's codes (EJSON, EAUTH...,
//     from GET /v1/constants when the server has that endpoint, else -1);
//   - anything else (no answer, a lost connection, a timeout, a proxy's HTML page) has the client's
//     own codes, ECONNECT and EPROTOCOL (the Python SDK's names and numbers: python/README.md).
import { ValoriError } from './errors.js';

/** The client's own codes: not C's, not the server's (the Python SDK uses the same ones). */
export const CLIENT_CODES = Object.freeze({ ECONNECT: 201, EPROTOCOL: 202 });

export const JSON_TYPE = 'application/json';
export const VECTORS_TYPE = 'application/vnd.valori.vectors';
export const EVENT_TYPE = 'application/vnd.valori.event';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Standard base64 with padding (RFC 4648 section 4) of bytes; atob/btoa exist in every host. */
export function b64encode(u8) {
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
}

export function b64decode(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Parses a server URL: http(s)://host[:port][/prefix], with an optional trailing
 * /v1/collections/NAME naming the collection. Returns { base, collection } (collection null when
 * the URL names none), or null when it is not such a URL.
 */
export function parseServerUrl(url) {
  let u;
  try {
    u = new URL(String(url));
  } catch {
    return null;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash || u.username || u.password) return null;
  let p = u.pathname.replace(/\/+$/, '');
  let collection = null;
  const m = /^(.*)\/v1\/collections\/([^/]+)$/.exec(p);
  if (m) {
    p = m[1];
    collection = decodeURIComponent(m[2]);
  } else if (/\/v1(\/|$)/.test(p)) {
    return null; // a /v1 path that names no collection
  }
  return { base: `${u.origin}${p}`, collection };
}

/** Reads a response's body chunk by chunk, calling onProgress(bytesSoFar, Content-Length or null). */
async function readWithProgress(res, onProgress) {
  const len = Number(res.headers.get('content-length'));
  const total = Number.isSafeInteger(len) && len >= 0 ? len : null;
  // With a Content-Length the body is read into one buffer of that size (no second copy of a large
  // snapshot); without one, or past it, the parts are joined at the end.
  let out = total !== null ? new Uint8Array(total) : null;
  const parts = [];
  let n = 0;
  const reader = res.body.getReader();
  onProgress(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out && n + value.length <= out.length) out.set(value, n);
    else {
      if (out) { parts.push(out.subarray(0, n)); out = null; }
      parts.push(value);
    }
    n += value.length;
    onProgress(n, total);
  }
  if (out) return n === out.length ? out : out.subarray(0, n);
  const joined = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { joined.set(p, o); o += p.length; }
  return joined;
}

export class Transport {
  /**
   * @param {object} core the loaded core (errors' numbers and messages)
   * @param {string} base server URL without a trailing slash
   * @param {{token?: string, fetch?: Function, timeoutMs?: number, maxInFlight: number}} o
   */
  constructor(core, base, o) {
    this.core = core;
    this.base = base;
    this.token = o.token;
    this.fetch = o.fetch;
    this.timeoutMs = o.timeoutMs;
    this.serverCodes = null; // name -> number, from GET /v1/constants (loaded at the first server code)
    // At most maxInFlight requests at once (a server bounds its connections: --max-connections);
    // the others wait here, in order.
    this.maxInFlight = o.maxInFlight;
    this.inFlight = 0;
    this.waiting = [];
  }

  async slot() {
    if (this.inFlight < this.maxInFlight) { this.inFlight++; return; }
    await new Promise((resolve) => this.waiting.push(resolve)); // the slot is handed over by release()
  }

  release() {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  /** errno for a code name: the core's from the package, the client's, or the server's. */
  async errnoOf(code) {
    const core = this.core.C.codes[code];
    if (core !== undefined) return core;
    if (CLIENT_CODES[code] !== undefined) return CLIENT_CODES[code];
    if (!this.serverCodes) this.serverCodes = await this.loadServerCodes();
    return this.serverCodes.get(code) ?? -1;
  }

  /** The server's own codes and numbers (GET /v1/constants, no token needed); an empty map without it. */
  async loadServerCodes() {
    const codes = new Map();
    try {
      const r = await this.raw('GET', '/v1/constants', {}, false);
      if (r.res.ok) {
        const j = JSON.parse(decoder.decode(r.bytes));
        if (j && j.server_codes && typeof j.server_codes == 'object') {
          for (const [k, v] of Object.entries(j.server_codes)) if (Number.isInteger(v)) codes.set(k, v);
        }
      }
    } catch { /* a server without the endpoint: server codes keep their names, errno -1 */ }
    return codes;
  }

  clientError(code, message, cause) {
    return new ValoriError(code, CLIENT_CODES[code], message, cause ? { cause } : undefined);
  }

  /** One fetch with the timeout; resolves { res, bytes } with the whole body read. */
  async raw(method, path, { query, body, contentType, onProgress } = {}, auth = true) {
    let url = this.base + path;
    if (query) {
      const q = Object.entries(query).filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
      if (q.length) url += `?${q.join('&')}`;
    }
    const headers = { Accept: 'application/json' };
    if (auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = contentType;
    // No `cache: 'no-store'` (the server says Cache-Control: no-store itself): in Chromium that mode
    // also bypasses the CORS preflight cache, so every cross-origin call would cost two requests.
    await this.slot();
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.timeoutMs);
    try {
      const res = await this.fetch(url, { method, headers, body, signal: ctl.signal, redirect: 'error' });
      const bytes = onProgress && res.body ? await readWithProgress(res, onProgress) : new Uint8Array(await res.arrayBuffer());
      return { res, bytes };
    } finally {
      clearTimeout(timer);
      this.release();
    }
  }

  /**
   * Sends a request; resolves { status, headers, json } (JSON answers) or { status, headers, bytes }
   * (binary: `binary: true`). Rejects with ValoriError (the server's code, ECONNECT or EPROTOCOL).
   * `write` says whether a lost answer may mean an applied write (the message says so); reads that
   * failed on a connection the server had closed are sent once more.
   */
  async request(method, path, { query, json, body, contentType, binary = false, write = false, onProgress } = {}) {
    if (json !== undefined) {
      body = JSON.stringify(json);
      contentType = JSON_TYPE;
    }
    const what = `${method} ${path}`;
    let r;
    for (let attempt = 0; ; attempt++) {
      try {
        r = await this.raw(method, path, { query, body, contentType, onProgress });
        break;
      } catch (e) {
        if (e && e.name === 'AbortError') {
          throw this.clientError('ECONNECT', `${what}: no answer from ${this.base} within ${this.timeoutMs} ms` +
            (write ? '; the write may or may not have been applied' : ''), e);
        }
        const cause = e && e.cause ? e.cause : e;
        const detail = (cause && (cause.code || cause.message)) || String(e);
        const refused = cause && cause.code === 'ECONNREFUSED';
        if (!write && !refused && attempt === 0) continue; // a kept-alive connection the server closed: once more
        throw this.clientError('ECONNECT', `${what}: cannot reach ${this.base} (${detail})` +
          (write && !refused ? '; the write may or may not have been applied' : ''), e);
      }
    }
    const { res, bytes } = r;
    if (res.status >= 200 && res.status < 300) {
      if (binary) return { status: res.status, headers: res.headers, bytes };
      let j;
      try {
        j = JSON.parse(decoder.decode(bytes));
      } catch (e) {
        throw this.clientError('EPROTOCOL', `${what}: HTTP ${res.status} with a body that is not JSON`, e);
      }
      if (!j || typeof j != 'object' || j.error !== undefined) {
        throw this.clientError('EPROTOCOL', `${what}: HTTP ${res.status} with an unexpected body`);
      }
      return { status: res.status, headers: res.headers, json: j };
    }
    let j;
    try {
      j = JSON.parse(decoder.decode(bytes));
    } catch { j = null; }
    const e = j && j.error;
    if (!e || typeof e.code != 'string' || typeof e.message != 'string') {
      let snippet = '';
      try { snippet = new TextDecoder().decode(bytes.subarray(0, 120)).replace(/\s+/g, ' ').trim(); } catch { /* binary */ }
      throw this.clientError('EPROTOCOL', `${what}: HTTP ${res.status} without a Valori error body${snippet ? `: ${snippet}` : ''}`);
    }
    let message = e.message;
    if (typeof e.file == 'string' && e.file) message += ` (file ${e.file}, offset ${e.offset}, height ${e.height})`;
    const err = new ValoriError(e.code, await this.errnoOf(e.code), message);
    err.status = res.status;
    if (typeof e.file == 'string' && e.file) err.details = { file: e.file, offset: e.offset, height: e.height };
    if (typeof e.leader == 'string') err.leader = e.leader;
    throw err;
  }
}
