/**
 * A pack file lost from storage (deleted, a failed disk): check names the files and snapshots
 * that need it, and restore fails exactly those files, naming them, while restoring the rest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { packKey } from '../../src/repo/repository.js';
import { runCli } from '../helpers/cli.js';
import { listAll, sha256File, writeRandomFile } from '../helpers/files.js';
import { snapshotNodes } from '../helpers/snapshot-files.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  // Written one after the other, with 1 MiB packs: the two files land in different packs.
  await writeRandomFile(path.join(src, 'lost.bin'), 2 * MiB, 'lost');
  await writeRandomFile(path.join(src, 'safe.bin'), 2 * MiB, 'safe');
  const location = repoUrl(path.join(dir, 'repo'));
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 1 * MiB });
  const { snapshotId } = await backup(repo, { asset: 'm', paths: [path.join(src, 'lost.bin')] });
  const both = await backup(repo, { asset: 'n', paths: [src] });
  const lost = (await snapshotNodes(repo, snapshotId)).get('lost.bin');
  const safe = (await snapshotNodes(repo, both.snapshotId)).get('safe.bin');
  assert.ok(lost?.type === 'file' && safe?.type === 'file');
  const { index } = await loadIndex(repo);
  const packOf = (blob: string | number) => index.get(Buffer.from(blob as string, 'hex'))!.packId;
  const packId = packOf(lost.content[0]);
  assert.ok(!safe.content.some((b) => typeof b === 'string' && packOf(b) === packId), 'safe.bin shares no pack with lost.bin');
  await repo.storage.delete(packKey(packId));
  return { dir, src, repo, location, packId, snapshots: [snapshotId, both.snapshotId] };
}

test('check names the missing pack, and every file and snapshot that needs it', async (t) => {
  const { repo, packId, snapshots } = await setup(t);
  for (const readData of [0, 1]) {
    const report = await check(repo, { readData });
    assert.equal(report.ok, false);
    assert.ok(report.errors.some((e) => e.includes(`pack ${packId.slice(0, 12)} is in the index but missing from storage`)), report.errors.join('; '));
    assert.deepEqual(
      report.affected.map((a) => `${a.snapshot} ${a.path}`).sort(),
      [`${snapshots[0]} lost.bin`, `${snapshots[1]} lost.bin`].sort(),
      `readData ${readData}: both snapshots holding lost.bin are affected, safe.bin is not`,
    );
  }
});

test('restore fails the file whose pack is missing, naming it, and restores the others', async (t) => {
  const { dir, src, location, snapshots } = await setup(t);
  const target = path.join(dir, 'out');
  const r = await runCli(['restore', '-r', location, snapshots[1], '--target', target]);
  assert.equal(r.code, 13, r.stderr);
  assert.match(r.stderr, new RegExp(`${target}/lost\\.bin: `));
  assert.deepEqual(await listAll(target), ['safe.bin'], 'no lost.bin, no temporary file');
  assert.equal(await sha256File(path.join(target, 'safe.bin')), await sha256File(path.join(src, 'safe.bin')));
});
