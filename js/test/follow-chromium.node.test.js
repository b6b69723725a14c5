// The npm package's follower in headless Chromium (idb://), driven from Node with playwright-core
// and Debian's Chromium: the page comes from the leader itself (`valori serve --static` over the
// repository: same origin), follows a seeded workload of every event kind into IndexedDB and
// reaches the leader's height and root; then, while the leader keeps writing, the page is reloaded
// RELOADS times at randomized moments (right after a 'height' event, plus a random delay), and
// every time the new page's follower resumes from IndexedDB (no bootstrap) at a height at least
// the last one the old page reported: a follower reports only heights it holds durable
// (docs/REPLICATION.md 10a). At the end it converges to the leader's root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { cleanup, sleep, startLeader, state, stopServer, until, workload } from '../../tests/repl/helpers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const C = 'facts';
const RELOADS = Number(process.env.VALORI_RELOADS || 12);
const MAX_DELAY_MS = 40; // a reload lands 0..MAX_DELAY_MS ms after a 'height' event
let leader, browser;

beforeAll(async () => {
  leader = await startLeader({ args: ['--static', REPO] });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  if (browser) await browser.close();
  if (leader) { await stopServer(leader); cleanup(leader.data); }
});

/** A small seeded PRNG (mulberry32): the reload moments are random but replayable from the seed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Valori.follow in Chromium (idb://)', () => {
  it('reaches the leader\'s root, streams live, and resumes at or above its last reported height after reloads mid-stream', async () => {
    await workload(leader, C, { seed: 41, rounds: 3 });
    const page = await browser.newPage();
    let heights = []; // the 'height' events of the current page
    let onHeight = null;
    page.on('console', (m) => {
      const x = /^height (\d+)$/.exec(m.text());
      if (!x) return;
      heights.push(Number(x[1]));
      if (onHeight) onHeight();
    });
    const start = () => page.evaluate((u) => window.startFollower(u, 'idb://reload'), `${leader.url}/v1/collections/${C}`);
    const open = async () => {
      await page.goto(`${leader.url}/js/test/fixtures/follow-page.html`);
      await page.waitForFunction(() => window.ready === true);
      return start();
    };
    const reached = async (want) => until(async () => {
      const s = await page.evaluate(() => window.followerStatus());
      return s.height === want.height && s.root === want.root && s;
    }, `the tab to reach height ${want.height}`, 30_000);
    const first = await open();
    expect(first.bootstraps).toBe(1);
    let want = await state(leader, C);
    await reached(want);
    expect(await page.evaluate(() => window.follower.root())).toBe(want.root);

    // the leader writes until every reload is done
    let writing = true;
    const busy = (async () => {
      for (let seed = 42; writing; seed++) await workload(leader, C, { seed, rounds: 1, create: false });
    })();
    const seed = Number(process.env.VALORI_RELOAD_SEED || Date.now() % 1_000_000);
    const rand = rng(seed);
    const log = [];
    try {
      for (let i = 0; i < RELOADS; i++) {
        // wait for the next 'height' event of this page, then a random delay, then reload
        const n = heights.length;
        await until(() => heights.length > n, 'the tab to apply live records', 30_000, 5);
        const delay = Math.floor(rand() * MAX_DELAY_MS);
        if (delay) await sleep(delay);
        await page.reload();
        const reported = heights.length ? Math.max(...heights) : 0;
        heights = [];
        await page.waitForFunction(() => window.ready === true);
        const again = await start();
        log.push({ delay, reported, resumed: again.height });
        expect(again.bootstraps, `reload ${i + 1} (seed ${seed}): resumed, not bootstrapped`).toBe(0);
        expect(again.height, `reload ${i + 1} of ${RELOADS} (seed ${seed}, ${delay} ms after a height event): ` +
          `resumed at ${again.height} below the reported ${reported}; ${JSON.stringify(log)}`).toBeGreaterThanOrEqual(reported);
      }
    } finally {
      writing = false;
      await busy;
    }
    want = await state(leader, C);
    const s = await reached(want);
    expect(s.bootstraps).toBe(0);
    await sleep(100);
    expect((await page.evaluate(() => window.followerStatus())).state).toBe('live');
    await page.close();
  }, 180_000);
});
