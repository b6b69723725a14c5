// idb-exists.browser.test.js: an idb:// store whose IndexedDB database indexedDB.databases() does
// not list (Chromium relaunched after a kill can do that until the database is opened) still opens
// without a dim, at its height and root; a store that really does not exist is still refused
// (ENOTFOUND with create: false, EINVAL for want of a dim) and the check creates no database.
import { describe, it, expect } from 'vitest';
import { Valori } from '../src/index.js';

const uid = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

async function withEmptyListing(fn) {
  const orig = indexedDB.databases;
  indexedDB.databases = async () => [];
  try { return await fn(); } finally { indexedDB.databases = orig; }
}

describe('idb:// existence check', () => {
  it('opens a store the database listing leaves out, and refuses one that is not there', async () => {
    const name = `exists-${uid()}`;
    const db = await Valori.open({ path: `idb://${name}`, dim: 3 });
    await db.insert(Float32Array.from([1, 2, 3]));
    await db.insert(Float32Array.from([4, 5, 6]));
    const root = await db.stateRoot();
    await db.close();
    await withEmptyListing(async () => {
      const again = await Valori.open({ path: `idb://${name}` });
      expect((await again.stats()).height).toBe(2);
      expect(await again.stateRoot()).toBe(root);
      await again.close();
      const missing = `missing-${uid()}`;
      await expect(Valori.open({ path: `idb://${missing}` })).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(Valori.open({ path: `idb://${missing}`, create: false })).rejects.toMatchObject({ code: 'ENOTFOUND' });
    });
    const names = (await indexedDB.databases()).map((d) => d.name);
    expect(names.some((n) => n.includes('missing-'))).toBe(false); // the probe created nothing
  });
});
