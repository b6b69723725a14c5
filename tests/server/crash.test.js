// RELIABILITY.md scenario 2: kill -9 of the server at a random moment during sustained concurrent
// batched ingest from several clients, with background snapshots running (--snapshot-every 40).
// After each kill: `valori verify` of every collection succeeds and its height and root are those
// of the restarted server (a fresh replay of the log gives the state the server recovers); every
// acknowledged record is present with its tag and vector; no record that was never sent (phantom)
// and no tag twice (duplicate); every batch is all or nothing. VALORI_KILL9_TRIALS sets the number of
// trials (3 here; the `long` ctest label runs 200).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { request, runValori, startServer, stopServer, tmpDir } from './helpers.js';

const TRIALS = Number(process.env.VALORI_KILL9_TRIALS || 3);
const CLIENTS = 4;
const COLLS = 3;
const BATCH = 20;
const DIM = 8;
const MAX_BATCHES = 120; // per client and trial: keeps each collection under the search k used to read it back
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function vecFor(tag) {
  return Array.from({ length: DIM }, (_, j) => ((tag * 31 + j * 7) % 512) / 4 - 64);
}

async function client(srv, trial, c, acked, sent, stop) {
  const coll = `k${c % COLLS}`;
  for (let seq = 0; seq < MAX_BATCHES && !stop.now; seq++) {
    const tags = Array.from({ length: BATCH }, (_, i) => trial * 1e9 + c * 1e7 + seq * 100 + i);
    sent.set(`${coll}/${tags[0]}`, { coll, tags });
    let r;
    try {
      r = await request(srv, 'POST', `/v1/collections/${coll}/records/batch`, {
        body: { records: tags.map((t) => ({ vector: vecFor(t), tag: String(t) })) }, timeoutMs: 20_000 });
    } catch {
      return; // the server died under this request: its outcome is unknown
    }
    if (r.status !== 201) throw new Error(`batch answered ${r.status} ${r.text}`);
    acked.push({ coll, first: BigInt(r.json.first_id), tags, height: r.json.height });
  }
}

describe('kill -9 during concurrent batched ingest', () => {
  it(`${TRIALS} trials: acknowledged writes survive, nothing phantom or duplicated, root = fresh replay`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const dir = tmpDir('kill9');
      const data = path.join(dir, 'db');
      try {
        let srv = await startServer(['--data', data, '--snapshot-every', '40', '--max-k', '10000', '--commit-threads', '2']);
        for (let c = 0; c < COLLS; c++) expect((await request(srv, 'POST', '/v1/collections', { body: { name: `k${c}`, dim: DIM } })).status).toBe(201);
        const acked = [], sent = new Map(), stop = { now: false };
        const clients = Array.from({ length: CLIENTS }, (_, c) => client(srv, trial, c, acked, sent, stop));
        await sleep(300 + Math.floor(Math.random() * 1200));
        srv.child.kill('SIGKILL');
        stop.now = true;
        const x = await srv.exitPromise;
        expect(x.signal).toBe('SIGKILL');
        await Promise.all(clients);

        const replay = {};
        for (let c = 0; c < COLLS; c++) {
          const v = runValori(['verify', path.join(data, `k${c}`)]);
          expect(v.code, `trial ${trial} verify k${c}: ${v.out}${v.err}`).toBe(0);
          replay[`k${c}`] = { height: Number(/height:\s+(\d+)/.exec(v.out)[1]), root: /root:\s+([0-9a-f]{64})/.exec(v.out)[1] };
        }
        srv = await startServer(['--data', data, '--max-k', '10000']);
        for (let c = 0; c < COLLS; c++) {
          const coll = `k${c}`;
          const st = (await request(srv, 'GET', `/v1/collections/${coll}/state`)).json;
          expect({ height: st.height, root: st.root }, `trial ${trial} ${coll}`).toEqual(replay[coll]);
          expect(srv.out).toContain(`collection ${coll}: `);
          const hits = (await request(srv, 'POST', `/v1/collections/${coll}/search`, { body: { vector: new Array(DIM).fill(0), k: 10000, mode: 'exact' } })).json.hits;
          expect(hits.length).toBeLessThan(10000);
          const byTag = new Map();
          for (const h of hits) {
            expect(byTag.has(h.tag), `duplicate tag ${h.tag}`).toBe(false);
            byTag.set(h.tag, BigInt(h.id));
          }
          for (const a of acked.filter((b) => b.coll === coll)) {
            a.tags.forEach((t, i) => expect(byTag.get(String(t)), `acknowledged tag ${t} (trial ${trial})`).toBe(a.first + BigInt(i)));
            expect(a.height).toBeLessThanOrEqual(st.height);
          }
          const present = new Set(byTag.keys());
          for (const b of sent.values()) {
            if (b.coll !== coll) continue;
            const n = b.tags.filter((t) => present.has(String(t))).length;
            expect([0, BATCH], `batch ${b.tags[0]} is all or nothing`).toContain(n);
            for (const t of b.tags) present.delete(String(t));
          }
          expect([...present], 'phantom records').toEqual([]);
          // spot-check vectors of the newest acknowledged batch
          const last = acked.filter((b) => b.coll === coll).at(-1);
          if (last) {
            const g = (await request(srv, 'GET', `/v1/collections/${coll}/records/${last.first}`)).json;
            expect(g.vector).toEqual(vecFor(last.tags[0]));
          }
        }
        expect((await stopServer(srv)).code).toBe(0);
        if (TRIALS > 3 && trial % 10 === 0) console.log(`kill9 trial ${trial + 1}/${TRIALS}: ${acked.length} batches acknowledged`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 120_000 + TRIALS * 30_000);
});
