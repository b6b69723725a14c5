// remote-server.js: a real `valori serve` for the remote client's tests, on 127.0.0.1 port 0 with a
// fresh data directory and a token file holding one write and one read token. It starts the
// server through tests/server/helpers.js (the server's own tests' helper: binary from
// VALORI_SERVER_BIN, default build/native/valori). Node tests import it directly; browser tests
// reach it through the Vitest browser commands `valoriStart` / `valoriStop` that vitest.config.js
// registers (they run in the Vitest process). Whatever a test left running is killed when the
// process exits.
import fs from 'node:fs';
import path from 'node:path';
import { startServer, stopServer, tmpDir } from '../../tests/server/helpers.js';

export const WRITE_TOKEN = 'w-remote-client-test-0001';
export const READ_TOKEN = 'r-remote-client-test-0001';

const running = new Map();
let nextId = 1;

process.once('exit', () => {
  for (const h of running.values()) {
    try { h.srv.child.kill('SIGKILL'); } catch { /* gone already */ }
    fs.rmSync(h.dir, { recursive: true, force: true });
  }
});

/**
 * Starts a server. `cors`: origins allowed to call it from a browser; `args`: more flags;
 * `tokens: false` starts it without a token file; `accessLog: true` writes one (accessLog(id) reads
 * it). Resolves { id, url, port, dir, data, write, read, srv (the helpers.js handle), stop() }.
 */
export async function startValori({ cors = [], args = [], tokens = true, data, accessLog = false } = {}) {
  const dir = tmpDir('jsremote');
  const flags = ['--data', data || path.join(dir, 'db'), ...args];
  if (accessLog) flags.push('--access-log', path.join(dir, 'access.log'));
  if (tokens) {
    const file = path.join(dir, 'tokens');
    fs.writeFileSync(file, `write ${WRITE_TOKEN}\nread ${READ_TOKEN}\n`);
    flags.push('--token-file', file);
  }
  if (cors.length) flags.push('--cors-origin', cors.join(','));
  const srv = await startServer(flags);
  const id = nextId++;
  const handle = {
    id, url: srv.url, port: srv.port, dir, data: data || path.join(dir, 'db'), srv,
    write: tokens ? WRITE_TOKEN : undefined, read: tokens ? READ_TOKEN : undefined,
    async stop(signal = 'SIGTERM') {
      running.delete(id);
      const x = await stopServer(srv, signal);
      fs.rmSync(dir, { recursive: true, force: true });
      return x;
    },
  };
  running.set(id, handle);
  return handle;
}

/** The access log of server `id` (started with accessLog: true): one line per request. */
export function accessLog(id) {
  const h = running.get(id);
  const file = h && path.join(h.dir, 'access.log');
  return file && fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** The handle of running server `id` (for the browser commands that act on it from Node). */
export function serverOf(id) {
  const h = running.get(id);
  if (!h) throw new Error(`no running valori server ${id}`);
  return h;
}

export function stopValori(id) {
  const h = running.get(id);
  return h ? h.stop() : Promise.resolve(null);
}

/** Stops every server this process started and has not stopped (test teardown). */
export async function stopAllValori() {
  await Promise.all([...running.values()].map((h) => h.stop('SIGKILL')));
}
