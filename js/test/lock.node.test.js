// lock.node.test.js: one single-writer lock across hosts (docs/STORAGE.md, "Single writer"; issue 11
// defects 1 and 2). The Node backend and the native POSIX VFS take the same flock(2) lock on
// <dir>/LOCK, so:
//   - a native writer (tests/lock/lock_writer.c, built by the native build into build/tests/) and a
//     Node writer on one directory, in both orders: the second gets ELOCKED, and after both are done
//     every acknowledged write is present and `valori verify` passes;
//   - several Node processes racing for one store many times never hold it at the same time;
//   - kill -9 of the holding Node process releases the lock at once (the kernel drops it with the
//     process's descriptors: no retry needed);
//   - a Node process that never closes its store still exits by itself (nothing keeps the event
//     loop alive), and a second open in the same process is ELOCKED;
//   - the lock is held on the Node process's own descriptor: no helper process stays behind, and
//     close() frees the lock before it resolves.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Valori } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = process.env.VALORI_BUILD_DIR || path.join(REPO, 'build');
const LOCK_WRITER = path.join(BUILD, 'tests', 'lock_writer');
const VALORI_CLI = path.join(BUILD, 'native', 'valori');
const RACER = fileURLToPath(new URL('./fixtures/lock-racer.mjs', import.meta.url));
const HOLDER = fileURLToPath(new URL('./fixtures/lock-holder.mjs', import.meta.url));
const LOCKED_EXIT = 75; // lock_writer's exit code for ELOCKED
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-lock-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function needNative() {
  for (const f of [LOCK_WRITER, VALORI_CLI]) {
    if (!fs.existsSync(f)) {
      throw new Error(`${f} is missing: build the native tree first (cmake -S . -B build && cmake --build build; ` +
        'scripts/test.sh does this before npm test), or set VALORI_BUILD_DIR');
    }
  }
}

/** Runs a program to its end; resolves { code, signal, out, err }. Bounded by `ms`. */
function run(cmd, args, { ms = 60_000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${cmd} timed out: ${out} ${err}`)); }, ms);
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => { clearTimeout(t); reject(e); });
    child.on('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, out, err }); });
    if (input !== undefined) child.stdin.end(input); else child.stdin.end();
  });
}

/** Starts a program and resolves once a stdout line matches `re` (the child keeps running). */
function startUntil(cmd, args, re, ms = 30_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal, out, err })));
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no ${re} from ${cmd}: ${out} ${err}`)); }, ms);
    child.stdout.on('data', (d) => {
      out += d;
      if (re.test(out)) { clearTimeout(t); resolve({ child, exited, output: () => out }); }
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => { clearTimeout(t); reject(new Error(`${cmd} exited (${code}) before ${re}: ${out} ${err}`)); });
  });
}

async function codeOf(p) {
  try { await p; } catch (e) { return e.code || String(e); }
  return 'resolved';
}

/** The live child processes of pid: [{ pid, comm }] (from /proc). */
function childrenOf(pid) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let st;
    try { st = fs.readFileSync(`/proc/${name}/stat`, 'latin1'); } catch { continue; }
    const close = st.lastIndexOf(')');
    const [state, ppid] = st.slice(close + 2).split(' ');
    if (Number(ppid) === pid && state !== 'Z') out.push({ pid: Number(name), comm: st.slice(st.indexOf('(') + 1, close) });
  }
  return out;
}

const acks = (out) => out.split('\n').filter((l) => l.startsWith('ack ')).length;
const vec = (i) => new Float32Array([(i % 1000) / 8, 1 / 8, 2 / 8, 3 / 8]);

/** Every record 1..n is present with the tag its writer gave it; then `valori verify` passes. */
async function checkStore(dir, expectTags) {
  const db = await Valori.open({ path: dir });
  try {
    const st = await db.stats();
    expect(st.records).toBe(expectTags.length);
    for (let i = 0; i < expectTags.length; i++) {
      const r = await db.get(i + 1);
      expect(r && r.tag).toBe(BigInt(expectTags[i]));
    }
    await db.check();
  } finally {
    await db.close();
  }
  const v = await run(VALORI_CLI, ['verify', dir]);
  expect(v.code, v.out + v.err).toBe(0);
}

