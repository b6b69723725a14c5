// Helpers for the replication tests (tests/repl/*.test.js): a leader (`valori serve`) and native
// followers (`valori follow`) as real processes on 127.0.0.1, a seeded workload of every event kind
// over HTTP, waits bounded in time, and the comparison of a follower's log with its leader's,
// record for record, through valori_cursor (build/tests/repl_log_dump).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, request, startServer, startValori, stopServer as stopProcess, tmpDir } from '../server/helpers.js';

export { BIN, ROOT, request, startServer, tmpDir };

/** Stops a server (SIGTERM by default) and fails when its standard error holds a sanitizer report
** (the sanitizer build runs these tests against ASan/UBSan binaries: ctest server_http). */
export async function stopServer(srv, signal = 'SIGTERM') {
  const x = await stopProcess(srv, signal);
  if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(srv.err)) throw new Error(`sanitizer report from ${srv.child.spawnargs.join(' ')}:\n${srv.err}`);
  return x;
}
export const DUMP = path.resolve(path.dirname(BIN), '../tests/repl_log_dump');
export const ZERO = '0'.repeat(64);

/** A leader on a fresh (or given) data directory. */
export async function startLeader({ data = tmpDir('leader'), args = [], port = 0 } = {}) {
  const srv = await startValori(['serve', '--listen', `127.0.0.1:${port}`, '--data', data, '--heartbeat-ms', '200', ...args]);
  srv.data = data;
  return srv;
}

