// node-lock.js: the single-writer lock of a store directory, taken from Node (docs/STORAGE.md,
// "Single writer"). Every host takes the same lock: flock(LOCK_EX | LOCK_NB) on <dir>/LOCK, a file
// that is never removed; the kernel drops the lock when its holder dies, so there is never a stale
// lock to take over, and a second open, in this process or any other, gets ELOCKED.
//
// Node has no flock(2), so it borrows util-linux flock(1) for the one system call:
//
//   fd = open(<dir>/LOCK, O_RDWR | O_CREAT | O_CLOEXEC)          in Node
//   flock --nonblock --conflict-exit-code 75 3                    a child whose fd 3 is that fd
//
// flock(2) locks belong to the open file description, which the child's fd 3 shares with Node's fd.
// The child takes the lock and exits at once (or exits 75 if another description holds it); the lock
// stays held through Node's own descriptor. So the lock lives exactly as long as that descriptor:
// close() releases it at once, and if Node dies (kill -9 included) the kernel closes it and the lock
// is free before anyone can see the process gone. No helper process outlives acquire(), nothing
// keeps the event loop alive, and nothing but this module closing the descriptor can drop the lock
// while the store is open. (The descriptor is close-on-exec, so processes Node starts later never
// inherit it.) "<pid> node" is written into LOCK, as the native VFS writes "<pid> native", for
// people reading the directory; it plays no part in locking.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const CONFLICT = 75;
const START_MS = 10_000;

/** A failure as { name: result code name, detail, cause } for the backend to map. */
function failure(name, detail, cause) {
  return { lockFailure: true, name, detail, cause };
}

export function isLockFailure(e) { return !!e && e.lockFailure === true; }

export class StoreLock {
  /**
   * Takes the lock on <dir>/LOCK. Resolves with the held lock; rejects with a failure object:
   * ELOCKED when another open file description (this process or another, native or Node) holds
   * it, EIO when flock(1) is missing or fails; a failed open of LOCK rejects with the fs error.
   */
  static async acquire(dir) {
    const file = path.join(dir, 'LOCK');
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    try {
      await flockChild(fd, file);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    const lock = new StoreLock(fd, file);
    try {
      const pid = Buffer.from(`${process.pid} node\n`);
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, pid, 0, pid.length, 0);
    } catch { /* the pid is for people reading the directory */ }
    return lock;
  }

  constructor(fd, file) {
    this.fd = fd;
    this.file = file;
  }

  get held() { return this.fd >= 0; }

  /** Releases the lock (closes the descriptor); it is free when this returns. Idempotent. */
  release() {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    fs.closeSync(fd);
  }
}

/** Runs `flock --nonblock 3` on fd; resolves when the lock is taken. */
function flockChild(fd, file) {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn('flock', ['--nonblock', '--conflict-exit-code', String(CONFLICT), '3'],
        { stdio: ['ignore', 'ignore', 'pipe', fd], env: { ...process.env, LC_ALL: 'C' } });
    } catch (e) {
      reject(failure('EIO', `cannot start flock(1): ${e.message}`, e));
      return;
    }
    let err = '', settled = false;
    const settle = (f) => { if (!settled) { settled = true; clearTimeout(timer); f(); } };
    const timer = setTimeout(() => settle(() => {
      child.kill('SIGKILL');
      reject(failure('EIO', `flock(1) did not answer for ${file} within ${START_MS} ms`));
    }), START_MS);
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => settle(() => reject(e.code === 'ENOENT'
      ? failure('EIO', "util-linux flock(1) is not on PATH; Node takes a store's lock with it (Debian: package util-linux)", e)
      : failure('EIO', `cannot run flock(1): ${e.message}`, e))));
    child.on('exit', (code, signal) => settle(() => {
      if (code === 0) resolve();
      else if (code === CONFLICT) reject(failure('ELOCKED', `${file} is held by another writer`));
      else reject(failure('EIO', `flock(1) on ${file} failed (${signal || `exit ${code}`}): ${err.trim()}`));
    }));
  });
}
