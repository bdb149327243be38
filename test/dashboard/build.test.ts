/**
 * The dashboard ships built (web/dist, committed, in the package's files) so that `npx lifeboat
 * serve` needs no build step. This keeps that honest: web/ type-checks, and building its sources
 * again gives exactly the committed files (run `npm run build:web` and commit web/dist after a
 * change to web/src).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp-dir.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const COMMITTED = path.join(ROOT, 'web', 'dist');

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function files(dir: string, prefix = ''): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.join(prefix, e.name);
    if (e.isDirectory()) for (const [k, v] of await files(dir, rel)) out.set(k, v);
    else out.set(rel, await fs.readFile(path.join(dir, rel)));
  }
  return out;
}

test('web/ type-checks, and web/dist is the build of web/src as committed', async (t) => {
  const tsc = await run([path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'web/tsconfig.json']);
  assert.equal(tsc.code, 0, tsc.output);
  const out = await tempDir(t);
  const vite = await run([path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts', '--outDir', out, '--emptyOutDir']);
  assert.equal(vite.code, 0, vite.output);
  const fresh = await files(out);
  const committed = await files(COMMITTED);
  const stale = 'web/dist is not the build of web/src: run "npm run build:web" and commit web/dist';
  assert.deepEqual([...committed.keys()].sort(), [...fresh.keys()].sort(), stale);
  for (const [name, bytes] of fresh) assert.ok(bytes.equals(committed.get(name)!), `${name}: ${stale}`);
  assert.ok(fresh.has('index.html') && [...fresh.keys()].some((k) => k.startsWith(`static${path.sep}`) && k.endsWith('.js')));
});
