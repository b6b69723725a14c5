// backend-idb.js: the browser storage backend (`idb://name`): the store's files live in the
// Emscripten FS under an IDBFS mount at /idb/<name> (IndexedDB database "/idb/<name>", the IDBFS
// format, loaded by load() on open) and the core's log/snapshot code works on them through
// a JS valori_vfs (wasm/vfs_js.c).
//
// Durability. A write is acknowledged only after the IndexedDB transaction that covers it completed.
// This file replaces IDBFS's write direction (FS.syncfs(false)) with `commit()`, because IDBFS
//   - opens its transaction with the default ("relaxed" in Chromium) durability: we ask 'strict';
//   - calls preventDefault() on a failed put and lets the rest of the transaction commit, so a quota
//     error could leave some files new and others old: we abort the whole transaction instead, so a
//     failed commit leaves IndexedDB exactly as the previous commit left it (nothing half-written);
//   - finds changed files by mtime with 1 ms resolution, which can miss a change made in the same
//     millisecond as the previous sync: we track changed and removed files ourselves.
// It replaces the read direction (FS.syncfs(true)) with `load()` too, because one IndexedDB value
// has a size limit: Chromium refuses a value over 133,169,152 bytes (127 MiB; "The serialized keys
// and/or value are too large"), and a bootstrap's snapshot file (185 MiB for 60000 x 784) is larger.
// A file of at most IdbBackend.chunkBytes (64 MiB) is one record in IDBFS's format ({timestamp,
// mode, contents} under the full path); a larger one is its first chunkBytes in that record, which
// also says {size, chunks}, and its other chunks in records {offset, contents} under the path
// followed by "\0" and the chunk's number (sorted right after the file's record, never a file name).
// load() checks that every chunk is there and fills the file in place (the file plus one chunk in
// memory at a time).
// A store whose files are all at most chunkBytes is exactly IDBFS's format (FS.syncfs(true) loads
// it); one with a chunked file is not: an older package (before chunks) would load only that file's
// first chunk and refuse the store as damaged, so a downgrade is not supported. One commit is one IndexedDB transaction writing the changed files
// whole: only the tail log segment (small: segment_bytes) and new snapshots change per commit.
// The write queue (index.js) never runs a core write while a commit is in flight, so every commit
// captures a state that the core reached between two whole events. Commits are serialized here as
// well: one starts only after the previous one's transaction completed or aborted, and each takes
// (and clears) the set of changed files when it starts, so a file changed while a commit is in
// flight is written by the next one, and a failed commit puts its files back in the set. A commit
// resolves only on the transaction's complete event (with strict durability: on disk), which is
// what lets a caller report the state it captured as durable (the follower's height, follow.js).
//
// Single writer across tabs: a Web Lock "valori:<name>" taken with ifAvailable before the core opens;
// held until close. A second writer gets ELOCKED.

const STORE = 'FILE_DATA';
const CHUNK_SEP = '\u0000';

export class IdbBackend {
  constructor(core, name) {
    this.core = core;
    this.name = name;
    this.mount = '/idb/' + name;
    this.FS = core.m.FS;
    this.IDBFS = this.FS.filesystems.IDBFS;
    this.files = new Map();
    this.nextFh = 1;
    this.dirty = new Set();
    this.removed = new Set();
    this.EIO = core.C.codes.EIO;
    this.EBUFSIZE = core.C.codes.EBUFSIZE;
    this.F = core.C.vfs;
    this.lastError = null;
    this.release = null;
    this.mounted = false;
    this.committing = Promise.resolve(); // settles when the last commit started has settled
    this.inFlight = 0; // commits started and not settled
    this.chunked = new Set(); // files stored in more than one record (their chunks must go with them)
  }

  fail(name, cause, detail) { return { vcode: this.core.C.codes[name], cause, detail }; }

