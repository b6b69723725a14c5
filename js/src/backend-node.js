// backend-node.js: the Node filesystem storage backend (imported lazily, never by browsers).
// It is the JS half of a valori_vfs (wasm/vfs_js.c): the core's log and snapshot code reads and
// writes the real files through fs.openSync/readSync/writeSync, and `sync` is a real fsync
// (fs.fsyncSync on the file, and on the directory after renames/creates/removes). Emscripten's
// NODEFS is not used because its fsync does not reach the disk.
//
// Single writer: an exclusive lock file `node.lock` (O_CREAT|O_EXCL) holding the owner's pid;
// a lock left by a dead process is taken over, a live one gives ELOCKED. Handles in the same process
// are tracked in a Set, so a second open of the same directory in one process is refused too.
import fs from 'node:fs';
import path from 'node:path';

const LOCK_NAME = 'node.lock';
const heldLocks = new Set();

export class NodeFsBackend {
  constructor(core, dir) {
    this.core = core;
    this.dir = path.resolve(dir);
    this.files = new Map();
    this.nextFh = 1;
    this.EIO = core.C.codes.EIO;
    this.EBUFSIZE = core.C.codes.EBUFSIZE;
    this.F = core.L.vfs;
    this.lockFd = -1;
    this.lastError = null;
  }

  /** Creates the directory (create = true) or checks it exists; throws a {vcode} object. */
  prepare(create) {
    if (create) fs.mkdirSync(this.dir, { recursive: true });
    else if (!fs.existsSync(this.dir)) throw this.fail('ENOTFOUND', null);
  }

  fail(name, cause) {
    return { vcode: this.core.C.codes[name], cause };
  }

  map(e) {
    const c = e && e.code;
    if (c === 'ENOENT') return this.fail('ENOTFOUND', e);
    if (c === 'EEXIST') return this.fail('EEXIST', e);
    if (c === 'ENOSPC' || c === 'EDQUOT') return this.fail('ENOSPC', e);
    if (c === 'EACCES' || c === 'EPERM' || c === 'EROFS') return this.fail('EREADONLY', e);
    return this.fail('EIO', e);
  }

  wrap(fn) {
    try { return fn(); } catch (e) { throw (e && typeof e.vcode == 'number') ? e : this.map(e); }
  }

  fd(fh) {
    const f = this.files.get(fh);
    if (!f) throw this.fail('EINVAL', null);
    return f.fd;
  }

  open(name, flags) {
    const F = this.F, K = fs.constants;
    let of = (flags & F.WRITE) ? K.O_RDWR : K.O_RDONLY;
    if (flags & F.CREATE) of |= K.O_CREAT;
    if (flags & F.EXCL) of |= K.O_EXCL;
    if (flags & F.TRUNC) of |= K.O_TRUNC;
    const fd = this.wrap(() => fs.openSync(path.join(this.dir, name), of, 0o644));
    const fh = this.nextFh++;
    this.files.set(fh, { fd, name });
    return fh;
  }

  close(fh) {
    const fd = this.fd(fh);
    this.files.delete(fh);
    this.wrap(() => fs.closeSync(fd));
  }

  read(fh, off, dst) {
    const fd = this.fd(fh);
    let got = 0;
    while (got < dst.length) {
      const n = this.wrap(() => fs.readSync(fd, dst, got, dst.length - got, off + got));
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  write(fh, off, src) {
    const fd = this.fd(fh);
    let done = 0;
    while (done < src.length) {
      done += this.wrap(() => fs.writeSync(fd, src, done, src.length - done, off + done));
    }
  }

  sync(fh) { const fd = this.fd(fh); this.wrap(() => fs.fsyncSync(fd)); }
  size(fh) { const fd = this.fd(fh); return this.wrap(() => fs.fstatSync(fd).size); }
  truncate(fh, size) { const fd = this.fd(fh); this.wrap(() => fs.ftruncateSync(fd, size)); }
  rename(from, to) { this.wrap(() => fs.renameSync(path.join(this.dir, from), path.join(this.dir, to))); }
  remove(name) { this.wrap(() => fs.unlinkSync(path.join(this.dir, name))); }

  syncDir() {
    this.wrap(() => {
      const fd = fs.openSync(this.dir, 'r');
      try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    });
  }

  list() {
    return this.wrap(() => fs.readdirSync(this.dir, { withFileTypes: true })
      .filter((d) => d.isFile()).map((d) => d.name));
  }

  lock() {
    if (heldLocks.has(this.dir)) throw this.fail('ELOCKED', null);
    const lp = path.join(this.dir, LOCK_NAME);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(lp, 'wx', 0o644);
        fs.writeSync(fd, `${process.pid}\n`);
        fs.fsyncSync(fd);
        this.lockFd = fd;
        heldLocks.add(this.dir);
        return;
      } catch (e) {
        if (e.code !== 'EEXIST') throw this.map(e);
        let pid = 0;
        try { pid = parseInt(fs.readFileSync(lp, 'utf8'), 10); } catch { /* vanished: retry */ }
        if (pid > 0 && pid !== process.pid && isAlive(pid)) throw this.fail('ELOCKED', null);
        // Stale: its owner is gone. Remove and retry once.
        try { fs.unlinkSync(lp); } catch (e2) { if (e2.code !== 'ENOENT') throw this.map(e2); }
      }
    }
    throw this.fail('ELOCKED', null);
  }

  unlock() {
    if (this.lockFd < 0) return;
    const fd = this.lockFd;
    this.lockFd = -1;
    heldLocks.delete(this.dir);
    this.wrap(() => {
      fs.closeSync(fd);
      fs.unlinkSync(path.join(this.dir, LOCK_NAME));
    });
  }

  /** Group commit hook: the C flush already fsynced the log through `sync`. */
  async commit() {}

  /** Closes anything the core left open (only after a failed close) and drops the lock. */
  dispose() {
    for (const { fd } of this.files.values()) { try { fs.closeSync(fd); } catch { /* already closed */ } }
    this.files.clear();
    try { this.unlock(); } catch { /* reported by close already */ }
  }
}

function isAlive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}
