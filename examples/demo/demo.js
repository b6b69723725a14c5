// demo.js: the demo page (examples/demo/README.md). It follows the leader that serves it into
// IndexedDB with the npm package's follower (Valori.follow), talks to the same leader through the
// remote client (Valori.connect), and shows: the two positions side by side; image search on
// Fashion-MNIST run in the browser and on the server; a drawn image written to the leader and
// replicated back; the knowledge graph around the hits; a scratch copy whose root moves with one
// value; and the follower's verifier refusing a record with one byte changed.
//
// window.valoriDemo is the page's state for people and tests (tests/demo/demo.test.js).
import { Valori } from './valori/src/index.js';
import { crc32c, unhex, setMetaEvent, buildRecord } from './record.js';

const params = new URLSearchParams(location.search);
const COLL = params.get('collection') || 'fashion';
const LEADER = `${location.origin}/v1/collections/${encodeURIComponent(COLL)}`;
const IDB = `idb://valori-demo-${COLL}`;
// A server started with --token-file: open the page as /#token=TOKEN (a write token lets the page
// write; a read token is enough to follow and search). The fragment never leaves the browser.
const TOKEN = new URLSearchParams(location.hash.slice(1)).get('token') || undefined;
const T0 = performance.now();
// The ten Fashion-MNIST labels (the data set's documented order; the records' metadata names them too).
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const DIM = 784;

const $ = (id) => document.getElementById(id);
const short = (root) => (root ? `${root.slice(0, 16)}…${root.slice(-8)}` : '–');
const ms = (x) => `${x < 10 ? x.toFixed(2) : x.toFixed(0)} ms`;
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const dec = new TextDecoder();

const demo = {
  collection: COLL, leaderUrl: LEADER, path: IDB,
  role: 'starting',          // 'follower' | 'reader' (another tab follows) | 'starting' | 'error'
  follower: null, remote: null,
  status: null, leader: null, match: false,
  bootstrapped: null,        // true: this load bootstrapped from the leader's snapshot; false: resumed from IndexedDB
  resumedHeight: null,
  numbers: {},
  bootProgress: null, bootPhases: [], download: null, // the bootstrap's progress (follow()'s onProgress)
  heights: [],               // [{height, t}]: when the follower reported each durable height
  lastSearch: null, lastAdd: null, scratch: null, tamper: null, next: null, errors: [],
};
window.valoriDemo = demo;

function note(msg) {
  const n = $('notice');
  n.hidden = !msg;
  n.textContent = msg || '';
}
function fail(where, e) {
  const msg = `${where}: ${e && e.code ? e.code + ': ' : ''}${e && e.message ? e.message : e}`;
  demo.errors.push(msg);
  note(msg);
  console.error(msg, e);
}
function setNumber(name, value) {
  demo.numbers[name] = value;
  const t = $('numbers-table');
  t.innerHTML = '';
  for (const [k, v] of Object.entries(demo.numbers)) {
    const tr = t.insertRow();
    tr.insertCell().textContent = k;
    tr.insertCell().textContent = v;
  }
}

// ---- images: a vector is 784 pixel values 0..255 (light object on dark); drawn dark on light.

function paint(canvas, vec) {
  canvas.width = 28; canvas.height = 28;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < DIM; i++) {
    const v = 255 - Math.max(0, Math.min(255, Math.round(vec[i])));
    img.data[4 * i] = v; img.data[4 * i + 1] = v; img.data[4 * i + 2] = v; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}
function metaOf(rec) {
  if (!rec || !rec.meta) return {};
  try { return JSON.parse(dec.decode(rec.meta)); } catch { return {}; }
}
const className = (rec) => metaOf(rec).class || CLASSES[Number(rec.tag)] || `tag ${rec.tag}`;

function fillClassSelect(sel, withAll) {
  sel.innerHTML = '';
  if (withAll) sel.add(new Option('all classes', ''));
  CLASSES.forEach((c, i) => sel.add(new Option(`${i} ${c}`, String(i))));
}

// ---- the two sides: leader position (GET .../replication) and the follower's status()

async function leaderPosition() {
  const r = await fetch(`${LEADER}/replication`, { cache: 'no-store', headers: TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {} });
  if (!r.ok) {
    let code = '';
    try { code = (await r.json()).error.code; } catch { /* not the server's error shape */ }
    const e = new Error(`GET ${LEADER}/replication: ${r.status}${code ? ` ${code}` : ''}`);
    e.code = code || String(r.status);
    throw e;
  }
  return r.json();
}

