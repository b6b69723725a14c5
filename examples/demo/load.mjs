// load.mjs: loads Fashion-MNIST (Debian's dataset-fashion-mnist idx files) into a collection of a
// running `valori serve` through the npm package's remote client, in the shape the demo page reads:
//   records: vector = the 784 pixels (0..255), tag = the label (0..9),
//            meta = {"class":"<name>","index":<row in the file>} (JSON, UTF-8)
//   graph:   one node per class (kind 1, label = the class name), one node per record (kind 2,
//            linked to it, label "image <row>"), and an edge record node -> class node (kind 1)
//   node examples/demo/load.mjs URL [--limit N] [--offset N] [--images FILE --labels FILE] [--token T]
// URL is http://HOST:PORT/v1/collections/NAME. Progress on stderr. Used by tests/demo/.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { Valori } from '../../js/src/index.js';

export const FMNIST = '/usr/share/datasets/fashion-mnist';
export const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

function readIdx(file) {
  let b = fs.readFileSync(file);
  if (b[0] === 0x1f && b[1] === 0x8b) b = zlib.gunzipSync(b);
  const magic = b.readUInt32BE(0), dims = magic & 0xff;
  if ((magic >>> 8) !== 0x08 || dims < 1 || dims > 3) throw new Error(`${file}: not an idx file of bytes (magic ${magic.toString(16)})`);
  const shape = [];
  for (let i = 0; i < dims; i++) shape.push(b.readUInt32BE(4 + 4 * i));
  const data = b.subarray(4 + 4 * dims);
  if (data.length !== shape.reduce((a, x) => a * x, 1)) throw new Error(`${file}: ${data.length} bytes of data, the header says ${shape.join(' x ')}`);
  return { shape, data };
}

/** Loads rows [offset, offset + limit) into the collection at url; resolves {records, height, root}. */
export async function loadFashion(url, { limit = 1000, offset = 0, images = `${FMNIST}/train-images-idx3-ubyte.gz`,
  labels = `${FMNIST}/train-labels-idx1-ubyte.gz`, token, batch = 1000, log = (s) => process.stderr.write(s) } = {}) {
  const im = readIdx(images), lb = readIdx(labels);
  const dim = im.shape[1] * im.shape[2];
  const n = Math.max(0, Math.min(limit, im.shape[0] - offset));
  const db = await Valori.connect(url, { token, dim, ordered: false, maxInFlight: 16 });
  try {
    const t0 = Date.now();
    const classNodes = [];
    for (let c = 0; c < CLASSES.length; c++) classNodes.push(await db.createNode({ kind: 1, label: CLASSES[c] }));
    let done = 0;
    for (let start = 0; start < n; start += batch) {
      const m = Math.min(batch, n - start), vecs = new Float32Array(m * dim), tags = [], metas = [];
      for (let i = 0; i < m; i++) {
        const row = offset + start + i;
        for (let j = 0; j < dim; j++) vecs[i * dim + j] = im.data[row * dim + j];
        tags.push(lb.data[row]);
        metas.push(JSON.stringify({ class: CLASSES[lb.data[row]], index: row }));
      }
      const ids = await db.insertBatch(vecs, { tags, metas });
      await Promise.all(ids.map(async (id, i) => {
        const node = await db.createNode({ kind: 2, record: id, label: `image ${offset + start + i}` });
        await db.createEdge(node, classNodes[tags[i]], { kind: 1 });
      }));
      done += m;
      const s = (Date.now() - t0) / 1000;
      log(`load: ${done} of ${n} images (${Math.round(100 * done / n)}%), ${Math.round(done / Math.max(s, 0.001))} images/s\n`);
    }
    const st = await db.stats();
    return { records: st.records, height: db.lastWrite ? db.lastWrite.height : 0, root: db.lastWrite ? db.lastWrite.root : null };
  } finally {
    await db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const a = process.argv.slice(2), opt = {};
  let url = null;
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === '--limit' || k === '--offset') opt[k.slice(2)] = Number(a[++i]);
    else if (k === '--images' || k === '--labels' || k === '--token') opt[k.slice(2)] = a[++i];
    else if (!url && !k.startsWith('--')) url = k;
    else { console.error(`load.mjs: unknown argument ${k}`); process.exit(2); }
  }
  if (!url) { console.error('usage: node examples/demo/load.mjs URL [--limit N] [--offset N] [--images F --labels F] [--token T]'); process.exit(2); }
  const r = await loadFashion(url, opt);
  console.log(`load: ${r.records} records, height ${r.height}, root ${r.root}`);
}
