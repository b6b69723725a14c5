// example.node.test.js: examples/node/index.js runs and reopens its store (so the example cannot rot).
import { it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

it('examples/node runs end to end', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'valori-ex-'));
  try {
    const script = fileURLToPath(new URL('../../examples/node/index.js', import.meta.url));
    const out = execFileSync(process.execPath, [script, path.join(dir, 'db')], { encoding: 'utf8' });
    expect(out).toMatch(/hit 1 distance/);
    expect(out).toMatch(/reopened .*: 5 records/);
    const roots = [...out.matchAll(/state root ([0-9a-f]{64})/g)].map((m) => m[1]);
    expect(roots.length).toBe(2);
    expect(roots[0]).toBe(roots[1]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
