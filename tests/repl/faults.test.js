// RELIABILITY.md scenarios 9 and 10 with real processes on loopback (docs/REPLICATION.md): the
// leader killed and restarted, the follower killed, the connection cut in the middle of a record
// and of a heartbeat, the leader compacting its log while the follower is behind; and records
// altered by the test proxy (tests/repl/proxy.js: a flipped bit of an event or of a root, with the
// CRCs and optionally the chain recomputed, swapped or reordered records): the follower never applies
// a wrong record, reports `diverged`, refuses reads, and converges after a re-bootstrap. Every
// scenario ends with the follower's log equal to the leader's record for record.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplProxy } from './proxy.js';
import {
  cleanup, converged, position, request, sameLog, sleep, startFollower, startLeader, state, stopServer, tmpDir, until, workload,
} from './helpers.js';

const C = 'facts';
let procs = [];
let dirs = [];
let proxies = [];
afterEach(async () => {
  for (const p of procs) await stopServer(p); // a clean stop: the sanitizer build's leak check runs
  for (const p of proxies) await p.close();
  cleanup(...dirs);
  procs = []; dirs = []; proxies = [];
});

async function setup({ leaderArgs = [], rounds = 2 } = {}) {
  const data = tmpDir('fleader');
  dirs.push(data);
  const leader = await startLeader({ data, args: leaderArgs });
  procs.push(leader);
  await workload(leader, C, { seed: 11, rounds });
  const proxy = await new ReplProxy({ upstream: leader.url }).start();
  proxies.push(proxy);
  const fdata = tmpDir('ffollower');
  dirs.push(fdata);
  const follower = await startFollower(`${proxy.url}/v1/collections/${C}`, { data: fdata });
  procs.push(follower);
  await converged(leader, follower, C);
  return { leader, proxy, follower, data, fdata };
}

async function insert(srv, n, base = 0) {
  let last;
  for (let i = 0; i < n; i++) last = await request(srv, 'POST', `/v1/collections/${C}/records`, { body: { vector: [base + i, 1, 2, 3], tag: String(i) } });
  return last;
}

async function divergedState(follower) {
  return until(async () => { const p = await position(follower, C); return p.state === 'diverged' && p; }, 'the follower to report diverged');
}

/** After a divergence: nothing wrong was applied, reads are refused, the position still answers. */
async function checkDiverged(follower, leader, H, reason) {
  const p = await divergedState(follower);
  expect(p.diverged.reason).toBe(reason);
  expect(p.diverged.height).toBe(H);
  expect(p.height).toBe(H - 1); // the wrong record was never applied
  const st = await request(follower, 'GET', `/v1/collections/${C}/state`);
  expect(st.json.height).toBe(H - 1);
  for (const [m, path, body] of [['GET', `/v1/collections/${C}/records/2`], ['POST', `/v1/collections/${C}/search`, { vector: [1, 2, 3, 4], k: 3 }],
    ['GET', `/v1/collections/${C}`]]) {
    const r = await request(follower, m, path, body ? { body } : {});
    expect(r.status, path).toBe(503);
    expect(r.json.error.code).toBe('EDIVERGED');
    expect(r.json.error.height).toBe(H);
    expect(r.json.error.reason).toBe(reason);
  }
  const m = (await request(follower, 'GET', '/metrics')).text;
  expect(m).toContain(`valori_follower_state{collection="${C}",state="diverged"} 1`);
  expect(fs.existsSync(`${follower.data}/${C}/DIVERGED`)).toBe(true);
  // it stays diverged while the leader writes on
  await insert(leader, 3, 500);
  await sleep(500);
  expect((await position(follower, C)).height).toBe(H - 1);
  return p;
}

async function rebootstrap(leader, follower) {
  const r = await request(follower, 'POST', `/v1/collections/${C}/replication/rebootstrap`);
  expect(r.status).toBe(202);
  expect(r.json).toEqual({ rebootstrap: true });
  await converged(leader, follower, C);
  const p = await until(async () => { const x = await position(follower, C); return x.state === 'live' && x; }, 'live again');
  expect(p.diverged).toBeNull();
  expect(fs.existsSync(`${follower.data}/${C}/DIVERGED`)).toBe(false);
  await insert(leader, 4, 900);
  await converged(leader, follower, C);
  sameLog(`${leader.data}/${C}`, `${follower.data}/${C}`);
}

