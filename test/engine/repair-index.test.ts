/**
 * Repair index: a damaged or lost index file makes commands fail with a message that names the
 * file and says to run "lifeboat repair index"; the repair rebuilds the index from the pack
 * headers, after which check --read-data passes and restore gives back the same bytes. A pack
 * whose header is damaged is reported by id and left in place. Objects are damaged through the
 * Storage interface, so these specifications hold on any backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { repairIndex } from '../../src/engine/repair-index.js';
import { restore } from '../../src/engine/restore.js';
import { IndexDamagedError } from '../../src/repo/errors.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { listIds, objectKey, packKey, saveObject, storedPacks, type Repository } from '../../src/repo/repository.js';
import type { Storage } from '../../src/storage/storage.js';
import { manifest, writeRandomFile } from '../helpers/files.js';
import { flipByte, overwriteObject } from '../helpers/test-backend.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

/** Two backups into 1 MiB packs, so there are several packs and several index files. */
async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await writeRandomFile(path.join(src, 'weights.bin'), 3 * MiB, 'weights');
  await fs.writeFile(path.join(src, 'sub/config.json'), '{"layers": 2}\n');
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 1 * MiB });
  await backup(repo, { asset: 'first', paths: [path.join(src, 'sub')] });
  const { snapshotId } = await backup(repo, { asset: 'model', paths: [src] });
  assert.ok((await listIds(repo.storage, 'index')).length >= 2, 'two backups wrote at least two index files');
  assert.ok((await storedPacks(repo)).size >= 3, 'several packs');
  return { dir, src, repo, snapshotId };
}

/** Flips a byte of a stored object `fromEnd` bytes before its end (in a pack: inside the sealed header). */
async function flipNearEnd(storage: Storage, key: string, fromEnd: number): Promise<void> {
  await flipByte(storage, key, (await storage.head(key))!.size - fromEnd);
}

/** After a repair: check --read-data passes and the snapshot restores to the source's exact bytes. */
async function assertWhole(repo: Repository, src: string, snapshotId: string, target: string): Promise<void> {
  const report = await check(repo, { readData: 1 });
  assert.equal(report.ok, true, [...report.errors, ...report.damagedBlobs.map((d) => d.problem)].join('; '));
  assert.deepEqual(report.unreferencedPacks, [], 'every stored pack is indexed again');
  const result = await restore(repo, { snapshot: snapshotId, target });
  assert.deepEqual(result.failed, []);
  assert.deepEqual(await contents(target), await contents(src));
}

/** Paths, types and file bytes (by SHA-256) below `root`. */
async function contents(root: string): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(await manifest(root)).map(([p, e]) => [p, `${e.type} ${e.sha256 ?? ''}`]));
}

test('a damaged index file stops commands with a message naming it and the repair command', async (t) => {
  const { dir, src, repo, snapshotId } = await setup(t);
  const [victim] = await listIds(repo.storage, 'index');
  await flipByte(repo.storage, objectKey('index', victim), 20);

  const expected = (err: unknown) => {
    assert.ok(err instanceof IndexDamagedError, String(err));
    assert.equal(err.indexId, victim);
    assert.equal(err.code, 'INDEX_DAMAGED');
    assert.ok(err.message.startsWith(`index file index/${victim} in ${repo.storage.location} is damaged`), err.message);
    assert.ok(err.message.endsWith(`: run "lifeboat repair index -r ${repo.storage.location}" to rebuild the index from the packs`), err.message);
    return true;
  };
  await assert.rejects(check(repo), expected);
  await assert.rejects(restore(repo, { snapshot: snapshotId, target: path.join(dir, 'never') }), expected);
  await assert.rejects(backup(repo, { asset: 'more', paths: [src] }), expected);
});

test('an index file that authenticates but does not decode gets the same message', async (t) => {
  const { repo } = await setup(t);
  const [victim] = await listIds(repo.storage, 'index');
  // A sealed index whose plaintext is not an index: written as a buggy or hostile writer would.
  const forged = await saveObject(repo, 'index', Buffer.from('not an index'));
  await repo.storage.delete(objectKey('index', victim));
  await assert.rejects(loadIndex(repo), (err: unknown) => err instanceof IndexDamagedError && err.indexId === forged && /malformed.*lifeboat repair index/.test(err.message));
});