function showPositions() {
  const st = demo.status, ld = demo.leader;
  $('leader-status').textContent = ld ? (ld.error ? `unreachable (${ld.error})` : 'serving') : '…';
  $('leader-height').textContent = ld && !ld.error ? String(ld.height) : '–';
  $('leader-root').textContent = ld && !ld.error ? short(ld.root) : '–';
  const state = st ? st.state : demo.role;
  let s = demo.role === 'reader' ? 'reader (another tab follows)' : state;
  if (st && demo.role === 'follower') {
    if (!st.connected && st.state !== 'diverged') s += ', reconnecting';
    if (st.state === 'live' || st.state === 'catching-up') s += `, lag ${st.lagEvents} events`;
    if (st.state === 'diverged' && st.diverged) s += ` at height ${st.diverged.height} (${st.diverged.reason})`;
  }
  $('browser-status').textContent = s;
  $('browser-height').textContent = st ? String(st.height) : '–';
  $('browser-root').textContent = st ? short(st.root) : '–';
  const m = $('match');
  const same = st && ld && !ld.error && st.height === ld.height;
  demo.match = !!(same && st.root === ld.root && st.state !== 'diverged');
  if (st && st.state === 'diverged') { m.className = 'match bad'; m.textContent = `diverged at height ${st.diverged ? st.diverged.height : '?'}`; }
  else if (demo.match) { m.className = 'match ok'; m.textContent = `= roots equal at height ${st.height}`; }
  else if (same) { m.className = 'match bad'; m.textContent = `roots differ at height ${st.height}`; }
  else if (ld && ld.error) { m.className = 'match wait'; m.textContent = 'leader unreachable: searching the local copy'; }
  else { m.className = 'match wait'; m.textContent = st ? `browser at ${st.height}, leader at ${ld ? ld.height : '?'}` : 'starting…'; }
  $('diverged-box').hidden = !(st && st.state === 'diverged' && demo.role === 'follower');
  const p = $('progress');
  if (st && st.state === 'bootstrapping') showBootProgress('re-bootstrapping');
  else if (st && st.state === 'catching-up') {
    p.hidden = false;
    const f = st.leaderHeight ? st.height / st.leaderHeight : 0;
    $('progress-bar').style.width = `${Math.round(100 * f)}%`;
    $('progress-text').textContent = `catching up: ${st.height} of ${st.leaderHeight}`;
  } else if (demo.follower) p.hidden = true;
}

// The progress line of a bootstrap, from follow()'s onProgress (demo.bootProgress).
function showBootProgress(what, secs = '') {
  const b = demo.bootProgress, MB = (x) => (x / 1e6).toFixed(1);
  $('progress').hidden = false;
  if (!b) {
    $('progress-bar').style.width = '2%';
    $('progress-text').textContent = `opening this browser's copy… ${secs}`;
    return;
  }
  const f = b.phase === 'download' ? (b.total ? 0.8 * b.bytes / b.total : 0.4) : b.phase === 'check' ? 0.85 : 0.95;
  $('progress-bar').style.width = `${Math.round(100 * f)}%`;
  $('progress-text').textContent = `${what}: ` + (b.phase === 'download'
    ? `downloading the leader's snapshot, ${MB(b.bytes)}${b.total ? ` of ${MB(b.total)}` : ''} MB`
    : b.phase === 'check' ? `the core checks the snapshot (${MB(b.bytes)} MB) and builds the copy`
      : 'storing the copy in IndexedDB') + `… ${secs}`;
}

let pollingLeader = false;
async function refreshLeader() {
  if (pollingLeader) return;
  pollingLeader = true;
  try { demo.leader = await leaderPosition(); } catch (e) { demo.leader = { error: e.code || e.message }; }
  finally { pollingLeader = false; }
  showPositions();
}

function refreshStatus() {
  if (demo.follower && demo.role === 'follower') demo.status = demo.follower.status();
  showPositions();
}

// ---- start: the follower (or a reader when another tab holds the store), the remote client

