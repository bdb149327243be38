/**
 * One damaged snapshot object must not take the repository down with it: the other snapshots
 * still list and restore, backups still run, check reports the damaged one (exit 1), and asking
 * for the damaged one by id says that it is damaged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { chooseSnapshot } from '../../src/control/runbook-snapshot.js';
import { backup } from '../../src/engine/backup.js';
import { DamagedSnapshotsError, resolveSnapshot, SnapshotNotFoundError } from '../../src/engine/snapshots.js';
import { objectKey } from '../../src/repo/repository.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { flipByte } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

test('a damaged snapshot is reported by check and does not block listing, restoring or backing up the rest', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await fs.writeFile(path.join(src, 'a.txt'), 'first\n');
  const location = repoUrl(path.join(dir, 'repo'));
  const repo = await createRepo(path.join(dir, 'repo'));
  const good = await backup(repo, { asset: 'keep', paths: [src] });
  const bad = await backup(repo, { asset: 'lose', paths: [src] });
  const key = objectKey('snapshot', bad.snapshotId);
  await flipByte(repo.storage, key, (await repo.storage.head(key))!.size >> 1, 0x01);

  const list = await runCliJson<Array<{ id: string }>>(['snapshots', '-r', location]);
  assert.equal(list.result.code, 0, list.result.stderr);
  assert.deepEqual(list.json.map((s) => s.id), [good.snapshotId]);

  const target = path.join(dir, 'out');
  const restored = await runCli(['restore', '-r', location, good.snapshotId.slice(0, 8), '--target', target]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(await fs.readFile(path.join(target, 'a.txt'), 'utf8'), 'first\n');

  const named = await runCli(['restore', '-r', location, bad.snapshotId.slice(0, 8), '--target', path.join(dir, 'out2')]);
  assert.equal(named.code, 13, 'exit 13: damage found');
  assert.match(named.stderr, new RegExp(`snapshot ${bad.snapshotId.slice(0, 12)} .*damaged`));

  await fs.writeFile(path.join(src, 'b.txt'), 'second\n');
  const next = await runCliJson<{ parent: string }>(['backup', '-r', location, '--asset', 'keep', src]);
  assert.equal(next.result.code, 0, next.result.stderr);
  assert.equal(next.json.parent, good.snapshotId);

  const checked = await runCliJson<{ ok: boolean; errors: string[] }>(['check', '-r', location]);
  assert.equal(checked.result.code, 13);
  assert.equal(checked.json.ok, false);
  assert.ok(checked.json.errors.some((e) => e.includes(`snapshot ${bad.snapshotId.slice(0, 12)}`) && /damaged/.test(e)), checked.json.errors.join('; '));
});

test('resolving next to an unreadable object: a prefix it shares is ambiguous; a newest pick by --as-of is refused unless skipDamaged', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await fs.writeFile(path.join(src, 'a.txt'), 'first\n');
  const repo = await createRepo(path.join(dir, 'repo'));
  const good = await backup(repo, { asset: 'llama', paths: [src] });
  // An object whose name differs from the readable snapshot's id in the last character only (its bytes match no id).
  const twin = good.snapshotId.slice(0, 63) + (good.snapshotId.endsWith('0') ? '1' : '0');
  await repo.storage.put(objectKey('snapshot', twin), Buffer.from('not a snapshot'));

  await assert.rejects(resolveSnapshot(repo, good.snapshotId.slice(0, 63)), (err: Error) => err instanceof SnapshotNotFoundError && /ambiguous \(2 snapshots, 1 of them unreadable\)/.test(err.message));
  assert.equal((await resolveSnapshot(repo, good.snapshotId)).id, good.snapshotId, 'the full id is unique');
  await assert.rejects(resolveSnapshot(repo, twin), (err: Error) => (err as { code?: string }).code === 'INTEGRITY' && !(err instanceof DamagedSnapshotsError), 'the damaged one by its id: its own damage');

  const asOf = '2999-01-01T00:00:00Z';
  await assert.rejects(chooseSnapshot(repo, 'llama', { asOf }), (err: Error) => err instanceof DamagedSnapshotsError && err.code === 'INTEGRITY' && err.newestReadable?.id === good.snapshotId && err.damaged.includes(twin));
  const warnings: string[] = [];
  const chosen = await chooseSnapshot(repo, 'llama', { asOf, skipDamaged: true }, (m) => warnings.push(m));
  assert.equal(chosen.id, good.snapshotId);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], new RegExp(`cannot be read \\(${twin.slice(0, 12)}\\) and were skipped`));
});

test('an id or prefix reads only the snapshot objects it matches, so a damaged other one does not matter', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await fs.writeFile(path.join(src, 'a.txt'), 'first\n');
  const repo = await createRepo(path.join(dir, 'repo'));
  const ids: string[] = [];
  for (const asset of ['a', 'b', 'c', 'd']) ids.push((await backup(repo, { asset, paths: [src] })).snapshotId);
  await flipByte(repo.storage, objectKey('snapshot', ids[3]), 40, 0x01);
  const read: string[] = [];
  const get = repo.storage.get.bind(repo.storage);
  const counting = { ...repo, storage: { ...repo.storage, get: (...args: Parameters<typeof get>) => (read.push(args[0]), get(...args)) } };
  assert.equal((await resolveSnapshot(counting, ids[1].slice(0, 10))).snapshot.asset, 'b');
  assert.deepEqual(read.filter((k) => k.startsWith('snapshots/')), [objectKey('snapshot', ids[1])], 'one object read, of four');
  await assert.rejects(resolveSnapshot(counting, 'latest'), DamagedSnapshotsError, 'a newest pick still reads them all and sees the damage');
});