describe('RELIABILITY 9: processes die, connections break, the leader compacts', () => {
  it('the leader is killed -9 during ingest and restarted: the follower converges', async () => {
    const { leader, proxy, follower, data } = await setup();
    const h0 = (await state(leader, C)).height;
    const busy = workload(leader, C, { seed: 12, rounds: 60, create: false }).catch(() => 'interrupted');
    await until(async () => (await state(leader, C)).height > h0 + 30, 'the ingest to run', 30_000, 5);
    await stopServer(leader, 'SIGKILL');
    expect(await busy).toBe('interrupted');
    const leader2 = await startLeader({ data });
    procs.push(leader2);
    proxy.setUpstream(leader2.url);
    await workload(leader2, C, { seed: 13, rounds: 2, create: false });
    await converged(leader2, follower, C);
    expect((await position(follower, C)).reconnects).toBeGreaterThanOrEqual(1);
    sameLog(`${data}/${C}`, `${follower.data}/${C}`);
  });

  it('the follower is killed -9 while it applies, restarted, and resumes from its own durable height', async () => {
    const { leader, proxy, follower, fdata } = await setup();
    const busy = workload(leader, C, { seed: 14, rounds: 4, create: false });
    await sleep(200);
    await stopServer(follower, 'SIGKILL');
    await busy;
    const f2 = await startFollower(`${proxy.url}/v1/collections/${C}`, { data: fdata });
    procs.push(f2);
    await converged(leader, f2, C);
    expect(f2.out).not.toContain('bootstrapped'); // resumed, not bootstrapped again
    expect((await position(f2, C)).bootstraps).toBe(0);
    sameLog(`${leader.data}/${C}`, `${fdata}/${C}`);
  });

  it('the connection is cut in the middle of a record, then of a heartbeat: reconnects, nothing twice or skipped', async () => {
    const { leader, proxy, follower } = await setup();
    proxy.setFault({ kind: 'cut', frame: 'record', nth: 3, bytes: 50 });
    await insert(leader, 8);
    await converged(leader, follower, C);
    expect(proxy.stats.cuts).toBe(1);
    const before = (await position(follower, C)).reconnects;
    expect(before).toBeGreaterThanOrEqual(1);
    proxy.setFault({ kind: 'cut', frame: 'heartbeat', nth: 2, bytes: 9 });
    await until(() => proxy.stats.cuts === 2, 'the heartbeat cut');
    await until(async () => (await position(follower, C)).reconnects > before, 'a reconnect');
    await insert(leader, 5, 100);
    await converged(leader, follower, C);
    sameLog(`${leader.data}/${C}`, `${follower.data}/${C}`);
  });

  it('a connection that goes silent (held by the proxy) is dropped after three heartbeat intervals', async () => {
    const { leader, proxy, follower } = await setup();
    const before = (await position(follower, C)).reconnects;
    proxy.setFault({ kind: 'hold' });
    await until(async () => (await position(follower, C)).state === 'catching-up', 'the follower to notice', 10_000);
    proxy.clearFault();
    await insert(leader, 3);
    await converged(leader, follower, C);
    expect((await position(follower, C)).reconnects).toBeGreaterThan(before);
    sameLog(`${leader.data}/${C}`, `${follower.data}/${C}`);
  });

  it('the leader compacts its log while the follower is stopped: EHEIGHT, a re-bootstrap by itself, convergence', async () => {
    const { leader, proxy, follower, fdata } = await setup({ leaderArgs: ['--snapshot-every', '10', '--segment-bytes', '2048'] });
    const h0 = (await position(follower, C)).height;
    expect((await stopServer(follower)).code).toBe(0);
    await workload(leader, C, { seed: 15, rounds: 6, create: false });
    await until(async () => (await position(leader, C)).log_first_height > h0 + 1, 'the leader to prune the log past the follower');
    const f2 = await startFollower(`${proxy.url}/v1/collections/${C}`, { data: fdata });
    procs.push(f2);
    await converged(leader, f2, C);
    expect(f2.out).toMatch(/bootstrapped from the leader's snapshot at height [1-9]/);
    const p = await position(f2, C);
    expect(p.bootstraps).toBe(1);
    expect(p.diverged).toBeNull();
    await insert(leader, 3);
    await converged(leader, f2, C);
    sameLog(`${leader.data}/${C}`, `${fdata}/${C}`);
  });
});

describe('RELIABILITY 10: a record that is not the leader\'s', () => {
  const cases = [
    ['a flipped event bit, CRCs recomputed: the chain tells', { kind: 'flip-event', chain: false }, 'chain'],
    ['a flipped root bit, CRCs and chain recomputed: the engine\'s root tells', { kind: 'flip-root', chain: true }, 'root'],
    ['a flipped event bit, CRCs and chain recomputed: the root (or the refused event) tells', { kind: 'flip-event', chain: true }, ['root', 'event']],
    ['two records\' events swapped, CRCs recomputed: the chain tells', { kind: 'swap-events' }, 'chain'],
  ];
  for (const [name, fault, reason] of cases) {
    it(name, async () => {
      const { leader, proxy, follower } = await setup();
      const H = (await state(leader, C)).height + 2;
      proxy.setFault({ ...fault, height: H });
      await insert(leader, 4);
      const p = await divergedState(follower);
      const why = Array.isArray(reason) ? reason : [reason];
      expect(why).toContain(p.diverged.reason);
      await checkDiverged(follower, leader, H, p.diverged.reason);
      if (p.diverged.reason === 'root') expect(p.diverged.actual).not.toBe(p.diverged.expected);
      await rebootstrap(leader, follower);
    });
  }

  it('two records reordered: a transport error (wrong height), no divergence, convergence on reconnect', async () => {
    const { leader, proxy, follower } = await setup();
    const H = (await state(leader, C)).height + 2;
    proxy.setFault({ kind: 'reorder', height: H });
    await insert(leader, 4);
    await converged(leader, follower, C);
    const p = await position(follower, C);
    expect(p.diverged).toBeNull();
    expect(p.reconnects).toBeGreaterThanOrEqual(1);
    expect(proxy.stats.faults).toBe(1);
    sameLog(`${leader.data}/${C}`, `${follower.data}/${C}`);
  });

  it('a divergence survives a restart; --rebootstrap at start recovers', async () => {
    const { leader, proxy, follower, fdata } = await setup();
    const H = (await state(leader, C)).height + 1;
    proxy.setFault({ kind: 'flip-event', height: H });
    await insert(leader, 2);
    await divergedState(follower);
    expect((await stopServer(follower)).code).toBe(0);
    const f2 = await startFollower(`${proxy.url}/v1/collections/${C}`, { data: fdata });
    procs.push(f2);
    const p = await divergedState(f2);
    expect(p.diverged.height).toBe(H);
    expect(p.diverged.reason).toBe('chain');
    expect((await request(f2, 'GET', `/v1/collections/${C}/records/1`)).status).toBe(503);
    expect((await stopServer(f2)).code).toBe(0);
    const f3 = await startFollower(`${proxy.url}/v1/collections/${C}`, { data: fdata, args: ['--rebootstrap'] });
    procs.push(f3);
    await converged(leader, f3, C);
    expect((await position(f3, C)).diverged).toBeNull();
    sameLog(`${leader.data}/${C}`, `${fdata}/${C}`);
  });

  it('a leader that does not hold the follower\'s position (another history): diverged, reason history', async () => {
    const { leader, proxy, follower, fdata } = await setup();
    expect((await stopServer(follower)).code).toBe(0);
    // a leader of another history under the same name: same workload shape, other content
    const other = await startLeader();
    procs.push(other);
    dirs.push(other.data);
    await workload(other, C, { seed: 99, rounds: 3 });
    proxy.setUpstream(other.url);
    const f2 = await startFollower(`${proxy.url}/v1/collections/${C}`, { data: fdata });
    procs.push(f2);
    const p = await divergedState(f2);
    expect(p.diverged.reason).toBe('history');
    expect((await request(f2, 'GET', `/v1/collections/${C}/records/1`)).status).toBe(503);
    // back to the right leader and a re-bootstrap asked for: converges on it
    proxy.setUpstream(leader.url);
    await rebootstrap(leader, f2);
  });
});