function attachFollower(f) {
  let liveSeen = false;
  const onStatus = () => {
    refreshStatus();
    const st = demo.status;
    if (!st || liveSeen || st.state !== 'live') return;
    liveSeen = true;
    demo.bootstrapped = st.bootstraps > 0;
    demo.liveMs = performance.now() - T0;
    setNumber(demo.bootstrapped ? 'first load → live follower' : 'reload → live follower (resumed from IndexedDB)', ms(demo.liveMs));
    refreshLeader();
    loadGallery().catch((e) => fail('gallery', e));
    memory();
  };
  demo.follower = f;
  demo.role = 'follower';
  const st0 = f.status();
  demo.openedMs = performance.now() - T0;
  if (st0.bootstraps === 0) demo.resumedHeight = st0.height;
  f.on('status', onStatus);
  f.on('height', (h) => {
    demo.heights.push({ height: h.height, t: performance.now() }); // when each durable height arrived
    if (demo.heights.length > 200) demo.heights.shift();
    refreshStatus();
    refreshLeader();
  });
  f.on('diverged', (d) => { refreshStatus(); note(`diverged at height ${d.height} (${d.reason}): ${d.message || ''} ` +
    'The follower stopped and serves nothing further as current.'); });
  onStatus();
}

// The name the leader's metrics list this browser under (X-Valori-Follower), kept per origin.
function followerId() {
  let id = null;
  try { id = localStorage.getItem('valori-demo-follower'); } catch { /* storage blocked */ }
  if (!id || !/^[A-Za-z0-9._:-]{1,64}$/.test(id)) {
    id = `demo-page-${Math.random().toString(36).slice(2, 10)}`;
    try { localStorage.setItem('valori-demo-follower', id); } catch { /* storage blocked */ }
  }
  return id;
}
// onProgress: where a bootstrap is (the snapshot's download, its check by the core, its store)
const follow = () => Valori.follow(LEADER, { path: IDB, token: TOKEN, followerId: followerId(), onProgress: (p) => {
  demo.bootProgress = p;
  if (!demo.bootPhases.includes(p.phase)) demo.bootPhases.push(p.phase);
  if (p.phase === 'download') demo.download = p;
} });

// Another tab of this origin follows into the same IndexedDB store (follow() said ELOCKED): this
// tab reads that copy (read-only) and every 3 s tries again to follow, so it takes over when the
// other tab closes; meanwhile each try reopens the copy as the other tab last stored it.
async function openReader() {
  demo.role = 'reader';
  demo.follower = await Valori.open({ path: IDB, readOnly: true });
  const s = await demo.follower.stats();
  demo.status = { state: 'reader', height: s.height, root: await demo.follower.stateRoot(), connected: false };
  showPositions();
  await loadGallery();
}
function readerLoop() {
  const timer = setInterval(async () => {
    if (demo.switching) return;
    demo.switching = true;
    try {
      const r = demo.follower;
      demo.follower = null;
      if (r) await r.close();
      byId.clear();
      try {
        const f = await follow();
        clearInterval(timer);
        note('');
        attachFollower(f);
      } catch (e) {
        if (!e || e.code !== 'ELOCKED') throw e;
        await openReader();
      }
    } catch (e) { fail('reader', e); } finally { demo.switching = false; }
  }, 3000);
}

async function startFollower() {
  // follow() resolves once the local copy is open: at once from IndexedDB, or after the bootstrap
  // (the leader's snapshot downloaded, checked by the core and stored); until then the page ticks.
  const ticker = setInterval(() => showBootProgress('bootstrapping', `${((performance.now() - T0) / 1000).toFixed(1)} s`), 50);
  try {
    attachFollower(await follow());
  } catch (e) {
    if (!e || e.code !== 'ELOCKED') throw e;
    note('Another tab of this page already follows the leader into this browser\'s IndexedDB (ELOCKED: one writer per store). ' +
      'This tab reads that copy (read-only, refreshed every 3 s) and follows the leader itself as soon as the other tab closes.');
    await openReader();
    readerLoop();
  } finally {
    clearInterval(ticker);
    $('progress').hidden = true;
  }
}

async function memory() {
  try {
    const m = await Valori.memoryBytes();
    setNumber('wasm memory (all databases of this page)', `${(m / 1048576).toFixed(1)} MiB`);
  } catch (e) { fail('memory', e); }
}

// ---- gallery

const byId = new Map(); // id (string) -> record, cache of records read from the local copy
async function localRecord(id) {
  const key = String(id);
  if (byId.has(key)) return byId.get(key);
  const r = await demo.follower.get(BigInt(id));
  if (r) byId.set(key, r);
  return r;
}

