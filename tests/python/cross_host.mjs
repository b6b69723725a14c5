// cross_host.mjs: the npm package's host of the Python SDK's cross-host test
// (tests/python/test_cross_host.py; file format in cross_host_ops.py). Applies every operation of
// OPS_FILE through the package's embedded Valori (in memory) and prints the same result lines as
// the C and Python hosts.
//   node tests/python/cross_host.mjs OPS_FILE
import { readFileSync } from 'node:fs';
import { Valori, ValoriError } from '../../js/src/index.js';

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim());
const cfg = JSON.parse(lines[0]);
const db = await Valori.open({ dim: cfg.dim, hnsw: { m: cfg.hnsw.m, efConstruction: cfg.hnsw.ef_construction } });
const num = (x) => (typeof x == 'string' ? Number(x) : x); // "NaN", "Infinity", "-Infinity"
const vec = (xs) => Float32Array.from(xs.map(num));
const meta = (s) => (s === null || s === undefined ? null : Uint8Array.from(Buffer.from(s, 'base64')));
const out = [];
for (const line of lines.slice(1)) {
  const o = JSON.parse(line);
  try {
    switch (o.op) {
      case 'insert':
        out.push(`ok ${await db.insert(vec(o.vector), { tag: BigInt(o.tag), meta: meta(o.meta) })}`);
        break;
      case 'batch': {
        const vs = o.vectors.map(vec);
        if (vs.some((v) => v.length !== cfg.dim)) { out.push('err EDIM'); break; }
        const ids = await db.insertBatch(vs, { tags: o.tags && o.tags.map(BigInt), metas: o.metas && o.metas.map(meta) });
        out.push(`ok ${ids[0]}`);
        break;
      }
      case 'update': {
        const ch = {};
        if (o.vector) ch.vector = vec(o.vector);
        if (o.tag !== undefined) ch.tag = BigInt(o.tag);
        await db.update(BigInt(o.id), ch);
        out.push('ok');
        break;
      }
      case 'set_meta': await db.setMeta(BigInt(o.id), meta(o.meta)); out.push('ok'); break;
      case 'delete': await db.delete(BigInt(o.id)); out.push('ok'); break;
      case 'node': {
        const rec = BigInt(o.record);
        out.push(`ok ${await db.createNode({ kind: o.kind, record: rec === 0n ? null : rec, label: meta(o.label) })}`);
        break;
      }
      case 'edge':
        out.push(`ok ${await db.createEdge(BigInt(o.from), BigInt(o.to), { kind: o.kind, weight: o.weight === null ? undefined : num(o.weight) })}`);
        break;
      case 'delete_node': await db.deleteNode(BigInt(o.id)); out.push('ok'); break;
      case 'delete_edge': await db.deleteEdge(BigInt(o.id)); out.push('ok'); break;
      case 'search': {
        const hits = await db.search(vec(o.vector), { k: o.k, tags: o.tags ? o.tags.map(BigInt) : undefined, mode: o.mode });
        out.push(hits.length ? 'ok ' + hits.map((h) => h.id).join(',') : 'ok');
        break;
      }
      default: throw new Error(`unknown op ${o.op}`);
    }
  } catch (e) {
    if (!(e instanceof ValoriError)) throw e;
    out.push(`err ${e.code}`);
  }
}
const st = await db.stats();
out.push(`root ${await db.stateRoot()}`, `index ${await db.indexDigest()}`, `height ${st.height}`, `records ${st.records}`);
await db.close();
process.stdout.write(out.join('\n') + '\n');