  /**
   * Takes the Web Lock (unless read-only), mounts and loads the store from IndexedDB. A store that
   * does not exist yet is only created with `create` and a dimension: without one the open is
   * refused before anything (an empty IndexedDB database) is created.
   */
  async prepare({ create, readOnly, dim }) {
    if (!create || !dim) {
      const exists = await idbDatabaseExists(this.mount);
      if (exists === false && !create) throw this.fail('ENOTFOUND', null, `no store named ${this.name}`);
      if (exists === false) throw this.fail('EINVAL', null, `dim is required to create a new store (there is no store named ${this.name})`);
    }
    if (!readOnly) {
      try {
        this.release = await acquireWebLock('valori:' + this.name);
      } catch (e) {
        throw e instanceof LockedError ? this.fail('ELOCKED', null) : this.fail('EIO', e);
      }
    }
    try {
      const FS = this.FS;
      try { FS.mkdirTree(this.mount); } catch { /* exists */ }
      try { FS.mount(this.IDBFS, {}, this.mount); } catch (e) { throw this.fail('ELOCKED', e); }
      this.mounted = true;
      this.db = await new Promise((resolve, reject) =>
        this.IDBFS.getDB(this.mount, (err, db) => (err ? reject(err) : resolve(db))));
      await this.load();
    } catch (e) {
      await this.dispose();
      throw (e && typeof e.vcode == 'number') ? e : this.fail(isQuota(e) ? 'ENOSPC' : 'EIO', e);
    }
  }

  /**
   * Loads every file of the store from IndexedDB into the mount (one read-only transaction, walked
   * with a cursor: a chunked file is filled in place, chunk by chunk). Throws {vcode: EIO} for a
   * chunked file with a missing or misplaced chunk (never written that way: a damaged database).
   */
  async load() {
    const FS = this.FS, prefix = this.mount + '/';
    const files = new Map(); // full path -> {name, data, mode, timestamp, chunks, seen, filled}
    await new Promise((resolve, reject) => {
      let tx;
      try { tx = this.db.transaction([STORE], 'readonly'); } catch (e) { reject(e); return; }
      const req = tx.objectStore(STORE).openCursor();
      req.onerror = () => reject(req.error);
      tx.onabort = () => reject(tx.error || new Error('IndexedDB read aborted'));
      req.onsuccess = () => {
        const cur = req.result;
        if (!cur) { resolve(); return; }
        const key = String(cur.key), v = cur.value || {};
        const sep = key.indexOf(CHUNK_SEP);
        if (sep < 0) {
          const f = { name: key.slice(prefix.length), mode: v.mode, timestamp: v.timestamp, chunks: v.chunks || 1, seen: 1 };
          if (v.chunks) {
            f.data = new Uint8Array(v.size);
            f.data.set(v.contents, 0);
            f.filled = v.contents.length;
          } else {
            f.data = v.contents;
            f.filled = v.contents ? v.contents.length : 0;
          }
          files.set(key, f);
        } else {
          const f = files.get(key.slice(0, sep));
          if (!f || !(f.chunks > 1) || !v.contents || v.offset + v.contents.length > f.data.length) {
            reject(this.fail('EIO', null, `IndexedDB record ${JSON.stringify(key)} is a chunk of no file it fits`));
            return;
          }
          f.data.set(v.contents, v.offset);
          f.seen++;
          f.filled += v.contents.length;
        }
        cur.continue();
      };
    });
    for (const [full, f] of files) {
      if (!full.startsWith(prefix) || f.name.includes('/')) continue; // not a file of this store
      if (FS.isDir(f.mode)) continue;
      if (f.seen !== f.chunks || f.filled !== (f.data ? f.data.length : 0)) {
        throw this.fail('EIO', null, `IndexedDB holds ${f.seen} of the ${f.chunks} chunks of ${f.name}`);
      }
      FS.writeFile(full, f.data || new Uint8Array(0), { canOwn: true });
      if (typeof f.mode == 'number') FS.chmod(full, f.mode);
      const t = f.timestamp instanceof Date ? f.timestamp.getTime() : Number(f.timestamp) || Date.now();
      FS.utime(full, t, t);
      if (f.chunks > 1) this.chunked.add(f.name);
    }
  }


  full(name) { return this.mount + '/' + name; }
  exists(full) { return this.FS.analyzePath(full).exists; }
  stream(fh) {
    const f = this.files.get(fh);
    if (!f) throw this.fail('EINVAL', null);
    return f;
  }

  open(name, flags) {
    const F = this.F, FS = this.FS, full = this.full(name);
    const ex = this.exists(full);
    if (!ex && !(flags & F.CREATE)) throw this.fail('ENOTFOUND', null);
    if (ex && (flags & F.CREATE) && (flags & F.EXCL)) throw this.fail('EEXIST', null);
    if (!ex) { FS.writeFile(full, new Uint8Array(0)); this.touch(name); }
    if (ex && (flags & F.TRUNC)) { FS.truncate(full, 0); this.touch(name); }
    const s = FS.open(full, (flags & F.WRITE) ? 'r+' : 'r');
    const fh = this.nextFh++;
    this.files.set(fh, { s, name });
    return fh;
  }

