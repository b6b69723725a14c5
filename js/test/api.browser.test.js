// api.browser.test.js: the shared suite (suite.js) in headless Chromium, on IndexedDB and in memory.
import { Valori } from '../src/index.js';
import { sharedSuite } from './suite.js';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let n = 0, current = null;
sharedSuite('chromium-idb', {
  persistent: true,
  fresh: () => (current = `idb://t-${run}-${++n}`),
  open: ({ reuse, ...opts } = {}) => Valori.open({ path: current, ...opts }),
  exists: async () => (await indexedDB.databases()).some((d) => d.name === `/idb/${current.slice(6)}`),
});

sharedSuite('chromium-memory', {
  persistent: false,
  fresh: () => ':memory:',
  open: ({ reuse, ...opts } = {}) => Valori.open({ path: ':memory:', ...opts }),
});
