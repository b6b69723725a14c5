// Group commit and background snapshots through HTTP: 64 concurrent single-record writers are all
// acknowledged durable with fewer fsyncs than writes (valori_commit_begin/sync/end shared), every
// acknowledged id is on disk after a kill -9, and --snapshot-every makes snapshots in the background
// while writes go on.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { request, runValori, startServer, stopServer, tmpDir } from './helpers.js';

const metric = (text, name) => Number(new RegExp(`\\n${name} (\\S+)\\n`).exec(text)[1]);

describe('durability', () => {
  it('concurrent writers share fsyncs; snapshots run in the background; acknowledged means on disk', async () => {
    const dir = tmpDir('durable');
    const data = path.join(dir, 'db');
    try {
      let srv = await startServer(['--data', data, '--snapshot-every', '25', '--threads', '4']);
      expect((await request(srv, 'POST', '/v1/collections', { body: { name: 'gc', dim: 2 } })).status).toBe(201);
      const m0 = (await request(srv, 'GET', '/metrics')).text;
      const W = 64;
      const res = await Promise.all(Array.from({ length: W }, (_, i) => request(srv, 'POST', '/v1/collections/gc/records', { body: { vector: [i, -i], tag: i } })));
      for (const r of res) expect(r.status, r.text).toBe(201);
      const ids = res.map((r) => r.json.id);
      expect(new Set(ids).size).toBe(W);
      const heights = res.map((r) => r.json.height).sort((a, b) => a - b);
      expect(heights).toEqual(Array.from({ length: W }, (_, i) => i + 1));
      const m1 = (await request(srv, 'GET', '/metrics')).text;
      const fsyncs = metric(m1, 'valori_fsync_duration_seconds_count') - metric(m0, 'valori_fsync_duration_seconds_count');
      const events = metric(m1, 'valori_events_committed_total') - metric(m0, 'valori_events_committed_total');
      expect(events).toBe(W);
      expect(fsyncs).toBeGreaterThan(0);
      expect(fsyncs).toBeLessThan(W); // group commit: writes shared fsyncs
      console.log(`group commit: ${W} concurrent durable writes, ${fsyncs} fsyncs`);
      let st;
      for (let k = 0; k < 100; k++) {
        st = (await request(srv, 'GET', '/v1/collections/gc/state')).json;
        if (st.snapshot_height >= 25) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(st.snapshot_height).toBeGreaterThanOrEqual(25); // a background snapshot once 25 events were durable
      expect(st.durable_height).toBe(W);
      expect(metric(m1, 'valori_snapshots_total\\{result="error"\\}')).toBe(0);
      srv.child.kill('SIGKILL');
      await srv.exitPromise;
      const v = runValori(['verify', path.join(data, 'gc')]);
      expect(v.code, v.out + v.err).toBe(0);
      srv = await startServer(['--data', data]);
      for (const id of ids) expect((await request(srv, 'GET', `/v1/collections/gc/records/${id}`)).status).toBe(200);
      expect(srv.out).toMatch(/collection gc: records 64, height 64, root [0-9a-f]{64} \(snapshot ([2-6]\d) \+ \d+ log records\)/);
      expect((await stopServer(srv)).code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
