// Runs every example of docs/HTTP.md, in order, against one live server (the rules are the
// document's section 15): each ```http request block is sent and the ```http block after it is the
// expected response (status line, the headers shown, the body compared as JSON values with
// "<name>" wildcards, or line by line for text).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, request, startServer, stopServer, tmpDir } from './helpers.js';

const DOC = fs.readFileSync(path.join(ROOT, 'docs/HTTP.md'), 'utf8');

// Fenced code blocks of the document, in order: {lang, text, at (line number)}.
function fences() {
  const out = [];
  let cur = null;
  DOC.split('\n').forEach((line, i) => {
    if (!cur && line.startsWith('```')) cur = { lang: line.slice(3).trim(), lines: [], at: i + 2 };
    else if (cur && line === '```') { out.push({ lang: cur.lang, text: cur.lines.join('\n') + '\n', at: cur.at }); cur = null; }
    else if (cur) cur.lines.push(line);
  });
  return out;
}
const blocks = (lang) => fences().filter((b) => b.lang === lang);

function parseBlock(text) {
  const lines = text.replace(/\n$/, '').split('\n');
  const first = lines.shift();
  const headers = [];
  while (lines.length && lines[0] !== '') {
    const l = lines.shift();
    const i = l.indexOf(':');
    headers.push([l.slice(0, i).trim(), l.slice(i + 1).trim()]);
  }
  if (lines.length) lines.shift();
  return { first, headers, body: lines.join('\n') };
}

const WILD = {
  '<hex64>': (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v),
  '<number>': (v) => typeof v === 'number',
  '<u64>': (v) => typeof v === 'string' && /^[0-9]+$/.test(v),
  '<any>': () => true,
};

function match(exp, act, where, errs) {
  if (typeof exp === 'string' && /^<[a-z0-9]+>$/.test(exp)) {
    if (!WILD[exp]) errs.push(`${where}: unknown wildcard ${exp}`);
    else if (!WILD[exp](act)) errs.push(`${where}: ${JSON.stringify(act)} is not ${exp}`);
    return;
  }
  if (Array.isArray(exp)) {
    if (!Array.isArray(act) || act.length !== exp.length) { errs.push(`${where}: expected ${JSON.stringify(exp)}, got ${JSON.stringify(act)}`); return; }
    exp.forEach((e, i) => match(e, act[i], `${where}[${i}]`, errs));
    return;
  }
  if (exp && typeof exp === 'object') {
    if (!act || typeof act !== 'object' || Array.isArray(act)) { errs.push(`${where}: expected an object, got ${JSON.stringify(act)}`); return; }
    const ek = Object.keys(exp).sort(), ak = Object.keys(act).sort();
    if (ek.join() !== ak.join()) errs.push(`${where}: keys ${JSON.stringify(ak)} instead of ${JSON.stringify(ek)}`);
    for (const k of ek) if (k in act) match(exp[k], act[k], `${where}.${k}`, errs);
    return;
  }
  if (exp !== act) errs.push(`${where}: expected ${JSON.stringify(exp)}, got ${JSON.stringify(act)}`);
}

function textMatch(exp, act, errs) {
  if (exp.trim() === '<any>') return;
  const m = /^<binary (\S+)>$/.exec(exp.trim());
  if (m) { if (!act.subarray(0, m[1].length).equals(Buffer.from(m[1], 'latin1'))) errs.push(`body does not start with ${m[1]}`); return; }
  const lines = new Set(act.toString('utf8').split('\n'));
  for (const l of exp.split('\n')) {
    if (l === '...' || l === '') continue;
    const re = new RegExp('^' + l.split('<number>').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('-?[0-9][0-9.e+-]*') + '$');
    if (![...lines].some((a) => re.test(a))) errs.push(`no line matches ${JSON.stringify(l)}`);
  }
}

const HEX_TYPES = ['application/vnd.valori.vectors', 'application/vnd.valori.event'];

describe('docs/HTTP.md examples', () => {
  let srv;
  const dir = tmpDir('docs');
  const pairs = [];
  const all = blocks('http');
  for (let i = 0; i + 1 < all.length; i += 2) pairs.push([all[i], all[i + 1]]);

  beforeAll(async () => {
    const tokenBlock = blocks('').find((b) => b.text.includes('write w-example-token-000001'));
    fs.writeFileSync(path.join(dir, 'tokens'), tokenBlock.text);
    srv = await startServer(['--data', path.join(dir, 'db'), '--token-file', path.join(dir, 'tokens'),
      '--cors-origin', 'http://app.example']);
  });
  afterAll(async () => {
    if (srv) expect((await stopServer(srv)).code).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has request/response pairs for every endpoint of the route table', () => {
    expect(all.length % 2).toBe(0);
    expect(pairs.length).toBeGreaterThan(60);
    for (const [, res] of pairs) expect(res.text.startsWith('HTTP/1.1 ')).toBe(true);
    const src = fs.readFileSync(path.join(ROOT, 'native/server/handlers.c'), 'utf8');
    const routes = [...src.matchAll(/R\("([A-Z]+)", "([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(routes.length).toBeGreaterThan(20);
    for (const [method, pattern] of routes) {
      const re = new RegExp('^' + pattern.replace(/\{[a-z]+\}/g, '[^/?]+') + '(\\?.*)?$');
      const documented = pairs.some(([req]) => { const [m, p] = parseBlock(req.text).first.split(' '); return m === method && re.test(p); });
      expect(documented, `${method} ${pattern} has an example`).toBe(true);
    }
  });

  it('every example gives the documented response', async () => {
    const failures = [];
    for (const [reqB, resB] of pairs) {
      const rq = parseBlock(reqB.text), rs = parseBlock(resB.text);
      const [method, p] = rq.first.split(' ');
      const headers = {};
      for (const [k, v] of rq.headers) headers[k] = v;
      let body;
      const ct = rq.headers.find(([k]) => k.toLowerCase() === 'content-type');
      if (rq.body !== '') body = ct && HEX_TYPES.includes(ct[1]) ? Buffer.from(rq.body.replace(/\s+/g, ''), 'hex') : rq.body;
      const r = await request(srv, method, p, { headers, body });
      const errs = [];
      const [, code, ...reason] = rs.first.split(' ');
      if (String(r.status) !== code || r.reason !== reason.join(' ')) errs.push(`status ${r.status} ${r.reason}`);
      for (const [k, v] of rs.headers) {
        const got = r.headers[k.toLowerCase()];
        if (v === '<hex64>' ? !/^[0-9a-f]{64}$/.test(got || '') : got !== v) errs.push(`header ${k}: ${JSON.stringify(got)}`);
      }
      if (rs.body.trim() !== '') {
        let exp;
        try { exp = JSON.parse(rs.body); } catch { exp = undefined; }
        if (exp !== undefined) {
          if (r.json === undefined) errs.push(`body is not JSON: ${r.text.slice(0, 200)}`);
          else match(exp, r.json, 'body', errs);
        } else textMatch(rs.body, r.body, errs);
      } else if (r.body.length && r.status !== 204) errs.push(`unexpected body ${r.text.slice(0, 200)}`);
      if (errs.length) failures.push(`docs/HTTP.md line ${reqB.at}: ${rq.first}\n  ${errs.join('\n  ')}\n  got: ${r.status} ${r.text.slice(0, 300)}`);
    }
    expect(failures.join('\n\n')).toBe('');
  });
});