let gallerySeed = 1;
async function loadGallery() {
  const db = demo.follower;
  const s = await db.stats();
  const next = Number(s.nextRecordId);
  $('images-info').textContent = `${s.records} images in this browser's copy`;
  const cls = $('gallery-class').value;
  const ids = [];
  if (cls === '') {
    // a deterministic walk over the ids, a new one at each "other images"
    let x = gallerySeed * 2654435761 % 4294967296;
    for (let tries = 0; ids.length < 40 && tries < 400; tries++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const id = 1 + (x % Math.max(1, next - 1));
      if (!ids.includes(id) && await localRecord(id)) ids.push(id);
    }
  } else {
    const seed = await localRecord(1 + (gallerySeed * 7919) % Math.max(1, next - 1));
    if (seed) {
      const hits = await db.search(seed.vector, { k: 40, tags: [BigInt(cls)], mode: 'exact' });
      for (const h of hits) ids.push(Number(h.id));
    }
  }
  const g = $('gallery');
  g.innerHTML = '';
  for (const id of ids) {
    const r = await localRecord(id);
    if (!r) continue;
    const c = paint(document.createElement('canvas'), r.vector);
    c.title = `#${id} ${className(r)}`;
    c.dataset.id = String(id);
    c.addEventListener('click', () => {
      for (const x of g.querySelectorAll('canvas.sel')) x.classList.remove('sel');
      c.classList.add('sel');
      searchRecord(id).catch((e) => fail('search', e));
    });
    g.appendChild(c);
  }
}

// ---- search: the same query, options and k in the browser and on the server

function searchOptions() {
  const o = { k: Math.max(1, Math.min(50, Number($('k').value) || 10)), mode: $('mode').value };
  const ef = Number($('ef').value);
  if (ef > 0) o.ef = ef;
  const cls = $('filter-class').value;
  if (cls !== '') o.tags = [BigInt(cls)];
  return o;
}

let query = null; // {vector, label, record}
let searchSeq = 0; // only the latest search shows its results
async function searchRecord(id) {
  const r = await localRecord(id);
  query = { vector: r.vector, label: `image #${id} (${className(r)})`, record: BigInt(id) };
  return runSearch();
}

async function hitRow(list, h, other) {
  const li = document.createElement('li');
  const r = await localRecord(h.id) || (demo.remote ? await demo.remote.get(h.id).catch(() => null) : null);
  li.appendChild(r ? paint(document.createElement('canvas'), r.vector) : document.createElement('canvas'));
  li.append(`#${h.id}  ${r ? className(r) : '?'}  d=${h.distance.toFixed(0)}`);
  if (other && (!other[list.children.length] || other[list.children.length].id !== h.id ||
      other[list.children.length].distanceRaw !== h.distanceRaw)) li.className = 'differs';
  list.appendChild(li);
}

async function runSearch() {
  if (!query || !demo.follower) return;
  if (demo.role !== 'follower' && demo.role !== 'reader') return;
  const opts = searchOptions(), seq = ++searchSeq;
  paint($('query'), query.vector);
  $('query-info').textContent = `${query.label}; k ${opts.k}, ${opts.mode}${opts.ef ? `, ef ${opts.ef}` : ''}` +
    `${opts.tags ? `, class ${CLASSES[Number(opts.tags[0])]}` : ''}`;
  const t1 = performance.now();
  const local = await demo.follower.search(query.vector, opts);
  const tl = performance.now() - t1;
  const localHeight = demo.status ? demo.status.height : null;
  let server = null, ts = null, serverErr = null;
  try {
    const t2 = performance.now();
    server = await demo.remote.search(query.vector, opts);
    ts = performance.now() - t2;
  } catch (e) { serverErr = e; }
  if (seq !== searchSeq) return; // a newer search started meanwhile
  $('local-time').textContent = `${ms(tl)} at height ${localHeight}`;
  $('server-time').textContent = server ? `${ms(ts)} incl. HTTP` : `unreachable (${serverErr.code || serverErr.message})`;
  const same = !!server && server.length === local.length &&
    server.every((h, i) => h.id === local[i].id && h.distanceRaw === local[i].distanceRaw);
  const v = $('verdict');
  if (!server) { v.className = 'verdict'; v.textContent = 'the server is unreachable: these are the local copy\'s results'; }
  else if (same) { v.className = 'verdict ok'; v.textContent = `= identical: ${local.length} hits, same ids and exact distances`; }
  else { v.className = 'verdict bad'; v.textContent = `lists differ (browser at height ${localHeight}, leader at ${demo.leader && demo.leader.height})`; }
  const ll = $('local-hits'), sl = $('server-hits');
  ll.innerHTML = ''; sl.innerHTML = '';
  for (const h of local) await hitRow(ll, h, server);
  if (server) for (const h of server) await hitRow(sl, h, local);
  demo.lastSearch = {
    options: { ...opts, tags: opts.tags ? opts.tags.map(String) : undefined }, record: query.record === null ? null : String(query.record),
    local: local.map((h) => [String(h.id), String(h.distanceRaw)]),
    server: server ? server.map((h) => [String(h.id), String(h.distanceRaw)]) : null,
    identical: same, localMs: tl, serverMs: ts, height: localHeight,
  };
  setNumber('local search (last)', `${ms(tl)} (${opts.mode}, k ${opts.k})`);
  if (ts !== null) setNumber('server search over HTTP (last)', ms(ts));
  await showGraph(local).catch((e) => fail('graph', e));
}

