/**
 * Disk full on restore: a clear error naming the file, exit 1, nothing left at the file's final
 * name and no temporary file (the space is given back). Uses a 2 MiB tmpfs (needs root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { runCli } from '../helpers/cli.js';
import { listAll, sha256File, writeRandomFile } from '../helpers/files.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir, type TestContextLike } from '../helpers/tmp-dir.js';

/** A small tmpfs, unmounted and removed after the test; undefined when mounting is not possible here. */
async function smallFilesystem(t: TestContextLike, size: string): Promise<string | undefined> {
  const mnt = await fs.mkdtemp(path.join(os.tmpdir(), 'lifeboat-full-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { encoding: 'utf8' });
  if (r.status !== 0) {
    await fs.rmdir(mnt);
    return undefined;
  }
  t.after(async () => {
    spawnSync('umount', [mnt]);
    await fs.rmdir(mnt);
  });
  return mnt;
}

test('restore into a full filesystem: clear error, exit 1, no partial file and no temporary file left', async (t) => {
  const mnt = await smallFilesystem(t, '2m');
  if (!mnt) return t.skip('cannot mount a tmpfs here (needs root)');
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await fs.writeFile(path.join(src, 'small.txt'), 'fits\n');
  await writeRandomFile(path.join(src, 'big.bin'), 4 * 1024 * 1024, 'big');
  const repoDir = path.join(dir, 'repo');
  await backup(await createRepo(repoDir), { asset: 'a', paths: [src] });

  const freeBefore = (await fs.statfs(mnt)).bfree;
  const target = path.join(mnt, 'target');
  const r = await runCli(['restore', '-r', repoDir, 'latest', '--target', target]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /NOT restored/);
  assert.match(r.stderr, new RegExp(`${target}/big\\.bin: .*no space left on device`, 'i'));
  const left = await listAll(target);
  assert.ok(!left.some((p) => p.includes('big.bin')), `no big.bin and no temporary file for it: ${left.join(', ')}`);
  if (left.includes('small.txt')) assert.equal(await sha256File(path.join(target, 'small.txt')), await sha256File(path.join(src, 'small.txt')), 'what was restored is complete');
  const freeAfter = (await fs.statfs(mnt)).bfree;
  assert.ok(freeBefore - freeAfter <= 8, `the space the partial file took was given back (${freeBefore} -> ${freeAfter} free blocks)`);
});
