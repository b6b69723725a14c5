// remote.test.js: the shared suite (suite.js) through the remote client, Valori.connect, against a
// real `valori serve` on 127.0.0.1 port 0 (with tokens): one fresh collection per test, and the same
// results, codes and roots as the embedded database (the native golden root of
// tests/golden/core.txt among them).
import { afterAll, beforeAll } from 'vitest';
import { Valori } from '../src/index.js';
import { sharedSuite } from './suite.js';
import { startValori } from './remote-server.js';
import { UNREPORTED_STATS } from './remote-stats.js';

let srv = null;
beforeAll(async () => { srv = await startValori(); });
afterAll(async () => { if (srv) await srv.stop(); });

let n = 0, current = null;
sharedSuite('node-remote', {
  persistent: true,
  remote: true,
  unreportedStats: UNREPORTED_STATS,
  fresh: () => (current = `t${++n}`),
  open: ({ reuse, ...opts } = {}) => Valori.connect(srv.url, { collection: current, token: srv.write, ...opts }),
  exists: async () => (await (await Valori.server(srv.url, { token: srv.read })).collections()).some((c) => c.name === current),
});
