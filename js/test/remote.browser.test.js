// remote.browser.test.js: the shared suite (suite.js) through the remote client in headless
// Chromium, against a real `valori serve` that the Vitest process starts for this page (browser
// command valoriStart, vitest.config.js) on 127.0.0.1 port 0 with this page's origin as its CORS
// origin: fetch from a browser page to another origin, preflights and the bearer token included.
import { afterAll, beforeAll } from 'vitest';
import { commands } from 'vitest/browser';
import { Valori } from '../src/index.js';
import { sharedSuite } from './suite.js';
import { UNREPORTED_STATS } from './remote-stats.js';

let srv = null;
beforeAll(async () => { srv = await commands.valoriStart({ cors: [location.origin] }); });
afterAll(async () => { if (srv) await commands.valoriStop(srv.id); });

let n = 0, current = null;
sharedSuite('chromium-remote', {
  persistent: true,
  remote: true,
  unreportedStats: UNREPORTED_STATS,
  fresh: () => (current = `b${++n}`),
  open: ({ reuse, ...opts } = {}) => Valori.connect(srv.url, { collection: current, token: srv.write, ...opts }),
  exists: async () => (await (await Valori.server(srv.url, { token: srv.read })).collections()).some((c) => c.name === current),
});