// ---- knowledge graph: search-then-expand from the hits' nodes to their class nodes

async function classNodeOf(db, recordId) {
  const n = await db.nodeOfRecord(recordId);
  if (n === null) return null;
  const out = await db.neighbors(n, { dir: 'out' });
  return out.length ? { node: n, edge: out[0], classNode: out[0].to } : { node: n, edge: null, classNode: null };
}

async function showGraph(hits) {
  const db = demo.follower;
  const opts = searchOptions();
  const t1 = performance.now();
  const ex = await db.searchExpand(query.vector, { ...opts, hops: 1, dir: 'out' });
  const te = performance.now() - t1;
  const svg = $('graph-svg');
  svg.innerHTML = '';
  const NS = 'http://www.w3.org/2000/svg';
  const el = (name, attrs, text) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  const classes = new Map(); // class node id -> {label, y}
  const links = [];
  for (const h of hits) {
    const c = await classNodeOf(db, h.id);
    if (!c || c.classNode === null) continue;
    const key = String(c.classNode);
    if (!classes.has(key)) {
      const n = await db.getNode(c.classNode);
      classes.set(key, { label: n && n.label ? dec.decode(n.label) : `node ${key}`, y: 0 });
    }
    links.push({ hit: h, node: c.node, cls: key });
  }
  let qc = null;
  if (query.record !== null) qc = await classNodeOf(db, query.record);
  const rows = hits.length, H = 300, stepY = H / Math.max(1, rows);
  [...classes.values()].forEach((c, i, a) => { c.y = (i + 0.5) * H / a.length; });
  links.forEach((l, i) => {
    const y = (i + 0.5) * stepY, c = classes.get(l.cls);
    el('line', { x1: 150, y1: y, x2: 330, y2: c.y, stroke: '#8a94a6', 'stroke-width': 1 });
    el('circle', { cx: 150, cy: y, r: 4, fill: '#3465a4' });
    el('text', { x: 8, y: y + 4 }, `#${l.hit.id} → node ${l.node}`);
  });
  for (const [id, c] of classes) {
    const mine = qc && String(qc.classNode) === id;
    el('circle', { cx: 340, cy: c.y, r: mine ? 9 : 7, fill: mine ? '#137a3a' : '#c88a00' });
    el('text', { x: 354, y: c.y + 4 }, `${c.label} (node ${id})`);
  }
  $('graph-info').textContent = `searchExpand: ${ex.hits.length} hits, ${ex.nodes.length} nodes reached in 1 hop (${ms(te)}, in the browser)` +
    (qc && qc.classNode !== null ? `; the query image's node ${qc.node} links to class node ${qc.classNode} (green)` : '');
  demo.lastGraph = { nodes: ex.nodes.length, classes: [...classes.values()].map((c) => c.label) };
}

// ---- the drawing pad

const pad = new Float32Array(DIM);
function drawPad() {
  const c = $('pad'), off = paint(document.createElement('canvas'), pad.map((v) => 255 - v));
  const ctx = c.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, c.width, c.height);
}
function padAt(ev) {
  const c = $('pad'), b = c.getBoundingClientRect();
  const x = Math.floor((ev.clientX - b.left) / b.width * 28), y = Math.floor((ev.clientY - b.top) / b.height * 28);
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
    const px = x + dx, py = y + dy;
    if (px < 0 || py < 0 || px > 27 || py > 27) continue;
    const add = dx === 0 && dy === 0 ? 255 : (dx === 0 || dy === 0 ? 110 : 50);
    pad[py * 28 + px] = Math.min(255, pad[py * 28 + px] + add);
  }
  drawPad();
}
function setupPad() {
  const c = $('pad');
  let down = false;
  c.addEventListener('pointerdown', (e) => { down = true; c.setPointerCapture(e.pointerId); padAt(e); });
  c.addEventListener('pointermove', (e) => { if (down) padAt(e); });
  c.addEventListener('pointerup', () => { down = false; });
  $('pad-clear').addEventListener('click', () => { pad.fill(0); drawPad(); });
  $('pad-search').addEventListener('click', () => {
    query = { vector: Float32Array.from(pad), label: 'the drawn image', record: null };
    runSearch().catch((e) => fail('search', e));
  });
  $('pad-add').addEventListener('click', () => addDrawn().catch((e) => fail('add', e)));
  drawPad();
}