  touch(name) { this.dirty.add(name); this.removed.delete(name); }

  close(fh) { const f = this.stream(fh); this.files.delete(fh); this.FS.close(f.s); }
  read(fh, off, dst) { return this.FS.read(this.stream(fh).s, dst, 0, dst.length, off); }
  write(fh, off, src) {
    const f = this.stream(fh);
    let done = 0;
    while (done < src.length) done += this.FS.write(f.s, src, done, src.length - done, off + done);
    this.touch(f.name);
  }
  sync() { /* durability is the IndexedDB commit that follows the core's flush */ }
  size(fh) { return this.stream(fh).s.node.usedBytes; }
  truncate(fh, size) { const f = this.stream(fh); this.FS.ftruncate(f.s.fd, size); this.touch(f.name); }
  rename(from, to) {
    const a = this.full(from), b = this.full(to);
    if (!this.exists(a)) throw this.fail('ENOTFOUND', null);
    this.FS.rename(a, b);
    this.touch(to);
    this.dirty.delete(from);
    this.removed.add(from);
  }
  remove(name) {
    const p = this.full(name);
    if (!this.exists(p)) throw this.fail('ENOTFOUND', null);
    this.FS.unlink(p);
    this.dirty.delete(name);
    this.removed.add(name);
  }
  syncDir() {}
  list() {
    const FS = this.FS;
    return FS.readdir(this.mount).filter((n) => n !== '.' && n !== '..' && FS.isFile(FS.stat(this.full(n)).mode));
  }
  lock() { /* the Web Lock was taken in prepare() */ }
  unlock() {}

  /**
   * Writes every file changed since the last commit, and deletes every removed one, in one
   * IndexedDB transaction with strict durability. Resolves when the transaction completed; on any
   * failure the transaction is aborted (nothing of it is stored) and the promise rejects with a
   * {vcode} object (ENOSPC for QuotaExceededError, EIO otherwise).
   */
  commit() {
    // none in flight: start at once (the files are read now, synchronously); else after it
    const run = this.inFlight ? this.committing.then(() => this.commitNow()) : this.commitNow();
    this.inFlight++;
    const settled = run.catch(() => undefined).then(() => { this.inFlight--; });
    this.committing = settled;
    return run;
  }

  async commitNow() {
    if (!this.dirty.size && !this.removed.size) return;
    const dirty = [...this.dirty], removed = [...this.removed];
    this.dirty.clear();
    this.removed.clear();
    try {
      await this.transact(dirty, removed);
    } catch (e) {
      // nothing of it was stored: its files are still to write, unless changed again meanwhile
      for (const n of dirty) if (!this.removed.has(n)) this.dirty.add(n);
      for (const n of removed) if (!this.dirty.has(n)) this.removed.add(n);
      throw e;
    }
  }

