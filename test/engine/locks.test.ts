/**
 * Locks: a lock whose process is gone (same host, dead pid) blocks nothing, even an exclusive
 * one; a live exclusive lock stops a backup or a restore with a message that says who holds it and
 * what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import { backup } from '../../src/engine/backup.js';
import { restore } from '../../src/engine/restore.js';
import { LockedError } from '../../src/repo/errors.js';
import { listLocks, removeLocks, type LockInfo } from '../../src/repo/lock.js';
import { objectKey, saveObject, type Repository } from '../../src/repo/repository.js';
import { runCli } from '../helpers/cli.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

/** Writes a lock as another process would have written it. */
async function plantLock(repo: Repository, kind: LockInfo['kind'], pid: number, hostname = os.hostname()): Promise<string> {
  const now = new Date().toISOString();
  const info: LockInfo = { kind, operation: 'prune', hostname, pid, created: now, refreshed: now };
  return saveObject(repo, 'lock', Buffer.from(JSON.stringify(info)));
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

async function source(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'src'));
  await fs.writeFile(path.join(dir, 'src', 'f.txt'), 'data\n');
  const repo = await createRepo(path.join(dir, 'repo'));
  return { dir, repo, src: path.join(dir, 'src') };
}

test('an exclusive lock left by a dead process on this host does not block a backup; unlock removes it', async (t) => {
  const { repo, src } = await source(t);
  const stale = await plantLock(repo, 'exclusive', deadPid());
  const { snapshot } = await backup(repo, { asset: 'a', paths: [src] });
  assert.equal(snapshot.summary.files, 1);
  assert.deepEqual((await listLocks(repo)).map((l) => l.id), [stale], 'the backup released its own lock');
  assert.equal(await removeLocks(repo), 1);
  assert.deepEqual(await listLocks(repo), []);
});

test('a live exclusive lock stops a backup (engine: LockedError; CLI: exit 11 naming the holder)', async (t) => {
  const { dir, repo, src } = await source(t);
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => void holder.kill('SIGKILL'));
  await plantLock(repo, 'exclusive', holder.pid!);
  await assert.rejects(backup(repo, { asset: 'a', paths: [src] }), LockedError);
  const r = await runCli(['backup', '-r', repoUrl(path.join(dir, 'repo')), '--asset', 'a', src]);
  assert.equal(r.code, 11);
  assert.match(r.stderr, new RegExp(`locked exclusively by "prune" \\(pid ${holder.pid} on ${os.hostname()}.*lifeboat unlock`));
  assert.equal(await removeLocks(repo), 0, 'unlock without --all leaves a live lock alone');
  assert.equal((await listLocks(repo)).length, 1, 'and the refused backup left no lock of its own');
});

test('a lock from another host is not judged by pid: it blocks until it is older than the stale limit', async (t) => {
  const { repo, src } = await source(t);
  await plantLock(repo, 'exclusive', deadPid(), 'some-other-host');
  await assert.rejects(backup(repo, { asset: 'a', paths: [src] }), /some-other-host/);
});

test('a live exclusive lock stops a restore before it writes anything, also when what it read meanwhile is gone', async (t) => {
  const { dir, repo, src } = await source(t);
  const { snapshotId: id } = await backup(repo, { asset: 'a', paths: [src] });
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => void holder.kill('SIGKILL'));
  await plantLock(repo, 'exclusive', holder.pid!);
  const target = path.join(dir, 'out');
  await assert.rejects(restore(repo, { snapshot: id, target }), LockedError);
  // A prune half way: the snapshot restore asks for is already deleted. The lock is still the error.
  await repo.storage.delete(objectKey('snapshot', id));
  await assert.rejects(restore(repo, { snapshot: id, target }), LockedError);
  await assert.rejects(fs.access(target), 'nothing was written');
  assert.equal((await listLocks(repo)).length, 1, 'and the refused restores left no lock of their own');
});
