// idb-chunks.browser.test.js: files larger than one IndexedDB value may be (Chromium refuses a value
// over 133,169,152 bytes) are stored in chunks by the idb:// backend (js/src/backend-idb.js). Pass: a
// 140 MiB file commits and loads back byte for byte; a store whose files are split in 1000-byte
// chunks reopens with the same root, leaves no chunk of a removed file behind, and a
// missing chunk makes the open fail with EIO (never a silently short file).
import { describe, it, expect, afterEach } from 'vitest';
import { Valori } from '../src/index.js';
import { IdbBackend } from '../src/backend-idb.js';
import { loadCore } from '../src/module.js';

const DEFAULT_CHUNK = IdbBackend.chunkBytes;
const f32 = (...xs) => Float32Array.from(xs);
const uid = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** Every record of the store's IndexedDB database: [key, value]. */
async function records(name) {
  const db = await new Promise((res, rej) => { const q = indexedDB.open('/idb/' + name); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
  try {
    return await new Promise((res, rej) => {
      const out = [];
      const c = db.transaction(['FILE_DATA'], 'readonly').objectStore('FILE_DATA').openCursor();
      c.onerror = () => rej(c.error);
      c.onsuccess = () => { const r = c.result; if (!r) { res(out); return; } out.push([r.key, r.value]); r.continue(); };
    });
  } finally { db.close(); }
}

async function deleteRecord(name, key) {
  const db = await new Promise((res, rej) => { const q = indexedDB.open('/idb/' + name); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
  try {
    await new Promise((res, rej) => {
      const tx = db.transaction(['FILE_DATA'], 'readwrite');
      tx.objectStore('FILE_DATA').delete(key);
      tx.oncomplete = res;
      tx.onabort = () => rej(tx.error);
    });
  } finally { db.close(); }
}

/** Checks that every chunk record belongs to a file record that announces it, and all are there. */
function checkChunks(recs) {
  const files = new Map(recs.filter(([k]) => !k.includes('\u0000')));
  const chunks = recs.filter(([k]) => k.includes('\u0000'));
  const seen = new Map();
  for (const [k, v] of chunks) {
    const base = k.slice(0, k.indexOf('\u0000'));
    expect(files.has(base), `chunk ${JSON.stringify(k)} of no file`).toBe(true);
    expect(v.offset % IdbBackend.chunkBytes).toBe(0);
    seen.set(base, (seen.get(base) || 1) + 1);
  }
  for (const [k, v] of files) expect(seen.get(k) || 1, k).toBe(v.chunks || 1);
  return chunks.length;
}

afterEach(() => { IdbBackend.chunkBytes = DEFAULT_CHUNK; });

describe('idb:// files in chunks', () => {
  it('a 140 MiB file (over Chromium\'s limit for one value) commits and loads back', async () => {
    const core = await loadCore();
    const F = core.C.vfs, name = `big-${uid()}`;
    const size = 140 * 1048576;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 4093) data[i] = (i / 4093) & 255;
    data[size - 1] = 77;
    let b = new IdbBackend(core, name);
    await b.prepare({ create: true, dim: 1 });
    try {
      const fh = b.open('big', F.WRITE | F.CREATE);
      b.write(fh, 0, data);
      b.close(fh);
      await b.commit();
    } finally { await b.dispose(); }
    const recs = await records(name);
    expect(recs.map(([k]) => k).sort()).toEqual([`/idb/${name}/big`, `/idb/${name}/big\u00001`, `/idb/${name}/big\u00002`]);
    b = new IdbBackend(core, name);
    await b.prepare({ create: false });
    try {
      const fh = b.open('big', 0);
      expect(b.size(fh)).toBe(size);
      const back = new Uint8Array(size);
      expect(b.read(fh, 0, back)).toBe(size);
      b.close(fh);
      let same = true;
      for (let i = 0; i < size; i += 4093) if (back[i] !== data[i]) { same = false; break; }
      expect(same && back[size - 1] === 77).toBe(true);
    } finally { await b.dispose(); }
  }, 120_000);

  it('a store in 1000-byte chunks reopens with its root; no stale chunk stays; a missing chunk is EIO', async () => {
    IdbBackend.chunkBytes = 1000;
    const name = `chunks-${uid()}`, path = `idb://${name}`;
    let db = await Valori.open({ path, dim: 8, segmentBytes: 16384 });
    await db.insertBatch(Array.from({ length: 400 }, (_, i) => f32(i % 200, 1, 2, 3, 4, 5, 6, i % 7)));
    await db.checkpoint(); // a snapshot file of several chunks; older segments removed
    for (let i = 0; i < 20; i++) await db.insert(f32(i, 0, 0, 0, 0, 0, 0, 1));
    const root = await db.stateRoot();
    await db.close();
    let recs = await records(name);
    expect(checkChunks(recs)).toBeGreaterThan(10);

    db = await Valori.open({ path });
    expect(await db.stateRoot()).toBe(root);
    expect((await db.stats()).records).toBe(420);
    await db.insertBatch(Array.from({ length: 200 }, (_, i) => f32(i, 2, 2, 2, 2, 2, 2, 2)));
    await db.checkpoint(); // replaces the snapshot: the old one's chunks must go with it
    const root2 = await db.stateRoot();
    await db.close();
    recs = await records(name);
    checkChunks(recs);
    db = await Valori.open({ path });
    expect(await db.stateRoot()).toBe(root2);
    await db.close();

    const chunk = recs.find(([k]) => k.includes('\u0000'));
    await deleteRecord(name, chunk[0]);
    const e = await Valori.open({ path }).catch((x) => x);
    expect(e.name).toBe('ValoriError');
    expect(e.code).toBe('EIO');
  }, 120_000);
});
