// remote.test.js: the shared suite (suite.js) through the remote client, Valori.connect, against a
// real `valori serve` on 127.0.0.1 port 0 (with tokens): one fresh collection per test, and the same
// results, codes and roots as the embedded database (the native golden root of
// tests/golden/core.txt among them).
import { afterAll, beforeAll } from 'vitest';
import { Valori } from '../src/index.js';
import { sharedSuite } from './suite.js';
import { startValori } from './remote-server.js';

let srv = null;
beforeAll(async () => { srv = await startValori(); });
afterAll(async () => { if (srv) await srv.stop(); });

/**
 * The stats fields the server's describe (docs/HTTP.md section 5) does not report yet: RemoteValori
 * gives null for them (index.d.ts). When the server reports them this list must go (the suite then
 * fails on the type of each one still listed).
 */
export const UNREPORTED_STATS = ['nextNodeId', 'nextEdgeId', 'indexTombstones', 'vectorBytes', 'indexBytes', 'otherBytes'];

let n = 0, current = null;
sharedSuite('node-remote', {
  persistent: true,
  remote: true,
  unreportedStats: UNREPORTED_STATS,
  fresh: () => (current = `t${++n}`),
  open: ({ reuse, ...opts } = {}) => Valori.connect(srv.url, { collection: current, token: srv.write, ...opts }),
  exists: async () => (await (await Valori.server(srv.url, { token: srv.read })).collections()).some((c) => c.name === current),
});
