// quota.browser.test.js: IndexedDB quota exhaustion (RELIABILITY scenario 13). The test makes every
// IndexedDB put throw QuotaExceededError, as Chromium does when the origin is over quota. Pass: the
// write rejects with ValoriError ENOSPC, later writes with EPOISONED, nothing of the failed commit is
// stored (reopening gives exactly the state acknowledged before), and the store works again after.
import { describe, it, expect } from 'vitest';
import { Valori } from '../src/index.js';

const f32 = (...xs) => Float32Array.from(xs);

describe('IndexedDB quota errors', () => {
  it('surface as ENOSPC, poison the handle, and leave nothing half-written', async () => {
    const path = `idb://quota-${Date.now().toString(36)}`;
    let db = await Valori.open({ path, dim: 2, segmentBytes: 4096 });
    await db.insertBatch(Array.from({ length: 100 }, (_, i) => f32(i, 1)));
    const root = await db.stateRoot();
    const put = IDBObjectStore.prototype.put;
    let calls = 0;
    IDBObjectStore.prototype.put = function (...args) {
      // Let the first file of the transaction through: the abort must roll it back too.
      if (calls++ === 0) return put.apply(this, args);
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      // One group commit of 300 writes that rotates 4 KiB segments, so it writes several files.
      const meta = new Uint8Array(100);
      const res = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => db.insert(f32(i % 50, 2), { meta })));
      expect(res.every((r) => r.status === 'rejected')).toBe(true);
      const e = res[0].reason;
      expect(e.name).toBe('ValoriError');
      expect(e.code).toBe('ENOSPC');
      expect(calls).toBeGreaterThan(1);
      expect((await db.insert(f32(1, 1)).catch((x) => x)).code).toBe('EPOISONED');
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    await db.close();
    db = await Valori.open({ path });
    try {
      expect(await db.stateRoot()).toBe(root);
      expect((await db.stats()).records).toBe(100);
      await db.insert(f32(5, 5));
      expect((await db.stats()).records).toBe(101);
    } finally {
      await db.close();
    }
  });

  it('a commit rewrites only the files that changed (the small tail segment)', async () => {
    const path = `idb://tail-${Date.now().toString(36)}`;
    const db = await Valori.open({ path, dim: 2, segmentBytes: 4096 });
    try {
      await db.insertBatch(Array.from({ length: 600 }, (_, i) => f32(i % 200, 3))); // rotates segments
      for (let i = 0; i < 30; i++) await db.insert(f32(i, 4), { meta: new Uint8Array(100) });
      const put = IDBObjectStore.prototype.put;
      const keys = [];
      IDBObjectStore.prototype.put = function (value, key) { keys.push([key, value.contents.length]); return put.call(this, value, key); };
      try {
        await db.insert(f32(1, 1));
      } finally {
        IDBObjectStore.prototype.put = put;
      }
      expect(keys.length).toBe(1);
      expect(keys[0][0]).toMatch(/\.vlog$/);
      expect(keys[0][1]).toBeLessThanOrEqual(4096 + 256);
    } finally {
      await db.close();
    }
  });

  it('a second writer on the same store gets ELOCKED (Web Locks)', async () => {
    const path = `idb://locks-${Date.now().toString(36)}`;
    const db = await Valori.open({ path, dim: 2 });
    try {
      const e = await Valori.open({ path, dim: 2 }).catch((x) => x);
      expect(e.code).toBe('ELOCKED');
    } finally {
      await db.close();
    }
    const again = await Valori.open({ path });
    await again.close();
  });
});
