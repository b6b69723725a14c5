// tests/demo/demo.test.js: the demo page (examples/demo/) in headless Chromium (playwright-core,
// Debian's /usr/bin/chromium) against a real `valori serve` on 127.0.0.1 port 0 with a fresh store,
// the page's site assembled by scripts/demo-site.sh and 300 Fashion-MNIST images (VALORI_DEMO_IMAGES)
// imported as scripts/serve.sh does (valori import --labels --graph). Checks: the follower reaches live with the leader's root; a click shows 10 hits
// equal to the server's (and to a search made here, in Node); a drawn image added to the leader
// shows up in the follower with equal roots at the new height; the scratch copy and the verifier;
// a reload resumes from IndexedDB (no bootstrap); a second tab is a reader (ELOCKED) that follows once the first tab closes; offline, the
// local search answers; with the
// server stopped the local search still answers and after its restart the follower is live again;
// a missing collection and a server with tokens get a notice saying what to do (/#token=...);
// through tests/repl/proxy.js changing one byte of the stream the page shows `diverged`,
// and its re-bootstrap button brings it back to live with the leader's root.
// Saves a screenshot to build/demo/screenshot.png (VALORI_DEMO_SCREENSHOT=FILE: there instead).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium } from 'playwright-core';
import { ROOT, runValori, startServer, stopServer, tmpDir } from '../server/helpers.js';
import { ReplProxy } from '../repl/proxy.js';
import { Valori } from '../../js/src/index.js';

const IMAGES = Number(process.env.VALORI_DEMO_IMAGES || 300);
const FMNIST = '/usr/share/datasets/fashion-mnist';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dir, site, srv, browser, context, page, port, proxy, serveArgs;
const collUrl = () => `${srv.url}/v1/collections/fashion`;
const demo = (p, expr) => p.evaluate(expr);
const waitDemo = (p, fn, arg, timeout = 30_000) => p.waitForFunction(`window.valoriDemo && (${fn})(${JSON.stringify(arg)})`, undefined, { timeout, polling: 50 });

async function leaderPos(url = srv.url) {
  const r = await fetch(`${url}/v1/collections/fashion/replication`);
  return r.json();
}