test('repair index after a damaged index file: check --read-data passes and restore gives identical bytes', async (t) => {
  const { dir, src, repo, snapshotId } = await setup(t);
  const oldIds = await listIds(repo.storage, 'index');
  await flipByte(repo.storage, objectKey('index', oldIds[0]), 20);

  const result = await repairIndex(repo);
  const stored = await storedPacks(repo);
  assert.deepEqual(result.damagedPacks, []);
  assert.deepEqual(result.damagedIndexes.map((d) => d.index), [oldIds[0]]);
  assert.equal(result.packs, stored.size, 'every stored pack is indexed');
  assert.equal(result.indexesDeleted, oldIds.length);
  const newIds = await listIds(repo.storage, 'index');
  assert.equal(newIds.length, result.indexesWritten);
  assert.ok(newIds.every((id) => !oldIds.includes(id)), 'the old index files are gone');
  const { index } = await loadIndex(repo);
  assert.deepEqual(index.packs().sort(), [...stored.keys()].sort(), 'the new index covers exactly the stored packs');
  assert.equal(result.blobs, index.size);
  await assertWhole(repo, src, snapshotId, path.join(dir, 'out'));
});

test('repair index after every index file was deleted rebuilds the same index', async (t) => {
  const { dir, src, repo, snapshotId } = await setup(t);
  const before = await loadIndex(repo);
  for (const id of before.indexIds) await repo.storage.delete(objectKey('index', id));
  await assert.rejects(restore(repo, { snapshot: snapshotId, target: path.join(dir, 'broken') }), /not in the index/, 'without an index nothing can be found');

  const result = await repairIndex(repo);
  assert.equal(result.packsAdded, result.packs, 'every pack was unlisted before');
  assert.equal(result.packsDropped, 0);
  assert.equal(result.indexesDeleted, 0);
  const after = (await loadIndex(repo)).index;
  assert.equal(after.size, before.index.size);
  before.index.forEach((id, blob) => assert.deepEqual(after.get(id), blob, `blob ${Buffer.from(id).toString('hex').slice(0, 12)} is where it was`));
  await assertWhole(repo, src, snapshotId, path.join(dir, 'out'));
});

test('a pack with a damaged header is reported by id and left in place; the other packs are indexed', async (t) => {
  const { repo } = await setup(t);
  const stored = await storedPacks(repo);
  const victim = [...stored.keys()][0];
  await flipNearEnd(repo.storage, packKey(victim), 10);

  const result = await repairIndex(repo);
  assert.deepEqual(result.damagedPacks.map((d) => d.pack), [victim]);
  assert.match(result.damagedPacks[0].problem, /header of pack .* failed authentication/);
  assert.equal(result.packs, stored.size - 1);
  assert.equal(result.packsDropped, 1, 'the damaged pack was indexed before and is not now');
  assert.ok(await repo.storage.head(packKey(victim)), 'the damaged pack is still on storage');
  const { index } = await loadIndex(repo);
  assert.deepEqual(index.packs().sort(), [...stored.keys()].filter((p) => p !== victim).sort());
  const report = await check(repo);
  assert.deepEqual(report.unreferencedPacks, [victim], 'check still sees the pack, as one no index lists');
});

test('a pack truncated to less than its header is reported, not indexed, and kept', async (t) => {
  const { repo } = await setup(t);
  const victim = [...(await storedPacks(repo)).keys()][1];
  const bytes = await repo.storage.get(packKey(victim));
  await overwriteObject(repo.storage, packKey(victim), bytes.subarray(0, bytes.length - 100));
  const result = await repairIndex(repo);
  assert.deepEqual(result.damagedPacks.map((d) => d.pack), [victim]);
  assert.match(result.damagedPacks[0].problem, /damaged|truncated|failed authentication/);
  assert.ok(await repo.storage.head(packKey(victim)));
});

test('a pack whose header is larger than the first range read (thousands of small blobs) is rebuilt too', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  // 2000 distinct small files: one blob each, so one pack's header holds 2000 × 42 bytes (> 64 KiB).
  for (let i = 0; i < 2000; i++) await fs.writeFile(path.join(src, `f${i}.txt`), `file number ${i}\n`);
  const repo = await createRepo(path.join(dir, 'repo'));
  const { snapshotId } = await backup(repo, { asset: 'many', paths: [src] });
  const before = await loadIndex(repo);
  assert.ok(before.index.size > 2000);
  for (const id of before.indexIds) await repo.storage.delete(objectKey('index', id));

  const result = await repairIndex(repo);
  assert.deepEqual(result.damagedPacks, []);
  assert.equal(result.blobs, before.index.size);
  await assertWhole(repo, src, snapshotId, path.join(dir, 'out'));
});
