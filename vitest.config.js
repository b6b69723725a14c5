// Vitest: two projects. `node` runs js/test/*.test.js in Node (node-fs and node-memory backends, the
// leak, golden-root and process-restart tests, and the Chromium restart/crash tests driven through
// playwright-core). `browser` runs js/test/*.browser.test.js inside headless Chromium (Vitest browser
// mode, provider @vitest/browser-playwright, Debian's /usr/bin/chromium: Playwright downloads nothing).
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { startValori, stopValori, accessLog, serverOf } from './js/test/remote-server.js';
import { workload, state } from './tests/repl/helpers.js';

// Browser tests of the remote client reach a real `valori serve` through these commands (they run
// here, in Node): valoriStart({cors: [location.origin]}) starts one on 127.0.0.1 port 0 that lets
// the test page's origin call it (CORS), valoriStop(id) stops it, valoriAccessLog(id) reads its
// access log (js/test/remote*.browser.test.js). For the follower's browser tests
// (js/test/follow.browser.test.js): valoriWorkload(id, {collection, seed, rounds, create}) runs the
// replication tests' seeded workload of every event kind on it (tests/repl/helpers.js; a server
// started with tokens: false) and valoriState(id, collection) reads its height and root.
const valoriCommands = {
  valoriStart: async (_ctx, opts = {}) => {
    const h = await startValori(opts);
    return { id: h.id, url: h.url, write: h.write, read: h.read };
  },
  valoriStop: async (_ctx, id) => { await stopValori(id); return null; },
  valoriAccessLog: async (_ctx, id) => accessLog(id),
  valoriWorkload: async (_ctx, id, o) => workload(serverOf(id).srv, o.collection, o),
  valoriState: async (_ctx, id, collection) => state(serverOf(id).srv, collection),
};

const CHROMIUM = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
};

export default defineConfig({
  server: { fs: { allow: [process.cwd()] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'node', environment: 'node',
          include: ['js/test/**/*.test.js', 'tests/server/**/*.test.js', 'tests/repl/**/*.test.js'], exclude: ['js/test/**/*.browser.test.js'] } },
      { extends: true, test: { name: 'browser', include: ['js/test/**/*.browser.test.js'],
          browser: { enabled: true, headless: true, screenshotFailures: false, commands: valoriCommands,
            provider: playwright({ launchOptions: CHROMIUM }),
            instances: [{ browser: 'chromium' }] } } },
    ],
  },
});