  /** One IndexedDB transaction writing the files `dirty` whole and deleting `removed`. */
  transact(dirty, removed) {
    const FS = this.FS, chunk = IdbBackend.chunkBytes;
    // [name, node]: each file is copied out (chunk by chunk) by the puts below, synchronously here,
    // so the transaction holds the state of this moment and a large file is never copied whole twice
    const puts = [];
    for (const name of dirty) {
      const full = this.full(name);
      if (!this.exists(full)) continue;
      puts.push([name, FS.lookupPath(full).node]);
    }
    const chunked = new Set(this.chunked); // what IndexedDB will hold once this transaction completed
    return new Promise((resolve, reject) => {
      let tx;
      let failed = null;
      try {
        tx = this.db.transaction([STORE], 'readwrite', { durability: 'strict' });
      } catch (e) {
        reject(this.fail(isQuota(e) ? 'ENOSPC' : 'EIO', e));
        return;
      }
      tx.oncomplete = () => { this.chunked = chunked; resolve(); };
      tx.onabort = () => {
        const e = failed || tx.error;
        reject(this.fail(isQuota(e) ? 'ENOSPC' : 'EIO', e || new Error('IndexedDB transaction aborted')));
      };
      tx.onerror = (ev) => { failed = failed || (ev.target && ev.target.error) || tx.error; };
      try {
        const st = tx.objectStore(STORE);
        const dropChunks = (name) => { // the chunks of an earlier (longer) version of the file
          if (!chunked.delete(name)) return;
          const full = this.full(name);
          st.delete(IDBKeyRange.bound(full + CHUNK_SEP, full + '\u0001', false, true));
        };
        for (const [name, node] of puts) {
          const full = this.full(name), used = node.usedBytes || 0, c = node.contents;
          const rec = { timestamp: new Date(node.timestamp), mode: node.mode };
          dropChunks(name);
          if (used <= chunk) {
            // put() copies the value at once (structured clone): the slice is garbage right after
            st.put({ ...rec, contents: c ? Uint8Array.prototype.slice.call(c, 0, used) : new Uint8Array(0) }, full);
            continue;
          }
          const n = Math.ceil(used / chunk);
          st.put({ ...rec, size: used, chunks: n, contents: Uint8Array.prototype.slice.call(c, 0, chunk) }, full);
          for (let i = 1; i < n; i++) {
            const off = i * chunk;
            st.put({ offset: off, contents: Uint8Array.prototype.slice.call(c, off, Math.min(used, off + chunk)) },
              full + CHUNK_SEP + i);
          }
          chunked.add(name);
        }
        for (const name of removed) {
          dropChunks(name);
          st.delete(this.full(name));
        }
      } catch (e) {
        failed = e;
        try { tx.abort(); } catch { reject(this.fail(isQuota(e) ? 'ENOSPC' : 'EIO', e)); }
      }
    });
  }

  /** Unmounts (dropping the in-memory copy) and releases the Web Lock. */
  async dispose() {
    for (const f of this.files.values()) { try { this.FS.close(f.s); } catch { /* closed */ } }
    this.files.clear();
    if (this.mounted) {
      try { this.FS.unmount(this.mount); } catch { /* not mounted */ }
      this.mounted = false;
    }
    if (this.release) { this.release(); this.release = null; }
  }
}

/** true / false when indexedDB.databases() can tell whether `name` exists; null when it cannot. */
/**
 * Whether the IndexedDB database `name` exists: true, false, or null (cannot tell). A listing by
 * indexedDB.databases() that names it is enough; one that does not is confirmed by opening the
 * database with no version and aborting the upgrade a missing database would get (oldVersion 0),
 * so nothing is created. Chromium relaunched after a kill can leave a database out of its listing
 * until something opens it (seen as a store with acknowledged writes refused for want of a dim).
 */
async function idbDatabaseExists(name) {
  if (typeof indexedDB == 'undefined') return null;
  if (typeof indexedDB.databases == 'function') {
    try {
      if ((await indexedDB.databases()).some((d) => d.name === name)) return true;
    } catch { /* confirm by opening */ }
  }
  return new Promise((resolve) => {
    let req, missing = false;
    try { req = indexedDB.open(name); } catch { resolve(null); return; }
    req.onupgradeneeded = (ev) => {
      if (ev.oldVersion === 0) { missing = true; req.transaction.abort(); } // would be created: undo
    };
    req.onsuccess = () => { req.result.close(); resolve(true); };
    req.onerror = (ev) => { if (ev && ev.preventDefault) ev.preventDefault(); resolve(missing ? false : null); };
    req.onblocked = () => resolve(null);
  });
}

function isQuota(e) {
  return !!e && (e.name === 'QuotaExceededError' || /quota/i.test(String(e.message || '')));
}

/** Takes an exclusive Web Lock or throws {vcode: ELOCKED}; resolves to its release function. */
async function acquireWebLock(name) {
  const locks = typeof navigator != 'undefined' ? navigator.locks : undefined;
  if (!locks) return () => {};
  return new Promise((resolve, reject) => {
    locks.request(name, { mode: 'exclusive', ifAvailable: true }, (lock) => {
      if (!lock) { reject(new LockedError()); return undefined; }
      return new Promise((release) => resolve(release));
    }).catch(reject);
  });
}

export class LockedError extends Error {}

/** The largest file stored as one IndexedDB record; larger ones are split in records of this size
 * (under Chromium's limit of 133,169,152 bytes per value). Tests set it lower. */
IdbBackend.chunkBytes = 64 * 1048576;
