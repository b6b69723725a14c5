// A disk that fills up under the server (a 2 MiB tmpfs, mounted by the test: it needs root, which
// this project's machines and CI have). A write that cannot be stored answers 507 ENOSPC, never
// success; the collection then refuses reads and writes (503 EPOISONED) only until no request
// uses it, when the server reopens it from its log; every acknowledged batch is still there, the
// failed one is not, `valori verify` passes, and a small write fits again.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { request, runValori, startServer, stopServer, tmpDir } from './helpers.js';

describe('disk full', () => {
  it('507 ENOSPC, no phantom, reopened from the log, acknowledged batches kept', async () => {
    expect(process.getuid(), 'this test mounts a tmpfs and needs root').toBe(0);
    const dir = tmpDir('diskfull');
    const mnt = path.join(dir, 'mnt');
    fs.mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    let srv;
    try {
      srv = await startServer(['--data', path.join(mnt, 'db'), '--snapshot-every', '0']);
      expect((await request(srv, 'POST', '/v1/collections', { body: { name: 'full', dim: 256 } })).status).toBe(201);
      const acked = [];
      let failed = null;
      for (let b = 0; b < 100 && !failed; b++) {
        const records = Array.from({ length: 50 }, (_, i) => ({ vector: new Array(256).fill((b % 200) - 100 + i / 64), tag: String(b * 100 + i) }));
        const r = await request(srv, 'POST', '/v1/collections/full/records/batch', { body: { records } });
        if (r.status === 201) acked.push({ first: BigInt(r.json.first_id), b, height: r.json.height });
        else failed = r;
      }
      expect(failed, 'the 2 MiB disk filled up').not.toBe(null);
      expect(failed.status, failed.text).toBe(507);
      expect(failed.json.error.code).toBe('ENOSPC');
      expect(acked.length).toBeGreaterThan(3);
      // the failed batch is not readable, before or after the reopen
      const st = await request(srv, 'GET', '/v1/collections/full/state');
      expect(st.status, st.text).toBe(200);
      expect(st.json.height).toBe(acked.at(-1).height);
      const next = acked.at(-1).first + 50n;
      expect((await request(srv, 'GET', `/v1/collections/full/records/${next}`)).status).toBe(404);
      expect(srv.err).toContain('it is reopened from its log');
      for (const a of acked) {
        const g = await request(srv, 'GET', `/v1/collections/full/records/${a.first + 49n}`);
        expect(g.json.tag).toBe(String(a.b * 100 + 49));
      }
      expect((await stopServer(srv)).code).toBe(0);
      srv = null;
      const v = runValori(['verify', path.join(mnt, 'db', 'full')]);
      expect(v.code, v.out + v.err).toBe(0);
      // the reopen trimmed the failed batch's torn bytes, so a small write fits again
      srv = await startServer(['--data', path.join(mnt, 'db')]);
      expect((await request(srv, 'DELETE', `/v1/collections/full/records/${acked[0].first}`)).status).toBe(200);
      expect((await request(srv, 'GET', '/v1/collections/full/state')).json.height).toBe(acked.at(-1).height + 1);
    } finally {
      if (srv) await stopServer(srv);
      spawnSync('umount', [mnt]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
