// follow.browser.test.js: the npm package's follower inside headless Chromium (Vitest browser mode)
// against a real `valori serve` that the Vitest process starts for this page (browser commands,
// vitest.config.js) with this page's origin as its CORS origin: an idb:// follower of a seeded
// workload of every event kind reaches the leader's height and root, a second workload streams live,
// a reopened follower resumes from its own height without a bootstrap, and IndexedDB quota errors
// (ENOSPC) poison the local copy, which is reopened at its last commit and converges; a second
// follower of the same store gets ELOCKED; a first bootstrap whose commit fails is retried without
// keeping the failed attempt's database (ENOSPC reported, the heap as before); verify() of the leader's next record and of a tampered one.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { Valori } from '../src/index.js';

const C = 'facts';
let srv = null;
beforeAll(async () => { srv = await commands.valoriStart({ cors: [location.origin], tokens: false, args: ['--heartbeat-ms', '200'] }); });
afterAll(async () => { if (srv) await commands.valoriStop(srv.id); });

async function reached(f, want) {
  const t0 = Date.now();
  while (Date.now() - t0 < 30_000) {
    const s = f.status();
    if (s.height === want.height && s.root === want.root) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the follower did not reach height ${want.height}: ${JSON.stringify(f.status())}`);
}

it('an idb:// follower reaches the leader\'s root, streams live and resumes from its height', async () => {
  await commands.valoriWorkload(srv.id, { collection: C, seed: 51, rounds: 2 });
  const url = `${srv.url}/v1/collections/${C}`;
  const path = `idb://follow-${Date.now()}`;
  const f = await Valori.follow(url, { path, heartbeatMs: 200, followerId: 'vitest-tab' });
  let want = await commands.valoriState(srv.id, C);
  await reached(f, want);
  expect(await f.stateRoot()).toBe(want.root);
  want = await commands.valoriWorkload(srv.id, { collection: C, seed: 52, rounds: 2, create: false });
  const s = await reached(f, want);
  expect(s).toMatchObject({ bootstraps: 1, diverged: null, connected: true });
  const e = await f.insert(new Float32Array(4)).then(() => null, (x) => x);
  expect(e && e.code).toBe('EREADONLY');
  await f.close();
  const again = await Valori.follow(url, { path, heartbeatMs: 200 });
  expect(again.status()).toMatchObject({ height: want.height, root: want.root, bootstraps: 0 });
  want = await commands.valoriWorkload(srv.id, { collection: C, seed: 53, rounds: 1, create: false });
  expect((await reached(again, want)).bootstraps).toBe(0);
  await again.close();
});

it('IndexedDB quota errors: ENOSPC in lastError, the copy reopened from IndexedDB at its last commit, convergence once there is room', async () => {
  await commands.valoriWorkload(srv.id, { collection: 'quota', seed: 54, rounds: 1 });
  const url = `${srv.url}/v1/collections/quota`;
  const f = await Valori.follow(url, { path: `idb://quota-${Date.now()}`, heartbeatMs: 200 });
  let want = await commands.valoriState(srv.id, 'quota');
  await reached(f, want);
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function () { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
  try {
    await commands.valoriWorkload(srv.id, { collection: 'quota', seed: 55, rounds: 1, create: false });
    const t0 = Date.now();
    while (!(f.status().lastError && f.status().lastError.code === 'ENOSPC') && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
    expect(f.status().lastError.code).toBe('ENOSPC');
    expect(f.status().height).toBe(want.height); // nothing reported that was not committed
  } finally {
    IDBObjectStore.prototype.put = put;
  }
  want = await commands.valoriState(srv.id, 'quota');
  const s = await reached(f, want);
  expect(s.bootstraps).toBe(1);
  await f.close();
});

it('a first bootstrap whose IndexedDB commit fails is retried without keeping its database: ENOSPC (not ENOMEM), the heap back where it was', async () => {
  await commands.valoriWorkload(srv.id, { collection: 'bootfail', seed: 57, rounds: 2 });
  const url = `${srv.url}/v1/collections/bootfail`;
  const path = `idb://bootfail-${Date.now()}`;
  const before = await Valori.heapUsed();
  const put = IDBObjectStore.prototype.put;
  let calls = 0;
  IDBObjectStore.prototype.put = function () { calls++; throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
  let e;
  try {
    e = await Valori.follow(url, { path, bootstrapTimeoutMs: 2000 }).then(() => null, (x) => x);
  } finally {
    IDBObjectStore.prototype.put = put;
  }
  expect(calls).toBeGreaterThan(2); // several attempts, each one a failed commit
  expect(e && e.code).toBe('ENOSPC');
  expect(e.message).toMatch(/quota/);
  // every attempt's database was closed: before the fix each one stayed in the heap (an engine each)
  expect(await Valori.heapUsed()).toBeLessThanOrEqual(before + 1024);
  const f = await Valori.follow(url, { path }); // the marker left by the failed attempts: bootstraps again
  const want = await commands.valoriState(srv.id, 'bootfail');
  expect(f.status()).toMatchObject({ height: want.height, root: want.root, bootstraps: 1 });
  await f.close();
});

it('a second follower of the same idb:// store gets ELOCKED (Web Lock)', async () => {
  await commands.valoriWorkload(srv.id, { collection: 'locks', seed: 56, rounds: 1 });
  const url = `${srv.url}/v1/collections/locks`;
  const path = `idb://locks-${Date.now()}`;
  const f = await Valori.follow(url, { path, heartbeatMs: 200 });
  const want = await commands.valoriState(srv.id, 'locks');
  await reached(f, want);
  const e = await Valori.follow(url, { path }).then(() => null, (x) => x);
  expect(e && e.code).toBe('ELOCKED');
  expect(f.status().height).toBe(want.height);
  await f.close();
});

/** CRC-32C (the record's checksum, docs/FORMAT.md "Record"), to tamper with a record convincingly. */
function crc32c(...bufs) {
  let c = -1;
  for (const b of bufs) for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1; }
  return (c ^ -1) >>> 0;
}

it('verify() in the page: the leader\'s next record (paused) is ok, a tampered one is refused by its chain', async () => {
  await commands.valoriWorkload(srv.id, { collection: 'verify', seed: 57, rounds: 1 });
  const url = `${srv.url}/v1/collections/verify`;
  const f = await Valori.follow(url, { heartbeatMs: 200 });
  let want = await commands.valoriState(srv.id, 'verify');
  await reached(f, want);
  await f.pause();
  const h = f.status().height;
  await commands.valoriWorkload(srv.id, { collection: 'verify', seed: 58, rounds: 1, create: false });
  const good = await f.nextRecord();
  expect(good).toBeInstanceOf(Uint8Array);
  expect(await f.verify(good)).toMatchObject({ ok: true, height: h + 1 });
  const bad = good.slice();
  bad[bad.length - 1] ^= 1;
  new DataView(bad.buffer).setUint32(4, crc32c(bad.subarray(0, 4), bad.subarray(8)), true);
  expect(await f.verify(bad)).toMatchObject({ ok: false, code: 'EDIVERGED', reason: 'chain', height: h + 1 });
  expect(f.status().height).toBe(h);
  await f.resume();
  want = await commands.valoriState(srv.id, 'verify');
  await reached(f, want);
  await f.close();
});
