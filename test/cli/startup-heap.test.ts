/**
 * The CLI loads only what a repository command needs. Why it matters: V8 keeps starting major
 * GCs when a heap above 8 MB takes in buffers at a high rate, which cost a restore a third of
 * its main thread. The gateway's libraries (zod, yaml, prom-client) and the AWS SDK are loaded
 * on demand, by the commands that use them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('loading the CLI keeps the heap under the 8 MB at which V8 starts marking', () => {
  const script = `import(${JSON.stringify(MAIN)}).then(() => { gc(); console.log(process.memoryUsage().heapUsed); })`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const mb = Number(r.stdout.trim()) / 1e6;
  assert.ok(mb < 7, `the CLI's heap after loading is ${mb.toFixed(1)} MB: something heavy is imported at start-up`);
});
