/**
 * forget --keep-last removes snapshots (only); prune then deletes exactly the packs no remaining
 * snapshot needs, plus packs no index lists (left by an interrupted backup), and what remains
 * checks clean and restores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { collectBlobs } from '../../src/engine/reachable.js';
import { forget, planKeepLast } from '../../src/engine/forget.js';
import { prune } from '../../src/engine/prune.js';
import { restore } from '../../src/engine/restore.js';
import { listSnapshots, type StoredSnapshot } from '../../src/engine/snapshots.js';
import { makeTreeReader } from '../../src/engine/trees.js';
import { makeCodecSet } from '../../src/repo/codec/all.js';
import { sha256Hex } from '../../src/repo/crypto.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { listIds, objectKey, packKey, type Repository } from '../../src/repo/repository.js';
import { pseudoRandom, sha256File, writeRandomFile } from '../helpers/files.js';
import { flipByte } from '../helpers/test-backend.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

const snap = (asset: string, time: string): StoredSnapshot => ({ id: `${asset}-${time}`, snapshot: { asset, time } as StoredSnapshot['snapshot'] });

test('planKeepLast keeps the newest n of each asset (or of one asset)', () => {
  const all = [snap('a', '2026-01-03'), snap('b', '2026-01-01'), snap('a', '2026-01-01'), snap('a', '2026-01-02'), snap('b', '2026-01-02')];
  const plan = planKeepLast(all, 1);
  assert.deepEqual(plan.keep.map((s) => s.id).sort(), ['a-2026-01-03', 'b-2026-01-02']);
  assert.deepEqual(plan.remove.map((s) => s.id).sort(), ['a-2026-01-01', 'a-2026-01-02', 'b-2026-01-01']);
  assert.deepEqual(planKeepLast(all, 2, 'a').remove.map((s) => s.id), ['a-2026-01-01']);
  assert.equal(planKeepLast(all, 0).remove.length, 5);
});

async function packsNeeded(repo: Repository): Promise<Set<string>> {
  const { index } = await loadIndex(repo);
  const trees = makeTreeReader(repo, index, makeCodecSet(1));
  const packs = new Set<string>();
  const visited = new Set<string>();
  const seen = new Set<string>();
  for (const s of await listSnapshots(repo)) {
    const { data, trees: t } = await collectBlobs(trees, s.snapshot.tree, visited, seen);
    for (const id of [...data, ...t]) packs.add(index.get(Buffer.from(id, 'hex'))!.packId);
  }
  return packs;
}

async function storedPacks(repo: Repository): Promise<Set<string>> {
  const packs = new Set<string>();
  for await (const info of repo.storage.list('data/')) packs.add(info.key.slice(info.key.lastIndexOf('/') + 1));
  return packs;
}

test('forget --keep-last then prune deletes exactly the packs nothing needs, and the rest restores', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 512 * 1024 });
  const data = path.join(dir, 'data');
  await fs.mkdir(data);
  await writeRandomFile(path.join(data, 'kept.bin'), 2 * MiB, 'kept');
  await writeRandomFile(path.join(data, 'old.bin'), 2 * MiB, 'old');
  await backup(repo, { asset: 'm', paths: [data] });
  await fs.rm(path.join(data, 'old.bin'));
  await writeRandomFile(path.join(data, 'new.bin'), 2 * MiB, 'new');
  await backup(repo, { asset: 'm', paths: [data] });
  await writeRandomFile(path.join(data, 'newer.bin'), 1 * MiB, 'newer');
  const latest = await backup(repo, { asset: 'm', paths: [data] });
  // A pack left by an interrupted backup: stored, in no index.
  const stray = pseudoRandom(300_000, 'stray');
  await repo.storage.put(packKey(sha256Hex(stray)), stray);

  const dry = await forget(repo, { keepLast: 1, dryRun: true });
  assert.equal(dry.removed.length, 2);
  assert.equal((await listSnapshots(repo)).length, 3, 'a dry run removes nothing');
  const forgotten = await forget(repo, { keepLast: 1 });
  assert.deepEqual(forgotten.kept, [latest.snapshotId]);
  assert.equal(forgotten.removed.length, 2);
  assert.deepEqual(forgotten.locked, []);

  const before = await storedPacks(repo);
  const beforeSizes = new Map(await Promise.all([...before].map(async (id) => [id, (await repo.storage.head(packKey(id)))!.size] as const)));
  const needed = await packsNeeded(repo);
  const dryPrune = await prune(repo, { dryRun: true });
  assert.deepEqual(await storedPacks(repo), before, 'a dry prune deletes nothing');
  const oldIndexes = await listIds(repo.storage, 'index');
  const result = await prune(repo);
  assert.equal(result.packsDeleted, dryPrune.packsDeleted);
  const after = await storedPacks(repo);
  assert.deepEqual([...after].sort(), [...needed].sort(), 'exactly the packs the remaining snapshot needs stay');
  assert.ok(!after.has(sha256Hex(stray)), 'the unindexed pack is gone');
  assert.equal(result.packsDeleted, before.size - after.size);
  // Which blobs share a pack depends on how the workers interleaved the files, and a pack that
  // still holds a needed blob is kept whole: so the freed bytes are those of the deleted packs.
  const deletedBytes = [...before].filter((id) => !after.has(id)).reduce((n, id) => n + beforeSizes.get(id)!, 0);
  assert.ok(result.bytesFreed >= deletedBytes, `freed ${result.bytesFreed} bytes, less than the ${deletedBytes} the deleted packs held`);
  assert.ok(result.bytesFreed >= stray.length, 'the stray pack counts');
  assert.deepEqual([result.lockedPacks, result.lockedIndexes], [[], []]);
  const newIndexes = await listIds(repo.storage, 'index');
  assert.equal(newIndexes.filter((i) => oldIndexes.includes(i)).length, 0, 'the old index files were replaced');

  const report = await check(repo, { readData: 1 });
  assert.ok(report.ok && report.unreferencedPacks.length === 0, JSON.stringify(report.errors));
  const target = path.join(dir, 'restored');
  await restore(repo, { snapshot: 'latest', target });
  for (const f of ['kept.bin', 'new.bin', 'newer.bin']) assert.equal(await sha256File(path.join(target, f)), await sha256File(path.join(data, f)));
  const again = await prune(repo);
  assert.deepEqual([again.packsDeleted, again.indexesWritten], [0, 0], 'a second prune finds nothing');
});

test('prune deletes nothing while a snapshot cannot be read (it may need data nothing else does)', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 512 * 1024 });
  const data = path.join(dir, 'data');
  await fs.mkdir(data);
  await writeRandomFile(path.join(data, 'a.bin'), 1 * MiB, 'a');
  const first = await backup(repo, { asset: 'm', paths: [data] });
  await fs.rm(path.join(data, 'a.bin'));
  await writeRandomFile(path.join(data, 'b.bin'), 1 * MiB, 'b');
  await backup(repo, { asset: 'm', paths: [data] });
  const key = objectKey('snapshot', first.snapshotId);
  await flipByte(repo.storage, key, (await repo.storage.head(key))!.size - 3, 1);

  const before = await storedPacks(repo);
  await assert.rejects(prune(repo), /cannot be read.*nothing was deleted/);
  assert.deepEqual(await storedPacks(repo), before);
});
