// follow()'s onProgress option (js/README.md, "Followers"; used by the demo page's progress bar):
// the phases of a bootstrap in order, the snapshot's bytes counted up to its Content-Length, the
// calls made before follow() resolves, a re-bootstrap reported too, and a bad option refused.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Valori } from '../src/index.js';
import { cleanup, startLeader, stopServer, tmpDir, until, workload } from '../../tests/repl/helpers.js';

const C = 'facts';
let procs = [], dirs = [], followers = [];
afterEach(async () => {
  for (const f of followers) await f.close().catch(() => undefined);
  for (const p of procs) await stopServer(p);
  cleanup(...dirs);
  procs = []; dirs = []; followers = [];
});

async function leader() {
  const l = await startLeader();
  procs.push(l);
  dirs.push(l.data);
  await workload(l, C, { seed: 5, rounds: 2 });
  return l;
}

describe('follow({onProgress})', () => {
  it('reports download (bytes up to Content-Length), check and store before follow() resolves', async () => {
    const l = await leader();
    const snap = await fetch(`${l.url}/v1/collections/${C}/replication/snapshot`);
    const size = Number(snap.headers.get('content-length'));
    await snap.arrayBuffer();
    const d = tmpDir('progress');
    dirs.push(d);
    const seen = [];
    const f = await Valori.follow(`${l.url}/v1/collections/${C}`, { path: path.join(d, 'store'), onProgress: (p) => seen.push(p) });
    followers.push(f);
    const resolvedAt = seen.length;
    expect(resolvedAt).toBeGreaterThan(2);
    const phases = [...new Set(seen.map((p) => p.phase))];
    expect(phases).toEqual(['download', 'check', 'store']);
    const dl = seen.filter((p) => p.phase === 'download');
    expect(dl[0].bytes).toBe(0);
    expect(dl.at(-1)).toEqual({ phase: 'download', bytes: size, total: size });
    for (let i = 1; i < dl.length; i++) expect(dl[i].bytes).toBeGreaterThanOrEqual(dl[i - 1].bytes);
    // a re-bootstrap is reported the same way (no store phase needed to tell it: a new download)
    await until(() => f.status().state === 'live', 'live before the re-bootstrap');
    await f.rebootstrap();
    await until(() => f.status().bootstraps === 2 && f.status().state === 'live', `the re-bootstrap ${JSON.stringify(f.status())}`);
    expect(seen.slice(resolvedAt).some((p) => p.phase === 'download' && p.bytes === size)).toBe(true);
  });

  it('a memory follower has no store phase; a bad onProgress is EINVAL', async () => {
    const l = await leader();
    const seen = [];
    const f = await Valori.follow(`${l.url}/v1/collections/${C}`, { onProgress: (p) => seen.push(p.phase) });
    followers.push(f);
    expect([...new Set(seen)]).toEqual(['download', 'check']);
    await expect(Valori.follow(`${l.url}/v1/collections/${C}`, { onProgress: 5 })).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
