// package.node.test.js: js/ is the npm package, and it stands on its own files (issue 11, code
// health). `npm pack` in js/ makes the tarball; it is installed into a temporary directory outside
// the repository and used from Node there: in memory and on the filesystem, with the wasm where the
// package put it, and relocated (passed as `wasmBinary`, or found through `locateFile`), as a
// bundler would. The type declarations name exactly the methods the class has.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Valori } from '../src/index.js';

const PKG = fileURLToPath(new URL('../', import.meta.url));
const REPO = path.resolve(PKG, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-pack-'));
const app = path.join(tmp, 'app');
let tarball, files;

const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
const node = (script, args = []) => {
  const file = path.join(app, `script-${Math.random().toString(36).slice(2)}.mjs`);
  fs.writeFileSync(file, script);
  try {
    return { code: 0, out: execFileSync(process.execPath, [file, ...args], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    return { code: e.status, out: `${e.stdout}${e.stderr}` };
  }
};

beforeAll(() => {
  expect(tmp.startsWith(REPO)).toBe(false);
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', tmp], PKG));
  tarball = path.join(tmp, packed[0].filename);
  files = packed[0].files.map((f) => f.path).sort();
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  npm(['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], app);
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const USE = `
import fs from 'node:fs';
import { Valori, ValoriError } from 'valori';
const mem = await Valori.open({ dim: 3 });
const id = await mem.insert([0.5, -1.25, 3], { tag: 7n, meta: 'note' });
const hits = await mem.search(new Float32Array([0.5, -1.25, 3]), { k: 1 });
const root = await mem.stateRoot();
await mem.close();
const dir = process.argv[2];
let db = await Valori.open({ path: dir, dim: 3 });
await db.insert([0.5, -1.25, 3], { tag: 7n, meta: 'note' });
await db.close();
db = await Valori.open({ path: dir });
const again = await db.stateRoot();
await db.close();
const e = await Valori.open({ dim: 3, metric: 'cosine' }).catch((x) => x);
console.log(JSON.stringify({ id: String(id), hit: String(hits[0].id), same: root === again, err: e instanceof ValoriError && e.code,
  from: fs.realpathSync(new URL(import.meta.resolve('valori')).pathname) }));
`;

describe('the npm package (js/)', () => {
  it('packs its sources, types and the wasm, and nothing of the repository around it', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/valori.mjs', 'dist/valori.wasm',
      'src/index.js', 'src/index.d.ts', 'src/binding.js', 'src/convert.js', 'src/queue.js', 'src/errors.js',
      'src/module.js', 'src/backend-node.js', 'src/backend-idb.js', 'src/node-lock.js', 'src/follow.js']));
    expect(files.filter((f) => !/^(src\/|dist\/valori\.(mjs|wasm)$|package\.json$|README\.md$)/.test(f))).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));
    expect([pkg.name, pkg.type, pkg.exports['.'].types, pkg.exports['.'].default]).toEqual(['valori', 'module', './src/index.d.ts', './src/index.js']);
    for (const f of files.filter((x) => x.endsWith('.js'))) {
      const src = fs.readFileSync(path.join(PKG, f), 'utf8');
      for (const m of src.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const target = path.resolve(path.dirname(path.join(PKG, f)), m[1]);
        expect(`${f} imports ${path.relative(PKG, target)}`).toBe(`${f} imports ${files.includes(path.relative(PKG, target)) ? path.relative(PKG, target) : 'a file outside the package'}`);
      }
    }
  });

  it('works from a directory outside the repository after npm install of the tarball', () => {
    const r = node(USE, [path.join(app, 'store')]);
    expect(r.code, r.out).toBe(0);
    const got = JSON.parse(r.out.trim());
    expect(got).toMatchObject({ id: '1', hit: '1', same: true, err: 'EINVAL' });
    expect(got.from.startsWith(path.join(fs.realpathSync(app), 'node_modules', 'valori'))).toBe(true);
  });

  it('loads a relocated wasm passed as wasmBinary or found by locateFile', () => {
    const dist = path.join(app, 'node_modules', 'valori', 'dist');
    const elsewhere = path.join(tmp, 'assets');
    fs.mkdirSync(elsewhere);
    fs.renameSync(path.join(dist, 'valori.wasm'), path.join(elsewhere, 'valori.wasm'));
    const open = (opts) => `
import fs from 'node:fs';
import path from 'node:path';
import { Valori } from 'valori';
const db = await Valori.open({ dim: 2, ${opts} });
await db.insert([1, 2]);
console.log('records', (await db.stats()).records);
await db.close();
`;
    const missing = node(open(''));
    expect(missing.code).not.toBe(0); // the wasm is not where the package put it any more
    expect(missing.out).toMatch(/valori\.wasm/);
    const bin = node(open(`wasmBinary: fs.readFileSync(${JSON.stringify(path.join(elsewhere, 'valori.wasm'))})`));
    expect(bin.out).toMatch(/records 1/);
    const located = node(open(`locateFile: (name) => path.join(${JSON.stringify(elsewhere)}, name)`));
    expect(located.out).toMatch(/records 1/);
    const url = node(open(`locateFile: (name) => new URL(name, ${JSON.stringify(`file://${elsewhere}/`)}).href`));
    expect(url.out).toMatch(/records 1/);
  });

  it('declares in index.d.ts exactly the methods the Valori class has', () => {
    const dts = fs.readFileSync(path.join(PKG, 'src', 'index.d.ts'), 'utf8');
    const body = dts.slice(dts.indexOf('export class Valori {'));
    const declared = new Set();
    const statics = new Set();
    for (const m of body.matchAll(/^ {2}(static )?(\[Symbol\.asyncDispose\]|[a-zA-Z]+)\(/gm)) (m[1] ? statics : declared).add(m[2]);
    const own = Object.getOwnPropertyNames(Valori.prototype).filter((n) => n !== 'constructor' && !n.startsWith('_')
      && typeof Object.getOwnPropertyDescriptor(Valori.prototype, n).value == 'function');
    if (typeof Valori.prototype[Symbol.asyncDispose] == 'function') own.push('[Symbol.asyncDispose]');
    expect([...declared].sort()).toEqual(own.sort());
    const ownStatic = Object.getOwnPropertyNames(Valori).filter((n) => typeof Valori[n] == 'function' && !['length', 'name', 'prototype'].includes(n));
    expect([...statics].sort()).toEqual(ownStatic.sort());
  });

  it('declares in index.d.ts exactly the methods ValoriFollower adds or overrides', async () => {
    const { ValoriFollower } = await import('../src/follow.js');
    const dts = fs.readFileSync(path.join(PKG, 'src', 'index.d.ts'), 'utf8');
    const start = dts.indexOf('export interface ValoriFollower extends Valori {');
    const body = dts.slice(start, dts.indexOf('\n}\n', start));
    const declared = new Set([...body.matchAll(/^ {2}([a-zA-Z]+)(<[^>]*>)?\(/gm)].map((m) => m[1]));
    const writes = ['insert', 'insertBatch', 'delete', 'update', 'setMeta', 'createNode', 'deleteNode', 'createEdge', 'deleteEdge', 'apply'];
    const own = Object.getOwnPropertyNames(ValoriFollower.prototype).filter((n) => n !== 'constructor' && !n.startsWith('_')
      && !writes.includes(n) && n !== 'close'); // the writes reject (EREADONLY) and close keeps Valori's signature
    expect([...declared].sort()).toEqual(own.sort());
  });
});
