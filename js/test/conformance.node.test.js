// conformance.node.test.js: JS and C agree (issue 11 defects 5 and 6). The same table of calls
// (tests/conformance/bad_calls.json) runs through the C API (tests/conformance/conformance.c,
// built by the native build into build/tests/conformance) and through the package:
//   - every bad call gets the same result code from both (and the table's expected code), and a
//     refused call leaves the state root unchanged on both;
//   - the script of good calls, issued back to back without waiting while every buffer handed to a
//     call is overwritten right after the call, gives the same results (ids, hits, graph walks,
//     records) and the same final state root as C: JS takes what it needs at call time.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Valori } from '../src/index.js';
import { runCall, runAllAtOnce, openWithSetup } from './conformance.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TABLE_FILE = path.join(REPO, 'tests', 'conformance', 'bad_calls.json');
const BUILD = process.env.VALORI_BUILD_DIR || path.join(REPO, 'build');
const RUNNER = path.join(BUILD, 'tests', 'conformance');
const table = JSON.parse(fs.readFileSync(TABLE_FILE, 'utf8'));

/** The C runner's output: lines "<i> <CODE> [result]" plus "root <hex>". */
function runC(mode) {
  if (!fs.existsSync(RUNNER)) {
    throw new Error(`${RUNNER} is missing: build the native tree first (cmake -S . -B build && cmake --build build; ` +
      'scripts/test.sh does this before npm test), or set VALORI_BUILD_DIR');
  }
  let out;
  try {
    out = execFileSync(RUNNER, [TABLE_FILE, mode], { encoding: 'utf8', maxBuffer: 1 << 26 });
  } catch (e) {
    throw new Error(`conformance ${mode} failed (${e.status}): ${e.stdout}${e.stderr}`);
  }
  const calls = [];
  let root = null;
  for (const line of out.trim().split('\n')) {
    const m = /^(\d+) (\S+) ?(.*)$/.exec(line);
    if (m) calls[Number(m[1])] = { code: m[2], result: m[3] };
    else if (line.startsWith('root ')) root = line.slice(5);
    else throw new Error(`conformance ${mode}: unexpected line ${line}`);
  }
  return { calls, root };
}

describe('JS and C agree on the table of calls (tests/conformance/bad_calls.json)', () => {
  it('gives every bad call the same code as C, and changes nothing', async () => {
    const c = runC('bad');
    const db = await openWithSetup(table);
    try {
      const root = await db.stateRoot();
      const got = [];
      for (const call of table.bad) {
        const r = await runCall(table, db, call);
        got.push(`${call.name}: ${r.code}`);
        expect(await db.stateRoot(), call.name).toBe(root);
      }
      expect(got).toEqual(table.bad.map((call, i) => `${call.name}: ${c.calls[i].code}`));
      expect(got).toEqual(table.bad.map((call) => `${call.name}: ${call.expect}`));
      expect(root).toBe(c.root);
    } finally {
      await db.close();
    }
  });

  it('reproduces C\'s results and root for the script while every buffer is mutated right after each call', async () => {
    const c = runC('script');
    const db = await Valori.open({ dim: table.dim });
    try {
      const got = await runAllAtOnce(table, db, table.script, { mutate: true });
      expect(got.map((r, i) => `${i} ${r.code} ${r.result}`)).toEqual(c.calls.map((r, i) => `${i} ${r.code} ${r.result}`));
      expect(await db.stateRoot()).toBe(c.root);
    } finally {
      await db.close();
    }
  });
});
