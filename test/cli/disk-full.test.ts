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
import { check } from '../../src/engine/check.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { runCli } from '../helpers/cli.js';
import { listAll, sha256File, writeRandomFile } from '../helpers/files.js';
import { TEST_BACKEND } from '../helpers/test-backend.js';
import { createRepo, reopenRepo, repoUrl } from '../helpers/test-repo.js';
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
  const location = repoUrl(repoDir);

  const freeBefore = (await fs.statfs(mnt)).bfree;
  const target = path.join(mnt, 'target');
  const r = await runCli(['restore', '-r', location, 'latest', '--target', target]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /NOT restored/);
  assert.match(r.stderr, new RegExp(`${target}/big\\.bin: .*no space left on device`, 'i'));
  const left = await listAll(target);
  assert.ok(!left.some((p) => p.includes('big.bin')), `no big.bin and no temporary file for it: ${left.join(', ')}`);
  if (left.includes('small.txt')) assert.equal(await sha256File(path.join(target, 'small.txt')), await sha256File(path.join(src, 'small.txt')), 'what was restored is complete');
  const freeAfter = (await fs.statfs(mnt)).bfree;
  assert.ok(freeBefore - freeAfter <= 8, `the space the partial file took was given back (${freeBefore} -> ${freeAfter} free blocks)`);
});

// The repository itself is on the full filesystem, so this one is about local repositories only.
const localOnly = { skip: TEST_BACKEND !== 'local' && 'the repository is on a full local filesystem' };

test('backup into a repository on a full filesystem: clear error, exit 1, no snapshot, the repository stays sound', localOnly, async (t) => {
  const mnt = await smallFilesystem(t, '3m');
  if (!mnt) return t.skip('cannot mount a tmpfs here (needs root)');
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await writeRandomFile(path.join(src, 'small.bin'), 200 * 1024, 'small');
  const repoDir = path.join(mnt, 'repo');
  const repo = await createRepo(repoDir, { packSize: 256 * 1024 });
  const first = await backup(repo, { asset: 'a', paths: [src] });
  await writeRandomFile(path.join(src, 'big.bin'), 6 * 1024 * 1024, 'big');

  const r = await runCli(['backup', '-r', repoDir, '--asset', 'a', src]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /no space left on the device of .*: free some space or move the repository, then run the command again/);
  assert.doesNotMatch(r.stderr, /cannot read/, 'a full repository is not mistaken for unreadable source files');
  const after = await reopenRepo(repoDir);
  assert.deepEqual((await listSnapshots(after)).map((s) => s.id), [first.snapshotId], 'no snapshot of the failed backup');
  const report = await check(after, { readData: 1 });
  assert.deepEqual(report.errors, []);
  assert.equal(report.ok, true, 'what was stored before is intact');
});
