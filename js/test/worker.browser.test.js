// worker.browser.test.js: the same .mjs + .wasm load unchanged in a module Worker, where the memory and
// IndexedDB backends work and give the same state root as on the main thread.
import { it, expect } from 'vitest';
import { Valori } from '../src/index.js';
import { workloadOps, runOps, WORKLOAD_DIM } from './workload.js';

it('runs in a module Worker with the same state root as the main thread', async () => {
  const w = new Worker(new URL('./fixtures/worker.js', import.meta.url), { type: 'module' });
  try {
    const res = await new Promise((resolve, reject) => {
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => reject(new Error(e.message || 'worker error'));
      w.postMessage(`worker-${Date.now().toString(36)}`);
    });
    expect(res.error).toBeUndefined();
    const db = await Valori.open({ dim: WORKLOAD_DIM });
    await runOps(db, workloadOps());
    expect(res.memRoot).toBe(await db.stateRoot());
    expect(res.idbHeight).toBe(100);
    await db.close();
  } finally {
    w.terminate();
  }
});
