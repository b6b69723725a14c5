// remote-cors.browser.test.js: a browser page calling a server of another origin (CORS). Every call
// of the remote client carries a bearer token and most a JSON body, so the browser sends a
// preflight (OPTIONS) before it; the server allows caching it (Access-Control-Max-Age), and the
// client must not defeat that cache: fetch's cache mode 'no-store' does, in Chromium, which cost a
// preflight per call. Counted in the server's access log.
import { expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { Valori } from '../src/index.js';

it('sends one CORS preflight per distinct request, not one per call', async () => {
  const srv = await commands.valoriStart({ cors: [location.origin], accessLog: true });
  try {
    const db = await Valori.connect(srv.url, { collection: 'cors', token: srv.write, dim: 2 });
    for (let i = 0; i < 30; i++) await db.insert(Float32Array.of(i, 1));
    for (let i = 0; i < 30; i++) await db.get(1);
    await db.close();
    const lines = (await commands.valoriAccessLog(srv.id)).trim().split('\n');
    const count = (m) => lines.filter((l) => l.split(' ')[2] === m).length;
    expect(count('POST') + count('GET')).toBeGreaterThanOrEqual(61);
    expect(count('OPTIONS')).toBeGreaterThan(0); // cross-origin with a token: preflights happen
    expect(count('OPTIONS')).toBeLessThanOrEqual(5); // ... once per URL and method (describe, insert, get)
  } finally {
    await commands.valoriStop(srv.id);
  }
});
