// workload.js: the fixed workload whose state root must be identical in wasm and natively
// (js/test/native/golden_workload.c implements the same sequence in C). Integer LCG, components
// k/64 with |k| <= 1024: exactly representable in binary32 and Q16.16.
export const WORKLOAD_DIM = 16;

function lcg(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s; };
}

/** Returns the ops of the fixed workload: [name, ...args] with plain JS values. */
export function workloadOps(dim = WORKLOAD_DIM) {
  const next = lcg(12345);
  const vec = () => {
    const v = new Float32Array(dim);
    for (let j = 0; j < dim; j++) v[j] = (((next() >>> 8) % 2049) - 1024) / 64;
    return v;
  };
  const ops = [];
  for (let i = 0; i < 200; i++) ops.push(['insert', vec(), i % 5, i % 7 === 0 ? `m${i}` : null]);
  const bv = [], bt = [], bm = [];
  for (let i = 0; i < 50; i++) { bv.push(vec()); bt.push(100 + (i % 3)); bm.push(i % 2 === 0 ? `b${i}` : ''); }
  ops.push(['insertBatch', bv, bt, bm]);
  const deleted = (id) => id % 13 === 5;
  for (let id = 5; id < 250; id += 13) ops.push(['delete', id]);
  for (let id = 2; id < 250; id += 11) if (!deleted(id)) ops.push(['update', id, vec(), id % 2 === 0 ? 9 : null]);
  for (let id = 4; id <= 20; id += 4) if (!deleted(id)) ops.push(['setMeta', id, `s${id}`]);
  let nodes = 0;
  for (let r = 1; r <= 30; r++) if (!deleted(r)) { ops.push(['createNode', r % 3, r, `n${r}`]); nodes++; }
  for (let n = 1; n < nodes; n++) ops.push(['createEdge', n, n + 1, n % 2, n % 3 === 0 ? null : n / 4]);
  ops.push(['deleteEdge', 2], ['deleteNode', 5], ['delete', 1]);
  return ops;
}

/** Applies ops[from..to) to an open Valori database (awaiting each). */
export async function runOps(db, ops, from = 0, to = ops.length) {
  for (let i = from; i < to; i++) await applyOp(db, ops[i]);
}

export function applyOp(db, [op, ...a]) {
  switch (op) {
    case 'insert': return db.insert(a[0], { tag: a[1], meta: a[2] ?? undefined });
    case 'insertBatch': return db.insertBatch(a[0], { tags: a[1], metas: a[2] });
    case 'delete': return db.delete(a[0]);
    case 'update': return db.update(a[0], a[2] === null ? { vector: a[1] } : { vector: a[1], tag: a[2] });
    case 'setMeta': return db.setMeta(a[0], a[1]);
    case 'createNode': return db.createNode({ kind: a[0], record: a[1], label: a[2] });
    case 'createEdge': return db.createEdge(a[0], a[1], { kind: a[2], weight: a[3] ?? undefined });
    case 'deleteEdge': return db.deleteEdge(a[0]);
    case 'deleteNode': return db.deleteNode(a[0]);
    default: throw new Error(`unknown op ${op}`);
  }
}

/** The crash-test workload: the fixed workload, then `extra` single inserts (all deterministic). */
export function crashOps(extra = 3000, dim = WORKLOAD_DIM) {
  const ops = workloadOps(dim);
  for (let i = 0; i < extra; i++) {
    const v = new Float32Array(dim);
    for (let j = 0; j < dim; j++) v[j] = ((i * 7 + j * 13) % 97) / 8 - 6;
    ops.push(['insert', v, i % 4, i % 10 === 0 ? `x${i}` : null]);
  }
  return ops;
}

/** State root of a fresh in-memory database after ops[0..n). */
export async function prefixRoot(Valori, ops, n, dim = WORKLOAD_DIM) {
  const db = await Valori.open({ dim });
  try {
    await runOps(db, ops, 0, n);
    return await db.stateRoot();
  } finally {
    await db.close();
  }
}