// Inserts the drawn image into the leader through the remote client, with a graph node linked to
// its class node (kinds copied from an existing record of that class), then waits for the
// follower to reach the acknowledged height and compares the roots there.
async function addDrawn() {
  const cls = Number($('pad-class').value);
  const db = demo.remote, out = $('add-result');
  out.textContent = 'writing to the leader…';
  const vec = Float32Array.from(pad);
  const seed = await demo.follower.search(vec, { k: 1, tags: [BigInt(cls)], mode: 'exact' });
  const t1 = performance.now();
  const id = await db.insert(vec, { tag: BigInt(cls), meta: JSON.stringify({ class: CLASSES[cls], index: null, drawn: true }) });
  let link = null;
  if (seed.length) {
    const c = await classNodeOf(db, seed[0].id);
    if (c && c.classNode !== null) {
      const kindNode = (await db.getNode(c.node)).kind;
      const n = await db.createNode({ kind: kindNode, record: id, label: `drawn ${CLASSES[cls]}` });
      await db.createEdge(n, c.classNode, { kind: c.edge.kind });
      link = { node: String(n), classNode: String(c.classNode) };
    }
  }
  const ack = db.lastWrite; // {height, root} of the last acknowledged write
  const tAckAt = performance.now(), tAck = tAckAt - t1;
  out.textContent = `added as #${id} at leader height ${ack.height}; waiting for this browser…`;
  for (let i = 0; i < 400 && (!demo.status || demo.status.height < ack.height); i++) { await sleep(25); refreshStatus(); }
  // from the leader's answer to the last write reaching the page to the follower's height event
  // for it (negative: the stream was faster than the answer)
  const seen = demo.heights.find((x) => x.height >= ack.height);
  const lag = seen ? seen.t - tAckAt : null;
  const st = demo.status;
  const ok = st.height >= ack.height;
  let rootThere = null;
  if (ok && st.height === ack.height) rootThere = st.root;
  demo.lastAdd = { id: String(id), height: ack.height, root: ack.root, link, followerHeight: st.height, followerRoot: st.root,
    equal: rootThere === ack.root, writeMs: tAck, replicatedMs: lag };
  out.textContent = ok
    ? `#${id} written (${ms(tAck)} for ${link ? 3 : 1} durable writes), in this browser ` +
      (lag === null ? '' : lag > 0 ? `${ms(lag)} after the leader's answer ` : `${ms(-lag)} before the leader's answer reached the page `) +
      `at height ${st.height}: ` +
      (rootThere === null ? 'the leader moved on meanwhile' : rootThere === ack.root ? 'roots equal =' : 'ROOTS DIFFER')
    : `not replicated within 10 s (browser at ${st.height})`;
  if (ok && lag !== null) setNumber('leader\'s write answer → height in this browser', lag > 0 ? ms(lag) : `${ms(-lag)} earlier`);
  refreshLeader();
}

// ---- verifiability

