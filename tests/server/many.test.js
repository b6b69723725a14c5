// 1,000 collections on one server: created and written over HTTP, the server restarted, every one
// recovered (start-up lines, list, state); then the memory and file descriptors of the process with
// all 1,000 open (--max-open 1000), and the bound --max-open keeps with fewer slots (LRU closes).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { request, startServer, stopServer, tmpDir } from './helpers.js';

const N = 1000;

async function pool(n, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => { while (next < n) await fn(next++); }));
}

function usage(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
  return { rssMiB: Math.round(rss / 102.4) / 10, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

describe(`${N} collections`, () => {
  it('created, written, restarted, all recovered; memory and fds measured', async () => {
    const dir = tmpDir('many');
    const data = path.join(dir, 'db');
    try {
      let srv = await startServer(['--data', data, '--max-open', '64']);
      const name = (i) => `agent-${String(i).padStart(4, '0')}`;
      await pool(N, 16, async (i) => {
        const r = await request(srv, 'POST', '/v1/collections', { body: { name: name(i), dim: 4, index: i % 2 ? 'none' : 'hnsw' } });
        expect(r.status, r.text).toBe(201);
      });
      await pool(N, 16, async (i) => {
        const r = await request(srv, 'POST', `/v1/collections/${name(i)}/records`, { body: { vector: [i % 7, 1, 2, 3], tag: String(i) } });
        expect(r.status, r.text).toBe(201);
      });
      const bounded = usage(srv.child.pid);
      expect((await request(srv, 'GET', '/metrics')).text).toMatch(/\nvalori_collections_open 64\n/);
      expect((await stopServer(srv)).code).toBe(0);

      // while the 1,000 collections are recovered the server answers, but is not ready
      const t0 = Date.now();
      srv = await startServer(['--data', data, '--max-open', String(N)], { waitReady: false });
      const early = await request(srv, 'GET', '/readyz');
      const earlyApi = await request(srv, 'GET', '/v1/collections');
      expect(srv.out, 'recovery of 1,000 collections outlasts two requests').not.toContain('\nready: ');
      expect([early.status, early.json]).toEqual([503, { status: 'starting' }]);
      expect([earlyApi.status, earlyApi.json.error.code, earlyApi.headers['retry-after']]).toEqual([503, 'EUNAVAILABLE', '1']);
      expect((await request(srv, 'GET', '/healthz')).status).toBe(200);
      for (let k = 0; k < 2400 && !/\nready: /.test(srv.out); k++) await new Promise((r) => setTimeout(r, 100));
      const recoverMs = Date.now() - t0;
      expect(srv.out.split('\n').filter((l) => /^collection agent-\d{4}: records 1, height 1, root [0-9a-f]{64} /.test(l)).length).toBe(N);
      expect(srv.out).toContain(`ready: ${N} collections in ${data}`);
      const list = (await request(srv, 'GET', '/v1/collections?limit=10000')).json.collections;
      expect(list.length).toBe(N);
      for (const c of list) expect([c.records, c.height]).toEqual([1, 1]);
      const idle = usage(srv.child.pid);
      await pool(N, 16, async (i) => {
        const r = await request(srv, 'POST', `/v1/collections/${name(i)}/search`, { body: { vector: [0, 1, 2, 3], k: 1 } });
        expect(r.json.hits[0].tag).toBe(String(i));
      });
      const open = usage(srv.child.pid);
      expect((await request(srv, 'GET', '/metrics')).text).toMatch(new RegExp(`\\nvalori_collections_open ${N}\\n`));
      console.log(`${N} collections: ${JSON.stringify({ restart_to_ready_ms_about: recoverMs, all_open: open, none_open_after_restart: idle, max_open_64_while_writing: bounded })}`);
      expect(open.fds).toBeLessThan(N * 4 + 100); // a few descriptors per open store, nothing per closed one
      expect(bounded.fds).toBeLessThan(64 * 4 + 100);
      expect((await stopServer(srv)).code).toBe(0);
      expect(srv.out).toMatch(/stopped\n$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
