// golden-workload.js: tests/unit/test_golden.c's fixed workload, line for line, through the JS API.
// Its state root, index digest and snapshot SHA-256 must equal tests/golden/core.txt (HNSW store) and
// tests/golden/core-flat.txt (index-less store), the values the native build committed (every C
// target checks the same files).
const M64 = (1n << 64n) - 1n;

function vtRand(st) { // splitmix64, as vt_rand in tests/unit/vt.h
  st.s = (st.s + 0x9E3779B97F4A7C15n) & M64;
  let z = st.s;
  z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M64;
  return z ^ (z >> 31n);
}

export const GOLDEN_OPTIONS = { dim: 12, hnsw: { m: 6, efConstruction: 32 } };
/** The same workload on an index-less store: tests/golden/core-flat.txt. */
export const GOLDEN_FLAT_OPTIONS = { dim: 12, index: 'none' };

/** Runs the workload on an open database (dim 12, M 6, efConstruction 32). */
export async function goldenWorkload(db) {
  const st = { s: 2024n };
  const ignore = () => undefined;
  let n1 = 0n;
  const v = new Float32Array(12 * 40);
  for (let round = 0; round < 25; round++) {
    const tags = [];
    for (let i = 0; i < 12 * 40; i++) {
      const r = Number(vtRand(st) % 2000001n) - 1000000;
      v[i] = r / 4096;
      if (i % 97 === 0) v[i] = (i % 2) ? 256 : -256;
      if (i % 89 === 0) v[i] = 1 / 131072;
    }
    for (let i = 0; i < 40; i++) tags.push(vtRand(st) % 5n);
    const ids = await db.insertBatch(new Float32Array(v), { tags });
    const first = ids[0];
    for (let i = 0; i < 10; i++) {
      const target = 1n + vtRand(st) % (first + 39n);
      const meta = `m${round}-${i}`;
      switch (i % 5) {
        case 0: await db.delete(target).catch(ignore); break;
        case 1: await db.update(target, { vector: v.slice(12 * i, 12 * i + 12) }).catch(ignore); break;
        case 2: await db.update(target, { tag: 9 }).catch(ignore); break;
        case 3: await db.setMeta(target, meta).catch(ignore); break;
        case 4: {
          const n2 = await db.createNode({ kind: i, record: target, label: meta }).catch(ignore);
          if (n2 !== undefined) {
            if (n1) await db.createEdge(n1, n2, { kind: round % 3, weight: (round & 1) ? round / 8 : undefined }).catch(ignore);
            n1 = n2;
          }
          break;
        }
      }
    }
    await db.insert(v.slice(0, 12), { tag: 1234, meta: 'single' });
  }
  // mass delete of the oldest records (index purges, the entry point among them), then a refill
  for (let id = 1; id <= 400; id++) await db.delete(id).catch(ignore);
  await db.insertBatch(new Float32Array(v));
}

/** Parses tests/golden/core.txt ("root <hex>\nindex <hex>\nsnapshot <hex>"). */
export function parseGolden(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v) out[k] = v;
  }
  return out;
}

export async function sha256hex(bytes) {
  const d = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}