// A scratch in-memory copy from the follower's snapshot: same root; one Q16.16 unit (1/65536) of
// one pixel changed: another root; changed back: the first root again.
async function scratchRun() {
  const out = $('scratch-out');
  out.textContent = 'copying the follower\'s state into a scratch in-memory database…';
  const t1 = performance.now();
  const bytes = await demo.follower.snapshot();
  const scratch = await Valori.fromSnapshot(bytes);
  try {
    const tCopy = performance.now() - t1;
    const r0 = await scratch.stateRoot();
    const id = query && query.record !== null ? query.record : (await scratch.search(new Float32Array(DIM), { k: 1, mode: 'exact' }))[0].id;
    const rec = await scratch.get(id);
    const v = rec.vector.slice();
    let c = v.findIndex((x) => x > 0 && x < 255);
    if (c < 0) c = 0;
    const orig = v[c];
    v[c] = orig + 1 / 65536;
    await scratch.update(id, { vector: v });
    const r1 = await scratch.stateRoot();
    v[c] = orig;
    await scratch.update(id, { vector: v });
    const r2 = await scratch.stateRoot();
    const fr = demo.status.root;
    demo.scratch = { copyRoot: r0, followerRoot: fr, changedRoot: r1, restoredRoot: r2, id: String(id), component: c };
    out.innerHTML = '';
    const line = (cls, text) => { const s = document.createElement('div'); s.className = cls; s.textContent = text; out.appendChild(s); };
    line(r0 === fr ? 'ok' : 'bad', `copy of ${bytes.length.toLocaleString()} snapshot bytes (${ms(tCopy)}): root ${short(r0)} ${r0 === fr ? '= the follower\'s' : '≠ the follower\'s!'}`);
    line(r1 !== r0 ? 'ok' : 'bad', `pixel ${c} of #${id}: ${orig} → ${orig + 1 / 65536} (one Q16.16 unit): root ${short(r1)} ${r1 !== r0 ? '≠ (changed)' : '= (unchanged?!)'}`);
    line(r2 === r0 ? 'ok' : 'bad', `changed back to ${orig}: root ${short(r2)} ${r2 === r0 ? '= the first root again' : '≠'}`);
  } finally {
    await scratch.close();
    memory();
  }
}

// Builds the record that would come next (height h+1: a SET_META of one record, its root computed
// by a scratch copy, its chain from the leader's chain at h), asks the follower's verifier about it
// (a dry run that never changes the follower), then about copies with one byte changed.
async function tamperRun() {
  const out = $('tamper-out');
  out.textContent = 'building the next record…';
  const f = demo.follower;
  const st = f.status();
  const h = BigInt(st.height);
  const id = query && query.record !== null ? query.record : 1n;
  const meta = new TextEncoder().encode(JSON.stringify({ ...metaOf(await f.get(id)), note: 'signed by nobody' }));
  const event = setMetaEvent(id, meta);
  const scratch = await Valori.fromSnapshot(await f.snapshot());
  let root;
  try { await scratch.apply(event); root = unhex(await scratch.stateRoot()); } finally { await scratch.close(); }
  const good = await buildRecord({ height: h + 1n, root, prevChain: unhex(st.chain), event });
  if (f.status().height !== st.height) { out.textContent = `the follower moved on from height ${st.height} meanwhile: try again`; return; }
  const results = [];
  const ask = async (what, bytes) => {
    const r = await f.verify(bytes);
    results.push({ what, ...r });
    return r;
  };
  await ask('the record as the leader would write it', good);
  // one byte of the event changed (CRC recomputed: a transport error would be caught by the CRC first)
  const flipped = good.slice();
  flipped[flipped.length - 3] ^= 0x01;
  await ask('one byte of its event changed (CRC recomputed)', await reCrc(flipped));
  // ... and the chain recomputed over the changed event: the root it claims no longer matches
  const forged = await buildRecord({ height: h + 1n, root, prevChain: unhex(st.chain), event: flipped.subarray(88) });
  await ask('the same byte, chain recomputed to hide it', forged);
  const after = f.status();
  demo.tamper = { results, heightBefore: st.height, heightAfter: after.height, rootBefore: st.root, rootAfter: after.root };
  out.innerHTML = '';
  for (const r of results) {
    const d = document.createElement('div');
    d.className = r.ok === (r === results[0]) ? 'ok' : 'bad';
    d.textContent = r.ok ? `${r.what}: accepted (dry run) at height ${r.height}, root ${short(r.root)}`
      : `${r.what}: REFUSED at height ${r.height}: ${r.code}${r.reason ? ` (${r.reason})` : ''}${r.expected ? `, expected ${short(r.expected)}, got ${short(r.actual)}` : ''}`;
    out.appendChild(d);
  }
  const d = document.createElement('div');
  d.textContent = `the follower is still at height ${after.height}, root ${short(after.root)} (a dry run changes nothing)`;
  out.appendChild(d);
}
// The leader's real next record: the follower paused at height h, one SET_META written to the
// leader through the remote client (the record's own metadata again, so the state root stays and
// only the height moves), its record read with follower.nextRecord() and verified as it is and with
// one byte changed, then the follower resumed and applying it.
async function nextRun() {
  const out = $('next-out'), f = demo.follower;
  out.textContent = 'pausing the follower…';
  await f.pause();
  const results = [];
  let st, ack;
  try {
    st = f.status();
    const id = query && query.record !== null ? query.record : 1n;
    const rec = await demo.remote.get(id);
    await demo.remote.setMeta(id, rec.meta);
    ack = demo.remote.lastWrite;
    const next = await f.nextRecord({ waitMs: 5000 });
    if (!next) { out.textContent = `the leader has no record after height ${st.height} yet`; return; }
    const ask = async (what, bytes) => { results.push({ what, ...(await f.verify(bytes)) }); };
    await ask(`the leader's record ${ack.height} as it came`, next);
    const one = next.slice();
    one[one.length - 1] ^= 0x01;
    await ask('one byte of its event changed (its CRC-32C catches it)', one);
    await ask('the same byte with the CRC recomputed (the chain catches it)', await reCrc(one.slice()));
  } finally {
    await f.resume();
  }
  const t0 = performance.now();
  for (let i = 0; i < 400 && f.status().height < ack.height; i++) await sleep(25);
  const after = f.status();
  demo.next = { results, heightBefore: st.height, ackHeight: ack.height, ackRoot: ack.root, heightAfter: after.height, rootAfter: after.root };
  out.innerHTML = '';
  results.forEach((r, i) => {
    const d = document.createElement('div');
    d.className = r.ok === (i === 0) ? 'ok' : 'bad';
    d.textContent = r.ok ? `${r.what}: accepted (dry run) at height ${r.height}, root ${short(r.root)}`
      : `${r.what}: REFUSED${r.height ? ` at height ${r.height}` : ''}: ${r.code}${r.reason ? ` (${r.reason})` : ` (${r.message})`}`;
    out.appendChild(d);
  });
  const d = document.createElement('div');
  d.textContent = `resumed: the follower applied the leader's record in ${ms(performance.now() - t0)}, now at height ${after.height}` +
    (after.height === ack.height ? (after.root === ack.root ? ', root equal to the leader\'s' : ', ROOT DIFFERS') : '');
  out.appendChild(d);
}