/** `valori follow URL` on a fresh (or given) data directory; resolves once it printed ready. */
export async function startFollower(url, { data = tmpDir('follower'), args = [], env = {} } = {}) {
  const srv = await startValori(['follow', url, '--listen', '127.0.0.1:0', '--data', data, '--heartbeat-ms', '200', ...args], { env });
  srv.data = data;
  return srv;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value (returned) or timeoutMs passes (throws, with what). */
export async function until(fn, what, timeoutMs = 30_000, everyMs = 50) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    try { last = await fn(); } catch (e) { last = e; }
    if (last && !(last instanceof Error)) return last;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

export async function json(srv, method, p, body, opts = {}) {
  const r = await request(srv, method, p, { body, ...opts });
  return r;
}

export async function position(srv, coll) {
  const r = await request(srv, 'GET', `/v1/collections/${coll}/replication`);
  if (r.status !== 200) throw new Error(`position ${r.status} ${r.text}`);
  return r.json;
}

export async function state(srv, coll) {
  const r = await request(srv, 'GET', `/v1/collections/${coll}/state`);
  if (r.status !== 200) throw new Error(`state ${r.status} ${r.text}`);
  return r.json;
}

/** Waits until the follower's copy of coll is at the leader's height with the leader's root. */
export async function converged(leader, follower, coll, timeoutMs = 30_000) {
  const want = await state(leader, coll);
  let seen;
  try {
    return await until(async () => {
      const r = await request(follower, 'GET', `/v1/collections/${coll}/state`);
      seen = { status: r.status, ...r.json };
      return r.status === 200 && r.json.height === want.height && r.json.root === want.root && r.json;
    }, `the follower to reach height ${want.height} of ${coll}`, timeoutMs);
  } catch (e) {
    throw new Error(`${e.message}; the follower's state: ${JSON.stringify(seen)}; its output:\n${follower.out}\n${follower.err}`);
  }
}

function rng(seed) {
  let s = BigInt(seed) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn;
  return () => {
    s = (s + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    return Number((z ^ (z >> 31n)) % 1000000n) / 1000000;
  };
}

async function ok(p, what) {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.json;
}

/** A DELETE/SET_META/UPDATE event in the binary encoding (docs/FORMAT.md "Events"). */
export function eventSetMeta(id, meta) {
  const m = Buffer.from(meta);
  const b = Buffer.alloc(8 + 12 + m.length);
  b.writeUInt16LE(5, 0); b.writeUInt32LE(12 + m.length, 4);
  b.writeBigUInt64LE(BigInt(id), 8); b.writeUInt32LE(m.length, 16); m.copy(b, 20);
  return b;
}
export function eventUpdateTag(id, tag) {
  const b = Buffer.alloc(8 + 24);
  b.writeUInt16LE(4, 0); b.writeUInt32LE(24, 4);
  b.writeBigUInt64LE(BigInt(id), 8); b.writeUInt32LE(2, 16); b.writeBigUInt64LE(BigInt(tag), 24);
  return b;
}

/**
 * A seeded workload of every event kind on collection coll (created when `create`): batch and
 * single inserts, PATCH of vector+tag+meta, delete, graph nodes (linked and not), weighted and
 * unweighted edges, edge and node deletion, a record deleted with its node, and raw SET_META and
 * UPDATE events. rounds x ~14 events. Returns the leader's state after it.
 */
export async function workload(srv, coll, { seed = 1, rounds = 3, dim = 4, create = true, batch = 8 } = {}) {
  const r = rng(seed);
  const vec = () => Array.from({ length: dim }, () => Math.round((r() * 20 - 10) * 64) / 64);
  if (create) await ok(request(srv, 'POST', '/v1/collections', { body: { name: coll, dim } }), 'create');
  const base = `/v1/collections/${coll}`;
  for (let k = 0; k < rounds; k++) {
    const b = await ok(request(srv, 'POST', `${base}/records/batch`, { body: { records: Array.from({ length: batch }, (_, i) => ({ vector: vec(), tag: String(i % 3), meta: Buffer.from(`b${k}-${i}`).toString('base64') })) } }), 'batch');
    const first = BigInt(b.first_id);
    const one = await ok(request(srv, 'POST', `${base}/records`, { body: { vector: vec(), tag: '7', meta: Buffer.from('single').toString('base64') } }), 'insert');
    await ok(request(srv, 'PATCH', `${base}/records/${first + 1n}`, { body: { vector: vec(), tag: String(k), meta: Buffer.from(`upd${k}`).toString('base64') } }), 'patch');
    await ok(request(srv, 'PATCH', `${base}/records/${first + 2n}`, { body: { meta: null } }), 'patch meta');
    const n1 = await ok(request(srv, 'POST', `${base}/nodes`, { body: { kind: 1, record: one.id, label: Buffer.from('n').toString('base64') } }), 'node');
    const n2 = await ok(request(srv, 'POST', `${base}/nodes`, { body: { kind: 2 } }), 'node2');
    const e1 = await ok(request(srv, 'POST', `${base}/edges`, { body: { from: n1.id, to: n2.id, kind: 3, weight: 0.5 } }), 'edge');
    await ok(request(srv, 'POST', `${base}/edges`, { body: { from: n2.id, to: n1.id, kind: 4 } }), 'edge2');
    await ok(request(srv, 'POST', `${base}/edges`, { body: { from: n1.id, to: n1.id, kind: 5 } }), 'self-loop');
    await ok(request(srv, 'DELETE', `${base}/edges/${e1.id}`), 'edge delete');
    await ok(request(srv, 'POST', `${base}/events`, { headers: { 'Content-Type': 'application/vnd.valori.event' }, body: eventSetMeta(first + 3n, `raw${k}`) }), 'set_meta event');
    await ok(request(srv, 'POST', `${base}/events`, { headers: { 'Content-Type': 'application/vnd.valori.event' }, body: eventUpdateTag(first + 4n, 40 + k) }), 'update event');
    await ok(request(srv, 'DELETE', `${base}/records/${first}`), 'delete');
    if (k % 2 === 1) await ok(request(srv, 'DELETE', `${base}/nodes/${n2.id}`), 'node delete');
    else await ok(request(srv, 'DELETE', `${base}/records/${one.id}`), 'delete with node'); // its node and edges go
  }
  return state(srv, coll);
}

/** The log of the store in dir from `from` (default: its oldest kept record), as lines. */
export function dumpLog(dir, from) {
  const r = spawnSync(DUMP, from === undefined ? [dir] : [dir, String(from)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`repl_log_dump ${dir}: ${r.stderr}`);
  const [head, ...lines] = r.stdout.trim().split('\n');
  const m = /^first (\d+) end (\d+)$/.exec(head);
  return { first: Number(m[1]), end: Number(m[2]), records: lines.filter(Boolean) };
}

/** The follower's log equals the leader's record for record (height, root, chain, event), from the
** follower's first logged record to its end, which must be the leader's end. Returns the count. */
export function sameLog(leaderDir, followerDir) {
  const f = dumpLog(followerDir);
  const l = dumpLog(leaderDir, f.first);
  if (f.end !== l.end) throw new Error(`the follower's log ends at ${f.end}, the leader's at ${l.end}`);
  if (f.records.length !== l.records.length) throw new Error(`${f.records.length} records against ${l.records.length}`);
  for (let i = 0; i < f.records.length; i++)
    if (f.records[i] !== l.records[i]) throw new Error(`record ${f.first + i} differs:\n  leader   ${l.records[i].slice(0, 200)}\n  follower ${f.records[i].slice(0, 200)}`);
  const heights = f.records.map((x) => Number(x.split(' ')[0]));
  heights.forEach((h, i) => { if (h !== f.first + i) throw new Error(`height ${h} at position ${i}: applied twice or skipped`); });
  return f.records.length;
}

export function cleanup(...dirs) {
  for (const d of dirs) if (d) fs.rmSync(d, { recursive: true, force: true });
}
