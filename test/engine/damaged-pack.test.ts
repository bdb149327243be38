/**
 * One flipped byte in a pack: check --read-data names the damaged blob, the files that use it
 * and the snapshots they are in; restore of such a file fails loudly and leaves nothing at the
 * target that looks like the file (no final name, no temporary file), while other files restore.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { restore } from '../../src/engine/restore.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { packKey, type Repository } from '../../src/repo/repository.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { listAll, sha256File, writeRandomFile } from '../helpers/files.js';
import { snapshotNodes } from '../helpers/snapshot-files.js';
import { flipByte } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import type { CheckReport } from '../../src/engine/check.js';

const MiB = 1024 * 1024;

function damagePack(repo: Repository, packId: string, offset: number): Promise<void> {
  return flipByte(repo.storage, packKey(packId), offset);
}

/**
 * Three snapshots: "models" and "mirror" both hold victim.bin (deduplicated: the same blobs),
 * "other" does not. Returns the repository and the blob of victim.bin that gets damaged.
 */
async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await writeRandomFile(path.join(src, 'sub/victim.bin'), 3 * MiB, 'victim');
  await writeRandomFile(path.join(src, 'bystander.bin'), 1 * MiB, 'bystander');
  const otherSrc = path.join(dir, 'other');
  await fs.mkdir(otherSrc);
  await writeRandomFile(path.join(otherSrc, 'unrelated.bin'), 1 * MiB, 'unrelated');
  const location = repoUrl(path.join(dir, 'repo'));
  const repo = await createRepo(path.join(dir, 'repo'));
  const models = await backup(repo, { asset: 'models', paths: [src] });
  const mirror = await backup(repo, { asset: 'mirror', paths: [src] });
  const other = await backup(repo, { asset: 'other', paths: [otherSrc] });
  const victim = (await snapshotNodes(repo, models.snapshotId)).get('sub/victim.bin');
  assert.deepEqual(models.snapshot.incomplete, []);
  assert.ok(victim?.type === 'file' && victim.content.length >= 2, 'victim.bin has several chunks');
  const blob = victim.content[1] as string;
  const { index } = await loadIndex(repo);
  const where = index.get(Buffer.from(blob, 'hex'))!;
  return { dir, src, repo, location, blob, where, snapshots: { models: models.snapshotId, mirror: mirror.snapshotId, other: other.snapshotId } };
}

function affectedSorted(report: CheckReport) {
  return report.affected.map((a) => `${a.asset} ${a.snapshot} ${a.path}`).sort();
}

test('check --read-data names the damaged blob, every file that uses it, and their snapshots', async (t) => {
  const { repo, blob, where, snapshots } = await setup(t);
  assert.equal((await check(repo, { readData: 1 })).ok, true, 'the repository is sound before the damage');
  await damagePack(repo, where.packId, where.offset + Math.floor(where.storedLength / 2));

  const structural = await check(repo);
  assert.equal(structural.ok, true, 'without reading data, a flipped byte inside a blob cannot be seen');
  assert.equal(structural.packsRead, 0);

  const report = await check(repo, { readData: 1 });
  assert.equal(report.ok, false);
  assert.deepEqual(report.damagedBlobs.map((d) => [d.blob, d.pack]), [[blob, where.packId]], 'exactly the hit blob is reported');
  assert.match(report.damagedBlobs[0].problem, /failed authentication|corrupt|damaged/);
  assert.deepEqual(affectedSorted(report), [`mirror ${snapshots.mirror} sub/victim.bin`, `models ${snapshots.models} sub/victim.bin`]);
  assert.ok(report.packsRead >= 1);
});

test('a flipped byte outside every blob (in the pack header) is reported; the data still restores', async (t) => {
  const { dir, src, repo, where, snapshots } = await setup(t);
  const packBytes = (await repo.storage.head(packKey(where.packId)))!.size;
  await damagePack(repo, where.packId, packBytes - 10); // inside the sealed header, before its 4-byte length
  const report = await check(repo, { readData: 1 });
  assert.equal(report.ok, false);
  assert.deepEqual(report.damagedBlobs, []);
  assert.equal(report.errors.length, 1);
  assert.match(report.errors[0], new RegExp(`pack ${where.packId.slice(0, 12)}.*damaged`));
  const target = path.join(dir, 'out');
  const result = await restore(repo, { snapshot: snapshots.models, target });
  assert.deepEqual(result.failed, []);
  assert.equal(await sha256File(path.join(target, 'sub/victim.bin')), await sha256File(path.join(src, 'sub/victim.bin')));
});

test('restore of a damaged file exits 13 (damage found) naming it, leaves no file or temporary file for it, and restores the rest', async (t) => {
  const { dir, src, repo, location, where, snapshots } = await setup(t);
  await damagePack(repo, where.packId, where.offset + Math.floor(where.storedLength / 2));
  const target = path.join(dir, 'out');
  const r = await runCli(['restore', '-r', location, snapshots.models, '--target', target]);
  assert.equal(r.code, 13, r.stderr);
  assert.match(r.stderr, /NOT restored/);
  assert.match(r.stderr, new RegExp(`${target}/sub/victim\\.bin: .*(failed authentication|corrupt|damaged)`));
  assert.deepEqual(await listAll(target), ['bystander.bin', 'sub'], 'no victim.bin and no temporary file in the target');
  assert.equal(await sha256File(path.join(target, 'bystander.bin')), await sha256File(path.join(src, 'bystander.bin')));

  const single = path.join(dir, 'single');
  const r2 = await runCli(['restore', '-r', location, `${snapshots.mirror.slice(0, 8)}:sub/victim.bin`, '--target', single]);
  assert.equal(r2.code, 13);
  assert.match(r2.stderr, /victim\.bin/);
  assert.deepEqual(await listAll(single), []);
});

test('the CLI check --read-data exits 13 and its JSON names blob, file and snapshots', async (t) => {
  const { repo, location, blob, where, snapshots } = await setup(t);
  await damagePack(repo, where.packId, where.offset + 100);
  const { result, json } = await runCliJson<CheckReport>(['check', '-r', location, '--read-data']);
  assert.equal(result.code, 13);
  assert.equal(json.ok, false);
  assert.deepEqual(json.damagedBlobs.map((d) => d.blob), [blob]);
  assert.deepEqual(affectedSorted(json), [`mirror ${snapshots.mirror} sub/victim.bin`, `models ${snapshots.models} sub/victim.bin`]);

  const human = await runCli(['check', '-r', location, '--read-data']);
  assert.equal(human.code, 13);
  assert.match(human.stdout, new RegExp(`damaged blob ${blob.slice(0, 12)}`));
  assert.match(human.stdout, new RegExp(`affected: snapshot ${snapshots.models.slice(0, 12)} \\(models\\) file sub/victim.bin`));
  assert.doesNotMatch(human.stdout, /unrelated/);
});

