// chromium.node.test.js: browser persistence driven from Node with playwright-core and Debian's
// Chromium on a persistent profile (RELIABILITY scenarios 11 and 12):
//   - a store written in one Chromium run is read back, identical, after Chromium is restarted;
//   - Chromium killed (SIGKILL) or the tab closed at random moments during durable writes, many
//     trials: every acknowledged write is present on reopen, and the state equals the replay of a
//     prefix at least as long as the acknowledged one (an acknowledged state or a later one);
//   - two tabs on one store: the second writer gets ELOCKED until the first tab is gone.
// Chromium is started by this test (--remote-debugging-port, connectOverCDP) so that it can be
// killed like a crash; pages come from a tiny static server on a fixed port for the whole file
// (IndexedDB is per origin, port included).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Valori } from '../src/index.js';
import { crashOps, prefixRoot } from './workload.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const ops = crashOps();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-chromium-'));
let server, origin;
const running = new Set();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = path.join(REPO, decodeURIComponent(url.pathname));
    if (!file.startsWith(REPO) || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${server.address().port}`;
});

afterAll(async () => {
  for (const b of running) await b.kill();
  await new Promise((r) => server.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Whether a process of group `pgid` is still running (not yet exited: zombies have released
 *  their files), read from /proc (Linux: where /usr/bin/chromium runs these tests). */
function groupRunning(pgid) {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    let st;
    try { st = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); } catch { continue; } // gone meanwhile
    const f = st.slice(st.lastIndexOf(')') + 2).split(' '); // state, ppid, pgrp, ...
    if (Number(f[2]) === pgid && f[0] !== 'Z') return true;
  }
  return false;
}

/** Waits (up to 10 s) until every process of the group has exited. A crash takes the whole
 *  browser down before it is started again: a relaunch while the killed one's storage process is
 *  still exiting would find the profile's IndexedDB files held (seen as a store reported missing). */
async function groupExited(pgid) {
  for (let i = 0; i < 200 && groupRunning(pgid); i++) await new Promise((r) => setTimeout(r, 50));
}

/** Starts Chromium on `profile`; returns { browser, context, kill, close }. */
async function launch(profile) {
  const child = spawn(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-default-browser-check',
    `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const ws = await new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`chromium did not start: ${buf}`)), 20000);
    child.stderr.on('data', (d) => {
      buf += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(buf);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    child.on('exit', () => { clearTimeout(t); reject(new Error(`chromium exited: ${buf}`)); });
  });
  child.stderr.resume();
  const browser = await chromium.connectOverCDP(ws);
  const exited = new Promise((r) => child.once('exit', r));
  const handle = {
    browser,
    context: browser.contexts()[0],
    async kill() { // a crash: SIGKILL to the whole process group
      running.delete(handle);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      await exited;
      await groupExited(child.pid);
      await browser.close().catch(() => undefined);
    },
    async close() { // a normal shutdown
      running.delete(handle);
      await browser.close().catch(() => undefined);
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      await groupExited(child.pid);
    },
  };
  running.add(handle);
  return handle;
}

async function openPage(context) {
  const page = await context.newPage();
  await page.goto(`${origin}/js/test/fixtures/page.html`);
  await page.waitForFunction(() => window.valoriReady === true);
  return page;
}

describe('Chromium persistence (playwright-core, persistent profile)', () => {
  it('keeps a store across a browser restart', async () => {
    const profile = path.join(tmp, 'restart');
    let b = await launch(profile);
    try {
      const page = await openPage(b.context);
      const first = await page.evaluate(async () => {
        const ops = window.crashOps();
        const db = await window.Valori.open({ path: 'idb://restart', dim: window.WORKLOAD_DIM });
        for (let i = 0; i < 320; i++) await window.applyOp(db, ops[i]);
        await db.checkpoint();
        for (let i = 320; i < 400; i++) await window.applyOp(db, ops[i]);
        const r = { height: (await db.stats()).height, root: await db.stateRoot() };
        await db.close();
        return r;
      });
      expect(first.height).toBe(400);
      expect(first.root).toBe(await prefixRoot(Valori, ops, 400));
      await b.close();
      b = await launch(profile);
      const again = await (await openPage(b.context)).evaluate(() => window.inspect('idb://restart'));
      expect(again).toEqual(first);
    } finally {
      await b.close();
    }
  });

  it('loses no acknowledged write when the browser is killed or the tab closed mid-write', async () => {
    const trials = Number(process.env.VALORI_BROWSER_CRASH_TRIALS || 8);
    const profile = path.join(tmp, 'crash');
    let b = await launch(profile);
    let acked = 0, height = 0;
    try {
      for (let t = 0; t < trials; t++) {
        const page = await openPage(b.context);
        let trialAcked = 0, start = -1, firstAck;
        const gotAck = new Promise((r) => { firstAck = r; });
        page.on('console', (msg) => {
          const [w, n] = msg.text().split(' ');
          if (w === 'ack') { trialAcked = Math.max(trialAcked, Number(n)); firstAck(); }
          if (w === 'start') start = Number(n);
        });
        let writerError = null;
        page.evaluate(([burst]) => window.runWriter('idb://crash', burst), [1 + (t % 4) * 6])
          .then(() => firstAck(), (e) => { writerError = writerError || e; firstAck(); });
        await gotAck;
        if (writerError && trialAcked === 0) throw writerError; // failed before writing anything
        await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 150)));
        const hard = t % 2 === 0;
        if (hard) {
          await b.kill();
          b = await launch(profile);
        } else {
          await page.close();
        }
        expect(start).toBeGreaterThanOrEqual(height); // nothing acknowledged earlier went missing
        acked = Math.max(acked, trialAcked);
        const page2 = await openPage(b.context);
        const st = await page2.evaluate(() => window.inspect('idb://crash'));
        await page2.close();
        expect(st.height).toBeGreaterThanOrEqual(acked);
        expect(st.root).toBe(await prefixRoot(Valori, ops, st.height));
        if (process.env.VALORI_TRACE) console.log(`trial ${t} ${hard ? "kill" : "close"}: start ${start} acked ${trialAcked} reopened at ${st.height}`);
        height = st.height;
        acked = height;
      }
      expect(height).toBeGreaterThan(0);
    } finally {
      await b.close();
    }
  });

  it('gives a second tab ELOCKED while the first tab holds the store', async () => {
    const b = await launch(path.join(tmp, 'tabs'));
    try {
      const a = await openPage(b.context);
      const c = await openPage(b.context);
      await a.evaluate(async () => { window.db = await window.Valori.open({ path: 'idb://tabs', dim: 2 }); await window.db.insert(new Float32Array([1, 2])); });
      const code = await c.evaluate(() => window.Valori.open({ path: 'idb://tabs', dim: 2 }).then(() => 'opened', (e) => e.code));
      expect(code).toBe('ELOCKED');
      await a.close();
      const records = await c.evaluate(async () => {
        for (let i = 0; i < 50; i++) { // the lock is released when the holder's page is gone
          try {
            const db = await window.Valori.open({ path: 'idb://tabs' });
            const n = (await db.stats()).records;
            await db.close();
            return n;
          } catch (e) {
            if (e.code !== 'ELOCKED') throw e;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        return -1;
      });
      expect(records).toBe(1);
    } finally {
      await b.close();
    }
  });
});
