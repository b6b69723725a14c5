// The npm package's follower in Node (Valori.follow; docs/REPLICATION.md, "The npm package's
// follower") against real `valori serve` leaders on 127.0.0.1 (tests/repl/helpers.js), through the
// replication test proxy (tests/repl/proxy.js) for faults: convergence by root (directory and
// memory, beside a native `valori follow`), live streaming, resume after kill -9 without a
// bootstrap, cuts mid-record, altered records (diverged: chain, root), divergence kept across a
// reopen and cleared by rebootstrap(), compaction while stopped (EHEIGHT -> re-bootstrap), the
// long-poll transport, EREADONLY, ELOCKED, verify(), minHeight and the lag fields. Every follower
// store ends with its log equal to the leader's, record for record (repl_log_dump).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Valori } from '../src/index.js';
import { ReplProxy, parseFrames, crc32c } from '../../tests/repl/proxy.js';
import {
  cleanup, converged, request, sameLog, sleep, startFollower, startLeader, state, stopServer, tmpDir, until, workload,
} from '../../tests/repl/helpers.js';

const C = 'facts';
const HERE = path.dirname(fileURLToPath(import.meta.url));
let procs = [], dirs = [], proxies = [], followers = [];
afterEach(async () => {
  for (const f of followers) await f.close().catch(() => undefined);
  for (const p of procs) await stopServer(p);
  for (const p of proxies) await p.close();
  cleanup(...dirs);
  procs = []; dirs = []; proxies = []; followers = [];
});

async function leaderWith(args = [], rounds = 2) {
  const leader = await startLeader({ args });
  procs.push(leader);
  dirs.push(leader.data);
  await workload(leader, C, { seed: 21, rounds });
  return leader;
}

async function viaProxy(leader) {
  const proxy = await new ReplProxy({ upstream: leader.url }).start();
  proxies.push(proxy);
  return proxy;
}

function dir(tag) { const d = tmpDir(tag); dirs.push(d); return path.join(d, 'store'); }

async function follow(url, opts = {}) {
  const f = await Valori.follow(`${url}/v1/collections/${C}`, { heartbeatMs: 200, ...opts });
  followers.push(f);
  return f;
}

/** Waits until the follower is live at the leader's height with the leader's root. */
async function caughtUp(leader, f, timeoutMs = 30_000) {
  const want = await state(leader, C);
  await until(() => { const s = f.status(); return s.height === want.height && s.root === want.root && s.state === 'live' && s; },
    `the follower to reach height ${want.height} (${JSON.stringify(f.status())})`, timeoutMs);
  expect(await f.stateRoot()).toBe(want.root);
  return want;
}

async function insert(srv, n, base = 0) {
  let last;
  for (let i = 0; i < n; i++) last = await request(srv, 'POST', `/v1/collections/${C}/records`, { body: { vector: [base + i, 1, 2, 3], tag: String(i) } });
  return last.json;
}

async function divergedStatus(f) {
  return until(() => f.status().state === 'diverged' && f.status(), 'the follower to report diverged', 15_000);
}

/** The record at height `from` from the leader's long poll (its RECORD frame's payload). */
async function leaderRecord(leader, from, chain) {
  const r = await request(leader, 'GET', `/v1/collections/${C}/replication/log?from=${from}&chain=${chain}&max=1&wait_ms=0`);
  expect(r.status).toBe(200);
  const rec = parseFrames(r.body).frames.find((x) => x.type === 2);
  return new Uint8Array(rec.payload);
}