async function reCrc(rec) {
  const c = crc32c(rec.subarray(0, 4), rec.subarray(8));
  new DataView(rec.buffer, rec.byteOffset).setUint32(4, c, true);
  return rec;
}

// ---- wiring

async function main() {
  $('leader-url').textContent = LEADER.replace(/^https?:\/\//, '');
  $('browser-path').textContent = IDB;
  fillClassSelect($('gallery-class'), true);
  fillClassSelect($('filter-class'), true);
  fillClassSelect($('pad-class'), false);
  setupPad();
  $('gallery-more').addEventListener('click', () => { gallerySeed++; loadGallery().catch((e) => fail('gallery', e)); });
  $('gallery-class').addEventListener('change', () => loadGallery().catch((e) => fail('gallery', e)));
  for (const id of ['filter-class', 'mode', 'ef', 'k']) $(id).addEventListener('change', () => runSearch().catch((e) => fail('search', e)));
  $('scratch-run').addEventListener('click', () => scratchRun().catch((e) => fail('scratch copy', e)));
  $('tamper-run').addEventListener('click', () => tamperRun().catch((e) => fail('verify', e)));
  $('next-run').addEventListener('click', () => nextRun().catch((e) => fail('next record', e)));
  $('rebootstrap').addEventListener('click', () => {
    note('');
    demo.follower.rebootstrap().catch((e) => fail('rebootstrap', e));
  });
  // the collection must exist (scripts/serve.sh imports it before the server starts; by hand, an
  // import may still be running): wait for it, saying why
  for (;;) {
    try { demo.leader = await leaderPosition(); break; } catch (e) {
      if (e.code === 'ENOCOLLECTION') note(`The server has no collection '${COLL}' yet: scripts/serve.sh imports Fashion-MNIST on its first start ` +
        '(or open this page with ?collection=NAME). Waiting for it…');
      else if (e.code === 'EAUTH') note('This server wants a token: open the page as /#token=TOKEN (a read token of its --token-file; a write token to add images).');
      else note(`The leader does not answer (${e.message}); retrying…`);
      await sleep(2000);
    }
  }
  note('');
  demo.remote = await Valori.connect(LEADER, { token: TOKEN });
  await refreshLeader();
  await startFollower();
  setInterval(refreshStatus, 250);
  setInterval(refreshLeader, 1000);
  window.addEventListener('online', refreshLeader);
  window.addEventListener('offline', refreshLeader);
}

main().catch((e) => { demo.role = 'error'; fail('start', e); });