describe('one writer across native and Node (flock on <dir>/LOCK)', () => {
  it('a native writer holds the store: Node gets ELOCKED; afterwards every acknowledged write is there', async () => {
    needNative();
    const dir = path.join(root, 'native-first');
    const w = await startUntil(LOCK_WRITER, [dir, '300', '1000', 'hold'], /holding\n/);
    expect(await codeOf(Valori.open({ path: dir, dim: 4 }))).toBe('ELOCKED');
    expect(await codeOf(Valori.open({ path: dir }))).toBe('ELOCKED');
    w.child.stdin.end();
    const done = await w.exited;
    expect(done.code).toBe(0);
    expect(acks(done.out)).toBe(300);
    const db = await Valori.open({ path: dir });
    const ids = [];
    try {
      const ps = [];
      for (let i = 0; i < 1000; i++) ps.push(db.insert(vec(i), { tag: 5000 + i }));
      ids.push(...(await Promise.all(ps)));
    } finally {
      await db.close();
    }
    expect(ids[0]).toBe(301n);
    await checkStore(dir, [...Array.from({ length: 300 }, (_, i) => 1000 + i), ...Array.from({ length: 1000 }, (_, i) => 5000 + i)]);
  });

  it('a Node writer holds the store: the native writer gets ELOCKED; afterwards every acknowledged write is there', async () => {
    needNative();
    const dir = path.join(root, 'node-first');
    const db = await Valori.open({ path: dir, dim: 4 });
    try {
      const ps = [];
      for (let i = 0; i < 500; i++) ps.push(db.insert(vec(i), { tag: 7000 + i }));
      const first = run(LOCK_WRITER, [dir, '200', '1']); // races the Node writes
      await Promise.all(ps);
      const r = await first;
      expect(r.out).toMatch(/open ELOCKED/);
      expect(r.code).toBe(LOCKED_EXIT);
      for (let i = 500; i < 1000; i++) await db.insert(vec(i), { tag: 7000 + i }).then(() => undefined);
      const again = await run(LOCK_WRITER, [dir, '10', '1']);
      expect(again.code).toBe(LOCKED_EXIT);
    } finally {
      await db.close();
    }
    const after = await run(LOCK_WRITER, [dir, '200', '9000']);
    expect(after.code, after.out).toBe(0);
    expect(acks(after.out)).toBe(200);
    await checkStore(dir, [...Array.from({ length: 1000 }, (_, i) => 7000 + i), ...Array.from({ length: 200 }, (_, i) => 9000 + i)]);
  });
});

describe('the Node lock', () => {
  it('admits one holder at a time among racing processes (bounded rounds)', async () => {
    const dir = path.join(root, 'race');
    const marks = path.join(root, 'race-marks');
    fs.mkdirSync(marks, { recursive: true });
    const procs = 4, attempts = Number(process.env.VALORI_LOCK_RACE_ATTEMPTS || 40);
    const startAt = Date.now() + 2000; // every racer has loaded the package by then
    const results = await Promise.all(Array.from({ length: procs }, (_, i) =>
      run(process.execPath, [RACER, dir, marks, String(attempts), String(i), String(startAt)], { ms: 120_000 })));
    let held = 0, locked = 0;
    for (const r of results) {
      expect(r.code, r.out + r.err).toBe(0);
      const m = /held (\d+) locked (\d+) double (\d+)/.exec(r.out);
      expect(m, r.out + r.err).not.toBeNull();
      held += Number(m[1]);
      locked += Number(m[2]);
      expect(Number(m[3])).toBe(0); // never two holders at once
    }
    expect(held).toBeGreaterThan(0);
    expect(locked).toBeGreaterThan(0); // they did collide
    expect(held + locked).toBe(procs * attempts);
    // every holder wrote one record: the store has exactly one per successful hold
    const db = await Valori.open({ path: dir });
    try {
      expect((await db.stats()).records).toBe(held);
      await db.check();
    } finally {
      await db.close();
    }
  });

  it('is released the moment the holding process is killed with SIGKILL', async () => {
    needNative();
    const dir = path.join(root, 'kill');
    for (let t = 0; t < 3; t++) {
      const h = await startUntil(process.execPath, [HOLDER, dir], /holding\n/);
      expect(await codeOf(Valori.open({ path: dir }))).toBe('ELOCKED');
      const n = await run(LOCK_WRITER, [dir, '1', '1']);
      expect(n.code).toBe(LOCKED_EXIT);
      h.child.kill('SIGKILL');
      await h.exited;
      // The kernel closed the dead process's descriptors, and with them released the lock, before
      // its death was reported: the next open succeeds without waiting.
      const db = await Valori.open({ path: dir });
      expect((await db.stats()).records).toBe(t + 1);
      await db.close();
    }
    const h = await startUntil(process.execPath, [HOLDER, dir], /holding\n/);
    h.child.kill('SIGKILL');
    await h.exited;
    const n = await run(LOCK_WRITER, [dir, '5', '1']);
    expect(n.code, n.out).toBe(0);
  });

  it('does not keep a process alive that never closes its store, and refuses a second open in the same process', async () => {
    const dir = path.join(root, 'noclose');
    const r = await run(process.execPath, [HOLDER, dir, 'exit'], { ms: 20_000 });
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/second ELOCKED/);
    expect(r.out).toMatch(/holding/);
    const db = await Valori.open({ path: dir });
    expect((await db.stats()).records).toBe(1);
    await db.close();
  });

  it('holds the lock on its own descriptor: no helper process stays, and close() frees it', async () => {
    needNative();
    const dir = path.join(root, 'own-fd');
    const db = await Valori.open({ path: dir, dim: 4 });
    try {
      await db.insert(vec(1));
      expect(childrenOf(process.pid).filter((c) => c.comm === 'flock')).toEqual([]);
      expect(fs.readFileSync(path.join(dir, 'LOCK'), 'utf8')).toBe(`${process.pid} node\n`); // '<pid> <host>', informational
      const n = await run(LOCK_WRITER, [dir, '1', '1']);
      expect(n.code).toBe(LOCKED_EXIT);
    } finally {
      await db.close();
    }
    const n = await run(LOCK_WRITER, [dir, '1', '1']); // free as soon as close() resolved
    expect(n.code, n.out).toBe(0);
    expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(true); // never removed
  });
});
