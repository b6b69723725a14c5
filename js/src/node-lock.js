// node-lock.js: the single-writer lock of a store directory, taken from Node (docs/STORAGE.md,
// "Single writer"). Every host takes the same lock: flock(LOCK_EX | LOCK_NB) on <dir>/LOCK, a file
// that is never removed; the kernel drops the lock when its holder dies, so there is no stale lock
// to take over. Node has no flock(2), so the lock is held by a child process, util-linux flock(1):
//
//   flock --nonblock --close --conflict-exit-code 75 <dir>/LOCK sh -c 'echo locked; exec cat >/dev/null'
//
// flock(1) takes the lock (or exits 75 at once if another process holds it), then runs the shell,
// which reports "locked" and waits on its stdin: a pipe whose only writer is this Node process.
// When Node closes it (release()) or dies (kill -9 included), cat sees end of file and exits, flock(1)
// exits with it and the kernel releases the lock. With --close only flock(1) itself holds the lock
// file descriptor, so the lock lives exactly as long as the process this module watches.
//
// The child does not keep Node's event loop alive (process and pipes are unref'd) until release(),
// which waits for it to exit so that the lock is free when close() resolves. If the child dies while
// the store is open (someone killed it), the lock is gone: `problem()` says so from then on (the
// exit event, and before each write batch a synchronous look at /proc/<pid>/stat, which sees the
// dead child before Node has reaped it) and the database refuses every further write.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const CONFLICT = 75;
const START_MS = 10_000;
const RELEASE_MS = 5_000;
const HAVE_PROC = (() => { try { return fs.existsSync('/proc/self/stat'); } catch { return false; } })();

/** A failure as { name: result code name, detail, cause } for the backend to map. */
function failure(name, detail, cause) {
  return { lockFailure: true, name, detail, cause };
}

export class StoreLock {
  /**
   * Takes the lock on <dir>/LOCK. Resolves with the held lock; rejects with a failure object:
   * ELOCKED when another process (or another open in this one) holds it, EIO when flock(1) is
   * missing or fails.
   */
  static acquire(dir) {
    const file = path.join(dir, 'LOCK');
    return new Promise((resolve, reject) => {
      let child;
      try {
        child = spawn('flock', ['--nonblock', '--close', '--conflict-exit-code', String(CONFLICT), file,
          'sh', '-c', 'echo locked; exec cat >/dev/null'],
        { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
      } catch (e) {
        reject(failure('EIO', `cannot start flock(1): ${e.message}`, e));
        return;
      }
      let out = '', err = '', settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        child.kill('SIGKILL');
        reject(failure('EIO', `flock(1) did not report the lock on ${file} within ${START_MS} ms`));
      }, START_MS);
      child.stdin.on('error', () => undefined); // EPIPE once the child is gone: its exit is reported instead
      child.on('error', (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e.code === 'ENOENT'
          ? failure('EIO', 'util-linux flock(1) is not on PATH; Node holds a store\'s lock through it (Debian package util-linux)', e)
          : failure('EIO', `cannot run flock(1): ${e.message}`, e));
      });
      child.stderr.on('data', (d) => { err += d; });
      child.stdout.on('data', (d) => {
        out += d;
        if (settled || !out.includes('locked\n')) return;
        settled = true;
        clearTimeout(timer);
        resolve(new StoreLock(child, file));
      });
      child.on('exit', (code, signal) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (code === CONFLICT) reject(failure('ELOCKED', `${file} is held by another writer`));
        else reject(failure('EIO', `flock(1) on ${file} failed (${signal || `exit ${code}`}): ${err.trim()}`));
      });
    });
  }

  constructor(child, file) {
    this.child = child;
    this.file = file;
    this.pid = child.pid;
    this.lost = null;
    this.released = false;
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.once('exit', (code, signal) => {
      if (!this.released) this.lost = `its holder (flock(1), pid ${this.pid}) exited (${signal || `exit ${code}`})`;
    });
    child.stdout.destroy();
    child.stderr.destroy();
    child.unref();
    child.stdin.unref();
    try { fs.writeFileSync(file, `${process.pid}\n`); } catch { /* the pid is for people reading the directory */ }
  }

  /** null while the lock is held; otherwise why it is not (synchronous, cheap: one small read). */
  problem() {
    if (this.released) return `the lock on ${this.file} was released`;
    if (this.lost) return `lost the lock on ${this.file}: ${this.lost}`;
    if (HAVE_PROC) {
      let state = '';
      try {
        const st = fs.readFileSync(`/proc/${this.pid}/stat`, 'latin1');
        state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
      } catch {
        state = 'gone';
      }
      if (state === 'Z' || state === 'X' || state === 'gone') {
        this.lost = `its holder (flock(1), pid ${this.pid}) died`;
        return `lost the lock on ${this.file}: ${this.lost}`;
      }
    }
    return null;
  }

  /** Releases the lock and resolves once it is free (the holder exited). Idempotent. */
  async release() {
    if (!this.released) {
      this.released = true;
      this.child.ref(); // keep the process alive until the lock is really free
      this.child.stdin.destroy(); // cat sees end of file; flock(1) exits with it
      const t = setTimeout(() => this.child.kill('SIGKILL'), RELEASE_MS);
      try { await this.exited; } finally { clearTimeout(t); }
    }
    await this.exited;
  }
}

export function isLockFailure(e) { return !!e && e.lockFailure === true; }
