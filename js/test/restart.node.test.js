// restart.node.test.js: persistence across a Node process restart, and kill -9 of a Node process
// at random moments during durable writes (many trials). Pass: every acknowledged write is present
// after reopening, and the reopened state equals the replay of a prefix of the issued writes at
// least as long as the acknowledged one (an acknowledged state or a later one, never a mixture).
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Valori } from '../src/index.js';
import { crashOps, prefixRoot } from './workload.js';

const WRITER = fileURLToPath(new URL('./fixtures/node-writer.mjs', import.meta.url));
const UPDATER = fileURLToPath(new URL('./fixtures/update-writer.mjs', import.meta.url));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-restart-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const ops = crashOps();

/** Runs the writer; kills it with SIGKILL killAfterMs after its first ack (null: let it finish). */
function runWriter(dir, { burst = 1, limit, killAfterMs = null }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, String(burst), String(limit ?? '')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0, start = -1, out = '', err = '', timer = null;
    child.stdout.on('data', (d) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const [w, n] = line.split(' ');
        if (w === 'ack') acked = Number(n);
        if (w === 'start') start = Number(n);
        if (w === 'ack' && killAfterMs !== null && !timer) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`writer failed (${code}): ${err}`));
      else resolve({ acked, start, killed: signal === 'SIGKILL' });
    });
  });
}

describe('Node process restart', () => {
  it('keeps every write of a process that exited without close()', async () => {
    const dir = path.join(root, 'clean');
    const r = await runWriter(dir, { burst: 7, limit: 400 });
    expect(r.acked).toBe(400);
    const db = await Valori.open({ path: dir });
    try {
      expect((await db.stats()).height).toBe(400);
      expect(await db.stateRoot()).toBe(await prefixRoot(Valori, ops, 400));
    } finally {
      await db.close();
    }
    // A second process continues where the first stopped.
    const r2 = await runWriter(dir, { burst: 3, limit: 450 });
    expect(r2.start).toBe(400);
    const db2 = await Valori.open({ path: dir });
    expect(await db2.stateRoot()).toBe(await prefixRoot(Valori, ops, 450));
    await db2.close();
  });

  it('loses no acknowledged write when the process is killed (kill -9) at random moments', async () => {
    const trials = Number(process.env.VALORI_CRASH_TRIALS || 8);
    const dir = path.join(root, 'kill');
    let acked = 0;
    for (let t = 0; t < trials; t++) {
      const r = await runWriter(dir, { burst: 1 + (t % 4) * 5, killAfterMs: 5 + Math.floor(Math.random() * 120) });
      expect(r.start).toBeGreaterThanOrEqual(acked); // everything acknowledged before is still there
      acked = Math.max(acked, r.acked);
      const db = await Valori.open({ path: dir });
      try {
        const h = (await db.stats()).height;
        expect(h).toBeGreaterThanOrEqual(r.acked);
        expect(await db.stateRoot()).toBe(await prefixRoot(Valori, ops, h));
        await db.check();
        acked = h;
      } finally {
        await db.close();
      }
    }
  });

  it('never leaves half an update when the process is killed (kill -9) among multi-field updates', async () => {
    const trials = Number(process.env.VALORI_CRASH_TRIALS || 8);
    const dir = path.join(root, 'update-kill');
    let acked = 0;
    for (let t = 0; t < trials; t++) {
      const r = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [UPDATER, dir, String(1 + (t % 4) * 6)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '', err = '', last = 0, start = -1, timer = null;
        child.stdout.on('data', (d) => {
          out += d;
          for (const m of out.matchAll(/(ack|start) (\d+)\n/g)) {
            if (m[1] === 'ack') last = Number(m[2]); else start = Number(m[2]);
          }
          if (last > 0 && !timer) timer = setTimeout(() => child.kill('SIGKILL'), 5 + Math.floor(Math.random() * 150));
        });
        child.stderr.on('data', (d) => { err += d; });
        child.on('exit', (code, signal) => {
          if (timer) clearTimeout(timer);
          if (signal !== 'SIGKILL') reject(new Error(`update writer exited (${code}): ${err}`));
          else resolve({ acked: last, start });
        });
      });
      expect(r.start).toBeGreaterThanOrEqual(acked); // every acknowledged round survived the previous kill
      const db = await Valori.open({ path: dir });
      try {
        let low = Infinity;
        for (let id = 1; id <= 20; id++) {
          const rec = await db.get(id);
          const k = Number(rec.tag);
          // all three fields from the same update: never a new tag with an old vector or metadata
          expect([Array.from(rec.vector), new TextDecoder().decode(rec.meta)]).toEqual([[(k % 200) / 4, id, 0, 0], `k${k}`]);
          low = Math.min(low, k);
        }
        expect(low).toBeGreaterThanOrEqual(r.acked); // every acknowledged round is there
        await db.check();
        acked = r.acked;
      } finally {
        await db.close();
      }
    }
  });
});
