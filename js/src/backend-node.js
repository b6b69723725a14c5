// backend-node.js: the Node filesystem storage backend (imported lazily, never by browsers).
// It is the JS half of a valori_vfs (wasm/vfs_js.c): the core's log and snapshot code reads and
// writes the real files through fs.openSync/readSync/writeSync, and `sync` is a real fsync
// (fs.fsyncSync on the file, and on the directory after renames/creates/removes). Emscripten's
// NODEFS is not used because its fsync does not reach the disk.
//
// Single writer: the lock every host takes, flock(2) on <dir>/LOCK (docs/STORAGE.md), on a descriptor
// of this process, taken with util-linux flock(1) (node-lock.js). It is taken in prepare(), before
// the core opens the store (the VFS `lock` call the core makes during valori_open only checks that it
// is held) and released by the core's `unlock` call when the store closes. A second open of the same
// directory, in this process or any other, native or Node, gets ELOCKED.
import fs from 'node:fs';
import path from 'node:path';
import { StoreLock, isLockFailure } from './node-lock.js';

export class NodeFsBackend {
  constructor(core, dir) {
    this.core = core;
    this.dir = path.resolve(dir);
    this.files = new Map();
    this.nextFh = 1;
    this.EIO = core.C.codes.EIO;
    this.EBUFSIZE = core.C.codes.EBUFSIZE;
    this.F = core.C.vfs;
    this.writerLock = null;
    this.lastError = null;
  }

  /**
   * Before the core opens the store: checks the directory exists, or creates it (create, and only
   * with a dimension: a new store needs one, and a refused open leaves nothing behind), then takes
   * the writer lock unless readOnly. Throws a {vcode, detail} object.
   */
  async prepare({ create, readOnly, dim }) {
    let st = null;
    try { st = fs.statSync(this.dir); } catch (e) { if (e.code !== 'ENOENT') throw this.map(e); }
    let made = false;
    if (!st) {
      if (!create) throw this.fail('ENOTFOUND', null, `no store at ${this.dir}`);
      if (!dim) throw this.fail('EINVAL', null, `dim is required to create a new store (nothing exists at ${this.dir})`);
      this.wrap(() => fs.mkdirSync(this.dir, { recursive: true }));
      made = true;
    } else if (!st.isDirectory()) {
      throw this.fail('EIO', null, `${this.dir} is not a directory`);
    }
    if (readOnly) return;
    try {
      this.writerLock = await StoreLock.acquire(this.dir);
    } catch (e) {
      if (made) { try { fs.rmdirSync(this.dir); } catch { /* not empty: leave it */ } }
      if (isLockFailure(e)) throw this.fail(e.name, e.cause, e.detail);
      throw this.map(e);
    }
  }

  fail(name, cause, detail) {
    return { vcode: this.core.C.codes[name], cause, detail };
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

  /** The core's lock call (valori_open): the lock was taken in prepare(); check it is held. */
  lock() {
    if (!this.writerLock || !this.writerLock.held) throw this.fail('EIO', null, 'the writer lock was not taken before the open');
  }

  /** The core's unlock call (valori_close, or a failed open): releases the lock at once. */
  unlock() {
    if (this.writerLock) this.wrap(() => this.writerLock.release());
  }

  /** Group commit hook: the C flush already fsynced the log through `sync`. */
  async commit() {}

  /** Closes anything the core left open (only after a failed close) and releases the lock if the
   * core did not (a failed open). */
  dispose() {
    for (const { fd } of this.files.values()) { try { fs.closeSync(fd); } catch { /* already closed */ } }
    this.files.clear();
    const lock = this.writerLock;
    this.writerLock = null;
    if (lock) lock.release();
  }
}
