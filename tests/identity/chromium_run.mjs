// chromium_run.mjs: runs the wasm identity runner inside headless Chromium and prints its transcript.
//   node tests/identity/chromium_run.mjs BUILD_DIR [config,...]
// Serves BUILD_DIR (identity.html, identity_runner.js/.wasm) on 127.0.0.1, port 0; the page posts the
// transcript back to /result when the program exits. No npm dependencies. Exit status: the runner's.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';

const dir = path.resolve(process.argv[2] || '.');
const names = process.argv[3] || '';
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const timeoutMs = Number(process.env.IDENTITY_BROWSER_TIMEOUT_MS || 300000);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

let browser = null;
let done = false;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-identity-chromium-'));
function cleanup(code) {
  try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 }); } catch { /* best effort */ }
  process.exit(code);
}
function finish(code, text) {
  if (done) return;
  done = true;
  if (text) process.stdout.write(text);
  server.close();
  if (browser) {
    browser.once('exit', () => cleanup(code));
    browser.kill('SIGKILL');
  } else {
    cleanup(code);
  }
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (req.method === 'POST' && url.pathname === '/result') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.end('ok');
      const code = url.searchParams.get('code');
      finish(code === '0' ? 0 : 1, Buffer.concat(chunks).toString('utf8'));
    });
    return;
  }
  const file = path.join(dir, path.normalize(url.pathname).replace(/^\/+/, ''));
  if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
  fs.createReadStream(file).pipe(res);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}/identity.html#${names}`;
  browser = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', `--user-data-dir=${profile}`, url], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  browser.stderr.on('data', (d) => { err += d; if (err.length > 20000) err = err.slice(-20000); });
  browser.on('exit', (code) => {
    if (done) return;
    browser = null;
    process.stderr.write(`chromium exited (${code}) before the page reported\n${err}`);
    finish(1);
  });
});
setTimeout(() => { process.stderr.write('chromium_run: timed out\n'); finish(1); }, timeoutMs).unref();