beforeAll(async () => {
  dir = tmpDir('demo');
  site = path.join(dir, 'site');
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/demo-site.sh'), site], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`demo-site.sh failed: ${r.stderr}`);
  // the data as scripts/serve.sh imports it on a first start (docs/IMPORT.md: classes, graph)
  const imp = runValori(['import', `${FMNIST}/train-images-idx3-ubyte.gz`, '--labels', `${FMNIST}/train-labels-idx1-ubyte.gz`,
    '--data', path.join(dir, 'db'), '--collection', 'fashion', '--limit', String(IMAGES), '--graph', '-q']);
  if (imp.code !== 0) throw new Error(`valori import failed (${imp.code}): ${imp.err}`);
  // The proxy's page calls the proxy (its origin) while the proxy sends the server's own Host, so
  // the server must allow that origin (--cors-origin).
  proxy = new ReplProxy({ upstream: 'http://127.0.0.1:1' });
  await proxy.start();
  serveArgs = ['--data', path.join(dir, 'db'), '--static', site, '--heartbeat-ms', '200', '--cors-origin', proxy.url];
  srv = await startServer(serveArgs);
  port = srv.port;
  proxy.setUpstream(srv.url);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

afterAll(async () => {
  try { if (browser) await browser.close(); if (proxy) await proxy.close(); } finally {
    if (srv) await stopServer(srv, 'SIGKILL');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
});

describe('demo page', () => {
  test('follows the leader to live with equal roots', async () => {
    await page.goto(srv.url + '/');
    await waitDemo(page, () => window.valoriDemo.match && window.valoriDemo.status.state === 'live');
    const d = await demo(page, () => ({ b: window.valoriDemo.bootstrapped, st: window.valoriDemo.status, errors: window.valoriDemo.errors,
      phases: window.valoriDemo.bootPhases, dl: window.valoriDemo.download }));
    const ld = await leaderPos();
    expect(d.errors).toEqual([]);
    expect(d.b).toBe(true);
    // the bootstrap's progress: the snapshot downloaded whole (as many bytes as Content-Length), checked, stored
    expect(d.phases).toEqual(['download', 'check', 'store']);
    expect(d.dl.bytes).toBeGreaterThan(IMAGES * 784 * 4);
    expect(d.dl.total).toBe(d.dl.bytes);
    expect(d.st.height).toBe(ld.height);
    expect(d.st.root).toBe(ld.root);
    expect(await page.textContent('#match')).toContain(`roots equal at height ${ld.height}`);
    await waitDemo(page, () => document.querySelectorAll('#gallery canvas').length >= 20);
  });

  test('a click shows 10 hits, the same in the browser, on the server and from Node', async () => {
    const id = Number(await page.getAttribute('#gallery canvas:nth-child(3)', 'data-id'));
    await page.click('#gallery canvas:nth-child(3)');
    await waitDemo(page, (x) => window.valoriDemo.lastSearch && window.valoriDemo.lastSearch.record === String(x), id);
    const s = await demo(page, () => window.valoriDemo.lastSearch);
    expect(s.local).toHaveLength(10);
    expect(s.identical).toBe(true);
    expect(s.server).toEqual(s.local);
    expect(s.local[0]).toEqual([String(id), '0']);
    const db = await Valori.connect(collUrl());
    try {
      const v = (await db.get(BigInt(id))).vector;
      const hits = await db.search(v, { k: 10, ef: 64, mode: 'hnsw' });
      expect(hits.map((h) => [String(h.id), String(h.distanceRaw)])).toEqual(s.local);
    } finally { await db.close(); }
    expect(await page.locator('#local-hits li').count()).toBe(10);
    expect(await page.textContent('#verdict')).toContain('identical');
    await waitDemo(page, () => window.valoriDemo.lastGraph && window.valoriDemo.lastGraph.classes.length > 0);
  });

  test('class filter, exact mode and ef: still identical, every hit of the class', async () => {
    await page.selectOption('#filter-class', '3');
    await page.selectOption('#mode', 'exact');
    await waitDemo(page, () => window.valoriDemo.lastSearch && window.valoriDemo.lastSearch.options.mode === 'exact');
    const s = await demo(page, () => window.valoriDemo.lastSearch);
    expect(s.options.tags).toEqual(['3']);
    expect(s.identical).toBe(true);
    expect(s.local).toHaveLength(10);
    const db = await Valori.connect(collUrl());
    try {
      for (const [id] of s.local) expect((await db.get(BigInt(id))).tag).toBe(3n);
    } finally { await db.close(); }
    await page.selectOption('#mode', 'hnsw');
    await page.fill('#ef', '20');
    await page.dispatchEvent('#ef', 'change');
    await waitDemo(page, () => window.valoriDemo.lastSearch.options.ef === 20 && window.valoriDemo.lastSearch.options.mode === 'hnsw');
    expect((await demo(page, () => window.valoriDemo.lastSearch)).identical).toBe(true);
    await page.selectOption('#filter-class', '');
    await page.fill('#ef', '64');
    await page.dispatchEvent('#ef', 'change');
    await waitDemo(page, () => window.valoriDemo.lastSearch.options.ef === 64 && !window.valoriDemo.lastSearch.options.tags);
  });

  test('a drawn image added to the leader shows up in the follower, roots equal at the new height', async () => {
    const box = await page.locator('#pad').boundingBox();
    await page.mouse.move(box.x + 60, box.y + 40);
    await page.mouse.down();
    for (let i = 0; i <= 20; i++) await page.mouse.move(box.x + 60 + i * 5, box.y + 40 + i * 7);
    await page.mouse.up();
    await page.selectOption('#pad-class', '7');
    const before = await leaderPos();
    await page.click('#pad-add');
    await waitDemo(page, () => window.valoriDemo.lastAdd);
    const a = await demo(page, () => window.valoriDemo.lastAdd);
    expect(a.height).toBe(before.height + 3); // the record, its node, its edge to the class node
    expect(a.followerHeight).toBe(a.height);
    expect(a.equal).toBe(true);
    expect(a.link).not.toBeNull();
    const db = await Valori.connect(collUrl());
    try {
      const rec = await db.get(BigInt(a.id));
      expect(rec.tag).toBe(7n);
      expect(rec.vector.some((x) => x > 0)).toBe(true);
      expect(String(await db.nodeOfRecord(BigInt(a.id)))).toBe(a.link.node);
    } finally { await db.close(); }
    expect(await page.textContent('#add-result')).toContain('roots equal');
  });

  test('scratch copy: one value moves the root; the verifier refuses a changed byte and names the height', async () => {
    await page.click('#scratch-run');
    await waitDemo(page, () => window.valoriDemo.scratch);
    const s = await demo(page, () => window.valoriDemo.scratch);
    expect(s.copyRoot).toBe(s.followerRoot);
    expect(s.changedRoot).not.toBe(s.copyRoot);
    expect(s.restoredRoot).toBe(s.copyRoot);
    await page.click('#tamper-run');
    await waitDemo(page, () => window.valoriDemo.tamper);
    const t = await demo(page, () => window.valoriDemo.tamper);
    const h = t.heightBefore + 1;
    expect(t.results[0]).toMatchObject({ ok: true, height: h });
    expect(t.results[1]).toMatchObject({ ok: false, height: h, code: 'EDIVERGED', reason: 'chain' });
    expect(t.results[2]).toMatchObject({ ok: false, height: h, code: 'EDIVERGED', reason: 'root' });
    expect(t.heightAfter).toBe(t.heightBefore);
    expect(t.rootAfter).toBe(t.rootBefore);
    expect(await page.textContent('#tamper-out')).toContain(`REFUSED at height ${h}`);
    // the leader's real next record (the follower paused meanwhile), as it came and with one byte changed
    await page.click('#next-run');
    await waitDemo(page, () => window.valoriDemo.next);
    const n = await demo(page, () => window.valoriDemo.next);
    const nh = n.heightBefore + 1;
    expect(n.ackHeight).toBe(nh);
    expect(n.results[0]).toMatchObject({ ok: true, height: nh, root: n.ackRoot });
    expect(n.results[1]).toMatchObject({ ok: false, code: 'ECORRUPT' }); // the record's own CRC
    expect(n.results[2]).toMatchObject({ ok: false, height: nh, code: 'EDIVERGED', reason: 'chain' });
    expect(n.heightAfter).toBe(nh);
    expect(n.rootAfter).toBe(n.ackRoot);
    expect(n.rootAfter).toBe((await leaderPos()).root);
    const shot = process.env.VALORI_DEMO_SCREENSHOT || path.join(ROOT, 'build/demo/screenshot.png');
    fs.mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
  });

  test('a reload resumes from IndexedDB without a bootstrap', async () => {
    const h = (await leaderPos()).height;
    await page.reload();
    await waitDemo(page, () => window.valoriDemo.match && window.valoriDemo.status.state === 'live');
    const d = await demo(page, () => ({ b: window.valoriDemo.bootstrapped, r: window.valoriDemo.resumedHeight, st: window.valoriDemo.status }));
    expect(d.b).toBe(false);
    expect(d.r).toBe(h);
    expect(d.st.height).toBe(h);
  });

  test('a second tab is a reader of the same copy, says why, and follows once the first tab closes', async () => {
    const p2 = await context.newPage();
    p2.on('pageerror', (e) => console.error('page error:', e.message));
    await p2.goto(srv.url + '/');
    await waitDemo(p2, () => window.valoriDemo.role === 'reader' && window.valoriDemo.status);
    expect(await p2.textContent('#notice')).toContain('ELOCKED');
    const st = await demo(p2, () => window.valoriDemo.status);
    expect(st.root).toBe((await leaderPos()).root);
    await page.close();
    page = p2; // the later tests go on with this tab
    await waitDemo(page, () => window.valoriDemo.role === 'follower' && window.valoriDemo.match && window.valoriDemo.status.state === 'live');
    expect(await demo(page, () => window.valoriDemo.bootstrapped)).toBe(false);
    await waitDemo(page, () => document.querySelectorAll('#gallery canvas').length >= 20);
  });

  test('offline: the local copy still answers; back online: live again', async () => {
    await context.setOffline(true);
    try {
      await waitDemo(page, () => window.valoriDemo.leader && window.valoriDemo.leader.error);
      await page.click('#gallery canvas:nth-child(4)');
      await waitDemo(page, () => window.valoriDemo.lastSearch && window.valoriDemo.lastSearch.server === null);
      const s = await demo(page, () => window.valoriDemo.lastSearch);
      expect(s.local).toHaveLength(10);
      expect(await page.textContent('#verdict')).toContain('local copy');
    } finally { await context.setOffline(false); }
    await waitDemo(page, () => window.valoriDemo.match && window.valoriDemo.status.state === 'live' && !window.valoriDemo.leader.error);
  });

  test('server stopped: the local search answers; restarted: the follower is live again', async () => {
    await stopServer(srv);
    await waitDemo(page, () => window.valoriDemo.leader && window.valoriDemo.leader.error);
    await page.click('#gallery canvas:nth-child(5)');
    await waitDemo(page, () => window.valoriDemo.lastSearch && window.valoriDemo.lastSearch.server === null);
    expect((await demo(page, () => window.valoriDemo.lastSearch)).local).toHaveLength(10);
    srv = await startServer(serveArgs, { noListen: true, env: { VALORI_LISTEN: `127.0.0.1:${port}` } });
    const db = await Valori.connect(collUrl());
    try { await db.insert(new Float32Array(784).fill(3), { tag: 1n }); } finally { await db.close(); }
    const ld = await leaderPos();
    await waitDemo(page, (h) => window.valoriDemo.match && window.valoriDemo.status.height === h, ld.height, 30_000);
  });

  test('a missing collection and a server with tokens: the page says what to do', async () => {
    const ctx3 = await browser.newContext();
    const tdir = tmpDir('demo-tokens');
    fs.writeFileSync(path.join(tdir, 'tokens'), 'read demo-read-token-0001\nwrite demo-write-token-0001\n');
    const t = await startServer(['--data', path.join(tdir, 'db'), '--static', site, '--token-file', path.join(tdir, 'tokens')]);
    try {
      const p4 = await ctx3.newPage();
      await p4.goto(srv.url + '/?collection=nothing');
      await waitDemo(p4, () => document.getElementById('notice').textContent.includes("no collection 'nothing'"));
      await p4.goto(t.url + '/');
      await waitDemo(p4, () => document.getElementById('notice').textContent.includes('#token='));
      await p4.goto(t.url + '/#token=demo-read-token-0001');
      await p4.reload();
      await waitDemo(p4, () => document.getElementById('notice').textContent.includes("no collection 'fashion'"));
    } finally {
      await ctx3.close();
      await stopServer(t);
      fs.rmSync(tdir, { recursive: true, force: true });
    }
  });

  test('through a proxy that changes one byte of the stream the page shows diverged; re-bootstrap recovers', async () => {
    const ctx2 = await browser.newContext();
    try {
      const p3 = await ctx2.newPage();
      await p3.goto(proxy.url + '/');
      await waitDemo(p3, () => window.valoriDemo.match && window.valoriDemo.status.state === 'live');
      const h = (await leaderPos()).height;
      proxy.setFault({ kind: 'flip-event', height: h + 1, chain: false });
      const db = await Valori.connect(collUrl());
      try { await db.insert(new Float32Array(784).fill(5), { tag: 2n }); } finally { await db.close(); }
      await waitDemo(p3, () => window.valoriDemo.status && window.valoriDemo.status.state === 'diverged');
      const st = await demo(p3, () => window.valoriDemo.status);
      expect(st.diverged.height).toBe(h + 1);
      expect(st.height).toBe(h);
      expect(await p3.textContent('#match')).toContain(`diverged at height ${h + 1}`);
      // the way out: re-bootstrap on request (the proxy passes everything again)
      await p3.click('#rebootstrap');
      const ld = await leaderPos();
      await waitDemo(p3, (x) => window.valoriDemo.match && window.valoriDemo.status.state === 'live' && window.valoriDemo.status.height === x, ld.height);
      expect(await demo(p3, () => window.valoriDemo.status.bootstraps)).toBe(2);
    } finally {
      await ctx2.close();
    }
  });
});
