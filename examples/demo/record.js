// record.js: the few bytes the demo page builds itself to show the follower's verifier at work: a
// SET_META event (docs/FORMAT.md "Events") and a log record around it (docs/FORMAT.md "Record":
// 88-byte header, CRC-32C, chain = SHA-256(previous chain | height | root | event)). The follower
// checks such a record with the core's own code (valori_check_record through follower.verify);
// nothing here decides whether a record is valid.

const T = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  T[n] = c;
}
/** CRC-32C (Castagnoli) of the byte arrays given, in order. */
export function crc32c(...bufs) {
  let c = -1;
  for (const b of bufs) for (let i = 0; i < b.length; i++) c = T[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export async function sha256(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0), all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}
export const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
export function unhex(s) {
  const u = new Uint8Array(s.length / 2);
  for (let i = 0; i < u.length; i++) u[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return u;
}

/** SET_META (opcode 5): u16 opcode | u16 flags | u32 body_len | u64 record_id | u32 len | bytes. */
export function setMetaEvent(recordId, meta) {
  const ev = new Uint8Array(8 + 12 + meta.length), dv = new DataView(ev.buffer);
  dv.setUint16(0, 5, true);
  dv.setUint32(4, 12 + meta.length, true);
  dv.setBigUint64(8, BigInt(recordId), true);
  dv.setUint32(16, meta.length, true);
  ev.set(meta, 20);
  return ev;
}

/** A log record at `height` claiming `root` after `event`, chained to `prevChain` (the chain at height - 1). */
export async function buildRecord({ height, root, prevChain, event }) {
  const rec = new Uint8Array(88 + event.length), dv = new DataView(rec.buffer);
  dv.setUint32(0, event.length, true);
  dv.setBigUint64(8, height, true);
  rec.set(root, 24);
  rec.set(event, 88);
  const hb = new Uint8Array(8);
  new DataView(hb.buffer).setBigUint64(0, height, true);
  rec.set(await sha256(prevChain, hb, root, event), 56);
  dv.setUint32(4, crc32c(rec.subarray(0, 4), rec.subarray(8)), true);
  return rec;
}