describe('Valori.follow in Node', () => {
  it('a directory and an in-memory follower reach the leader\'s height and root, agree with a native follower, and stream live', async () => {
    const leader = await leaderWith([], 3);
    const native = await startFollower(`${leader.url}/v1/collections/${C}`);
    procs.push(native);
    dirs.push(native.data);
    const d = dir('jsf-dir');
    const fd = await follow(leader.url, { path: d });
    const fm = await follow(leader.url);
    const heights = [];
    fd.on('height', (e) => heights.push(e.height));
    await caughtUp(leader, fd);
    await caughtUp(leader, fm);
    await converged(leader, native, C);
    const s2 = await workload(leader, C, { seed: 22, rounds: 3, create: false });
    await caughtUp(leader, fd);
    await caughtUp(leader, fm);
    await converged(leader, native, C);
    expect((await state(native, C)).root).toBe(s2.root);
    expect(fd.status()).toMatchObject({ state: 'live', connected: true, lagEvents: 0, lagSeconds: 0, leaderHeight: s2.height, bootstraps: 1, diverged: null });
    expect(heights.at(-1)).toBe(s2.height);
    expect(heights).toEqual([...heights].sort((a, b) => a - b));
    // the same answers as the leader
    const q = [1, 2, 3, 4];
    const lr = await request(leader, 'POST', `/v1/collections/${C}/search`, { body: { vector: q, k: 5 } });
    const mine = await fd.search(q, { k: 5 });
    expect(mine.map((h) => String(h.id))).toEqual(lr.json.hits.map((h) => String(h.id)));
    expect(await fm.indexDigest()).toBe(await fd.indexDigest());
    const st = await fd.stats();
    expect(st.height).toBe(s2.height);
    await fd.close();
    expect(fd.status().state).toBe('stopped');
    sameLog(path.join(leader.data, C), d);
  });

  it('writes reject with EREADONLY naming the leader; a second follower of the same directory gets ELOCKED; a read-only open works', async () => {
    const leader = await leaderWith();
    const d = dir('jsf-lock');
    const f = await follow(leader.url, { path: d });
    await caughtUp(leader, f);
    const url = `${leader.url}/v1/collections/${C}`;
    for (const call of [() => f.insert([1, 2, 3, 4]), () => f.insertBatch([[1, 2, 3, 4]]), () => f.delete(1), () => f.update(2, { tag: 1 }),
      () => f.setMeta(2, 'x'), () => f.createNode({}), () => f.deleteNode(1), () => f.createEdge(1, 2), () => f.deleteEdge(1),
      () => f.apply(new Uint8Array(8))]) {
      const e = await call().then(() => null, (x) => x);
      expect(e && e.code).toBe('EREADONLY');
      expect(e.leader).toBe(url);
      expect(e.message).toContain(url);
    }
    const e2 = await Valori.follow(url, { path: d }).then(() => null, (x) => x);
    expect(e2 && e2.code).toBe('ELOCKED');
    const ro = await Valori.open({ path: d, readOnly: true });
    expect(await ro.stateRoot()).toBe(f.status().root);
    await ro.close();
    expect((await f.get(2)).id).toBe(2n);
  });

  it('a follower killed -9 resumes from its own durable height without a bootstrap', async () => {
    const leader = await leaderWith();
    const d = dir('jsf-kill');
    const child = spawn(process.execPath, [path.join(HERE, 'fixtures/follower-child.mjs'), `${leader.url}/v1/collections/${C}`, d],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (x) => { out += x; });
    child.stderr.on('data', (x) => { err += x; });
    const exited = new Promise((r) => child.on('exit', r));
    await until(() => /ready \d+ bootstraps 1\n/.test(out), `the child follower (${err})`);
    const busy = workload(leader, C, { seed: 23, rounds: 4, create: false });
    await until(() => /height \d+\n/.test(out), 'the child to apply records', 15_000, 5);
    child.kill('SIGKILL');
    await exited;
    await busy;
    const reported = Math.max(...[...out.matchAll(/height (\d+)\n/g)].map((m) => Number(m[1])));
    const f = await follow(leader.url, { path: d });
    const s = f.status();
    expect(s.bootstraps).toBe(0);
    expect(s.height).toBeGreaterThanOrEqual(reported); // every reported height was durable
    await caughtUp(leader, f);
    expect(f.status().bootstraps).toBe(0);
    await f.close();
    sameLog(path.join(leader.data, C), d);
  });

  it('a connection cut in the middle of a record: reconnects, nothing applied twice or skipped', async () => {
    const leader = await leaderWith();
    const proxy = await viaProxy(leader);
    const d = dir('jsf-cut');
    const f = await follow(proxy.url, { path: d });
    await caughtUp(leader, f);
    proxy.setFault({ kind: 'cut', frame: 'record', nth: 3, bytes: 50 });
    await insert(leader, 8);
    await caughtUp(leader, f);
    expect(proxy.stats.cuts).toBe(1);
    expect(f.status().reconnects).toBeGreaterThanOrEqual(1);
    await f.close();
    sameLog(path.join(leader.data, C), d);
  });

  const altered = [
    ['a flipped event bit with the chain kept: diverged, reason chain', { kind: 'flip-event', chain: false }, 'chain'],
    ['a flipped root bit with the chain recomputed: diverged, reason root', { kind: 'flip-root', chain: true }, 'root'],
    ['two records\' events swapped: diverged, reason chain', { kind: 'swap-events' }, 'chain'],
  ];
  for (const [name, fault, reason] of altered) {
    it(name, async () => {
      const leader = await leaderWith();
      const proxy = await viaProxy(leader);
      const d = dir('jsf-flip');
      const f = await follow(proxy.url, { path: d });
      await caughtUp(leader, f);
      const seen = [];
      f.on('diverged', (x) => seen.push(x));
      const H = (await state(leader, C)).height + 2;
      proxy.setFault({ ...fault, height: H });
      await insert(leader, 4);
      const s = await divergedStatus(f);
      expect(s.diverged.reason).toBe(reason);
      expect(s.diverged.height).toBe(H);
      expect(s.diverged.expected).not.toBe(s.diverged.actual);
      expect(s.height).toBe(H - 1); // the wrong record was never applied
      expect(seen).toHaveLength(1);
      const e = await f.get(1).then(() => null, (x) => x);
      expect(e && e.code).toBe('EDIVERGED');
      expect(fs.existsSync(path.join(d, 'DIVERGED'))).toBe(true);
      await insert(leader, 2, 50);
      await sleep(400);
      expect(f.status().height).toBe(H - 1); // stays put while the leader writes on
      // kept across a reopen
      await f.close();
      const f2 = await follow(proxy.url, { path: d });
      expect(f2.status().state).toBe('diverged');
      expect(f2.status().diverged).toMatchObject({ height: H, reason });
      await sleep(300);
      expect(f2.status().height).toBe(H - 1);
      await f2.rebootstrap();
      await caughtUp(leader, f2);
      expect(f2.status().diverged).toBeNull();
      expect(f2.status().bootstraps).toBe(1);
      expect(fs.existsSync(path.join(d, 'DIVERGED'))).toBe(false);
      await insert(leader, 3, 90);
      await caughtUp(leader, f2);
      await f2.close();
      sameLog(path.join(leader.data, C), d);
    });
  }

  it('two records reordered: a transport error (EHEIGHT from the core), no divergence, convergence on reconnect', async () => {
    const leader = await leaderWith();
    const proxy = await viaProxy(leader);
    const d = dir('jsf-reorder');
    const f = await follow(proxy.url, { path: d });
    await caughtUp(leader, f);
    proxy.setFault({ kind: 'reorder', height: (await state(leader, C)).height + 2 });
    await insert(leader, 4);
    await caughtUp(leader, f);
    expect(proxy.stats.faults).toBe(1);
    expect(f.status()).toMatchObject({ diverged: null, bootstraps: 1 });
    expect(f.status().reconnects).toBeGreaterThanOrEqual(1);
    await f.close();
    sameLog(path.join(leader.data, C), d);
  });

  it('the leader compacts while the follower is stopped: EHEIGHT, a re-bootstrap by itself', async () => {
    const leader = await leaderWith(['--snapshot-every', '10', '--segment-bytes', '2048']);
    const d = dir('jsf-compact');
    const f = await follow(leader.url, { path: d });
    await caughtUp(leader, f);
    const h0 = f.status().height;
    await f.close();
    await workload(leader, C, { seed: 24, rounds: 6, create: false });
    await until(async () => {
      const p = (await request(leader, 'GET', `/v1/collections/${C}/replication`)).json;
      return p.log_first_height > h0 + 1;
    }, 'the leader to prune its log past the follower');
    const f2 = await follow(leader.url, { path: d });
    expect(f2.status().bootstraps).toBe(0);
    await caughtUp(leader, f2);
    expect(f2.status().bootstraps).toBe(1);
    expect(f2.status().diverged).toBeNull();
    await insert(leader, 3);
    await caughtUp(leader, f2);
    await f2.close();
    sameLog(path.join(leader.data, C), d);
  });

  it('verify() dry-runs a record while paused: the leader\'s next record is ok, a tampered one is refused, nothing changes; resume() converges', async () => {
    const leader = await leaderWith();
    const f = await follow(leader.url);
    await caughtUp(leader, f);
    await f.pause(); // stays at its height, still serving reads
    const before = f.status();
    expect(before).toMatchObject({ state: 'catching-up', connected: false });
    expect(await f.nextRecord()).toBeNull(); // nothing after its height yet
    await insert(leader, 1);
    const good = await f.nextRecord();
    expect(good).toEqual(await leaderRecord(leader, before.height + 1, before.chain));
    const want = await state(leader, C);
    expect(await f.verify(good)).toEqual({ ok: true, height: before.height + 1, root: want.root });
    const bad = good.slice();
    bad[bad.length - 1] ^= 1; // the event's last byte; the record CRC fixed, the chain left
    new DataView(bad.buffer).setUint32(4, crc32c(bad.subarray(0, 4), bad.subarray(8)), true); // FORMAT.md "Record"
    const v = await f.verify(bad);
    expect(v).toMatchObject({ ok: false, code: 'EDIVERGED', reason: 'chain', height: before.height + 1 });
    expect(v.expected).not.toBe(v.actual);
    const torn = await f.verify(good.subarray(0, good.length - 1));
    expect(torn).toMatchObject({ ok: false, code: 'ECORRUPT', reason: null });
    expect(f.status().height).toBe(before.height);
    expect(await f.stateRoot()).toBe(before.root);
    expect(f.status().lastError).toBeNull();
    await f.resume();
    await caughtUp(leader, f);
    expect(await f.verify(good)).toMatchObject({ ok: false, code: 'EHEIGHT' }); // applied now: not the next one
  });

  it('minHeight reads wait for the height a write returned, and time out with ETIMEOUT', async () => {
    const leader = await leaderWith();
    const f = await follow(leader.url);
    await caughtUp(leader, f);
    const w = await insert(leader, 1, 7);
    const got = await f.get(BigInt(w.id), { minHeight: w.height, waitMs: 5000 });
    expect(got.id).toBe(BigInt(w.id));
    const e = await f.search([1, 2, 3, 4], { k: 1, minHeight: w.height + 1000, waitMs: 200 }).then(() => null, (x) => x);
    expect(e && e.code).toBe('ETIMEOUT');
    const e2 = await f.waitForHeight(w.height + 1000, { waitMs: 100 }).then(() => null, (x) => x);
    expect(e2 && e2.code).toBe('ETIMEOUT');
    expect(await f.waitForHeight(w.height)).toBeGreaterThanOrEqual(w.height);
  });

  it('status reports the lag in events and seconds while records are held back, and none once caught up', async () => {
    const leader = await leaderWith(['--heartbeat-ms', '5000']); // the held stream is not dropped as dead meanwhile
    const d = dir('jsf-lag');
    const f = await follow(leader.url, { path: d });
    await caughtUp(leader, f);
    const h0 = f.status().height;
    await f.close();
    await insert(leader, 5);
    // a fetch that lets the HELLO through (it names the leader's height) and holds the rest
    let release;
    const gate = new Promise((r) => { release = r; });
    const held = async (url, init) => {
      const res = await fetch(url, init);
      if (!/\/replication\/stream\?/.test(url)) return res;
      const src = res.body.getReader();
      let sent = 0;
      const body = new ReadableStream({
        async pull(ctl) {
          if (sent >= 104) await gate;
          const { done, value } = await src.read();
          if (done) { ctl.close(); return; }
          if (sent < 104 && sent + value.length > 104) {
            ctl.enqueue(value.subarray(0, 104 - sent));
            await gate;
            ctl.enqueue(value.subarray(104 - sent));
          } else ctl.enqueue(value);
          sent += value.length;
        },
        cancel(r) { return src.cancel(r); },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const f2 = await follow(leader.url, { path: d, fetch: held, heartbeatMs: 60_000 });
    await until(() => f2.status().leaderHeight === h0 + 5 && f2.status(), 'the HELLO');
    await sleep(300);
    const s = f2.status();
    expect(s).toMatchObject({ state: 'catching-up', height: h0, leaderHeight: h0 + 5, lagEvents: 5, connected: true });
    expect(s.lagSeconds).toBeGreaterThanOrEqual(0.25);
    release();
    await caughtUp(leader, f2);
    expect(f2.status()).toMatchObject({ lagEvents: 0, lagSeconds: 0 });
  });

  it('the long-poll transport converges too', async () => {
    const leader = await leaderWith();
    const d = dir('jsf-poll');
    const f = await follow(leader.url, { path: d, transport: 'poll', pollWaitMs: 500 });
    await caughtUp(leader, f);
    await workload(leader, C, { seed: 25, rounds: 2, create: false });
    await caughtUp(leader, f);
    await f.close();
    sameLog(path.join(leader.data, C), d);
  });

  it('a leader of another history: diverged, reason history, both chains reported', async () => {
    const leader = await leaderWith();
    const d = dir('jsf-history');
    const f = await follow(leader.url, { path: d });
    await caughtUp(leader, f);
    const mine = f.status();
    await f.close();
    const other = await startLeader();
    procs.push(other);
    dirs.push(other.data);
    await workload(other, C, { seed: 99, rounds: 3 });
    const f2 = await follow(other.url, { path: d });
    const s = await divergedStatus(f2);
    expect(s.diverged).toMatchObject({ reason: 'history', height: mine.height, actual: mine.chain });
    expect(s.diverged.expected).not.toBe(mine.chain);
    expect(s.height).toBe(mine.height);
    await f2.rebootstrap();
    await caughtUp(other, f2);
    await f2.close();
    sameLog(path.join(other.data, C), d);
  });

  it('a leader with tokens: without one the first bootstrap fails with EAUTH; with the read token it converges', async () => {
    const tdir = tmpDir('jsf-tokens');
    dirs.push(tdir);
    fs.writeFileSync(path.join(tdir, 'tokens'), 'write w-follow-test-000001\nread r-follow-test-000001\n');
    const leader = await startLeader({ args: ['--token-file', path.join(tdir, 'tokens')] });
    procs.push(leader);
    dirs.push(leader.data);
    const W = 'w-follow-test-000001';
    expect((await request(leader, 'POST', '/v1/collections', { token: W, body: { name: C, dim: 4 } })).status).toBe(201);
    for (let i = 0; i < 5; i++) await request(leader, 'POST', `/v1/collections/${C}/records`, { token: W, body: { vector: [i, 1, 2, 3] } });
    const e = await Valori.follow(`${leader.url}/v1/collections/${C}`, { bootstrapTimeoutMs: 300 }).then(() => null, (x) => x);
    expect(e && e.code).toBe('EAUTH');
    const f = await follow(leader.url, { token: 'r-follow-test-000001' });
    const want = (await request(leader, 'GET', `/v1/collections/${C}/state`, { token: W })).json;
    await until(() => f.status().height === want.height && f.status().state === 'live', 'the follower with a token');
    expect(await f.stateRoot()).toBe(want.root);
  });

  it('a damaged snapshot during a re-bootstrap is refused and retried; the old copy serves meanwhile', async () => {
    const leader = await leaderWith();
    const d = dir('jsf-badsnap');
    let damage = false;
    const flaky = async (url, init) => {
      const res = await fetch(url, init);
      if (!damage || !/\/replication\/snapshot$/.test(url)) return res;
      const b = new Uint8Array(await res.arrayBuffer());
      b[b.length >> 1] ^= 0x20;
      return new Response(b, { status: res.status, headers: res.headers });
    };
    const f = await follow(leader.url, { path: d, fetch: flaky });
    const want = await caughtUp(leader, f);
    damage = true;
    await f.rebootstrap();
    await until(() => f.status().lastError && /snapshot was refused/.test(f.status().lastError.message) && f.status(), 'the refusal');
    expect(f.status().height).toBe(want.height);
    expect(await f.stateRoot()).toBe(want.root); // the old copy, untouched
    damage = false;
    await until(() => f.status().bootstraps === 2 && f.status().state === 'live', 'the retried bootstrap');
    await insert(leader, 3);
    await caughtUp(leader, f);
    await f.close();
    // rebootstrap() at once after follow() resolves, before the first stream is open: acted on
    for (let round = 0; round < 3; round++) {
      const fr = await follow(leader.url);
      const b0 = fr.status().bootstraps;
      await fr.rebootstrap();
      await until(() => fr.status().bootstraps === b0 + 1 && fr.status().state === 'live' && fr.status(), 'the early rebootstrap', 15_000);
      expect(fr.status().lastError).toBe(null);
      await fr.close();
    }
    sameLog(path.join(leader.data, C), d);
  });

  it('reconnects again and again (heartbeats cut) without growing the wasm heap', async () => {
    const leader = await leaderWith();
    const proxy = await viaProxy(leader);
    const f = await follow(proxy.url);
    await caughtUp(leader, f);
    const heap0 = await Valori.heapUsed();
    proxy.setFault({ kind: 'cut', frame: 'heartbeat', nth: 1, bytes: 9, repeat: true });
    await until(() => f.status().reconnects >= 10, 'ten reconnects', 30_000);
    proxy.clearFault();
    await caughtUp(leader, f);
    expect(await Valori.heapUsed()).toBe(heap0); // the same state, and nothing left per connection
  });

  it('the leader killed -9 during ingest and restarted on another port: the follower reports the failure and converges', async () => {
    const leader = await leaderWith();
    const proxy = await viaProxy(leader);
    const d = dir('jsf-leaderkill');
    const f = await follow(proxy.url, { path: d });
    await caughtUp(leader, f);
    const busy = workload(leader, C, { seed: 26, rounds: 40, create: false }).catch(() => 'interrupted');
    await until(() => f.status().height > 40, 'the ingest to stream', 30_000, 5);
    await stopServer(leader, 'SIGKILL');
    expect(await busy).toBe('interrupted');
    await until(() => f.status().lastError && !f.status().connected && f.status(), 'the follower to notice', 15_000);
    expect(f.status().state).toBe('catching-up');
    const leader2 = await startLeader({ data: leader.data });
    procs.push(leader2);
    proxy.setUpstream(leader2.url);
    await workload(leader2, C, { seed: 27, rounds: 1, create: false });
    await caughtUp(leader2, f);
    expect(f.status()).toMatchObject({ lastError: null, bootstraps: 1 });
    expect(f.status().reconnects).toBeGreaterThanOrEqual(1);
    await f.close();
    sameLog(path.join(leader.data, C), d);
  });

  it('acks its durable height under its followerId: the leader\'s metrics list it', async () => {
    const leader = await leaderWith();
    const f = await follow(leader.url, { followerId: 'node-1', ackIntervalMs: 100 });
    const want = await caughtUp(leader, f);
    const line = `valori_replication_follower_acked_height{collection="${C}",follower="node-1"} ${want.height}`;
    await until(async () => (await request(leader, 'GET', '/metrics')).text.includes(line), 'the ack on the leader');
    const w = await insert(leader, 1);
    await until(async () => (await request(leader, 'GET', '/metrics')).text.includes(`follower="node-1"} ${w.height}`), 'the next ack');
  });

  it('a store left with BOOTSTRAPPING (a crash during a re-bootstrap) is bootstrapped again at the next follow()', async () => {
    const leader = await leaderWith();
    const d = dir('jsf-marker');
    const f = await follow(leader.url, { path: d });
    await caughtUp(leader, f);
    await f.close();
    fs.writeFileSync(path.join(d, 'BOOTSTRAPPING'), '');
    await insert(leader, 2);
    const f2 = await follow(leader.url, { path: d });
    expect(f2.status().bootstraps).toBe(1);
    expect(fs.existsSync(path.join(d, 'BOOTSTRAPPING'))).toBe(false);
    await caughtUp(leader, f2);
    await f2.close();
    sameLog(path.join(leader.data, C), d);
  });

  it('an unreachable leader: the first bootstrap gives up after bootstrapTimeoutMs with ECONNECT', async () => {
    const e = await Valori.follow('http://127.0.0.1:1/v1/collections/a', { bootstrapTimeoutMs: 300 }).then(() => null, (x) => x);
    expect(e && e.code).toBe('ECONNECT');
    expect(e.message).toMatch(/no bootstrap within 300 ms/);
  });

  it('bad arguments are EINVAL', async () => {
    for (const [url, o] of [['http://127.0.0.1:1', {}], ['ftp://x/v1/collections/a', {}], ['http://127.0.0.1:1/v1/collections/a', { followerId: 'a b' }],
      ['http://127.0.0.1:1/v1/collections/a', { transport: 'ws' }], ['http://127.0.0.1:1/v1/collections/a', { heartbeatMs: -1 }],
      ['http://127.0.0.1:1/v1/collections/a', { segmentBytes: 'big' }], ['http://127.0.0.1:1/v1/collections/a', { token: '' }]]) {
      const e = await Valori.follow(url, o).then(() => null, (x) => x);
      expect(e && e.code, `${url} ${JSON.stringify(o)}`).toBe('EINVAL');
    }
  });
});
