// api.test.js: the shared suite (suite.js) in Node, on the filesystem and in memory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { Valori } from '../src/index.js';
import { sharedSuite } from './suite.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-js-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let n = 0, current = null;
sharedSuite('node-fs', {
  persistent: true,
  fresh: () => (current = path.join(root, `db${++n}`)),
  open: ({ reuse, ...opts } = {}) => Valori.open({ path: current, ...opts }),
  exists: async () => fs.existsSync(current),
});

sharedSuite('node-memory', {
  persistent: false,
  fresh: () => ':memory:',
  open: ({ reuse, ...opts } = {}) => Valori.open({ path: ':memory:', ...opts }),
});
