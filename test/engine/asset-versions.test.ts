/**
 * Asset version numbers: ASSET@v1, v2, ... assigned when a snapshot is written, per asset, and
 * never given again, also after forget removed the newest one (its forget record keeps the number).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { forget } from '../../src/engine/forget.js';
import { listForgotten } from '../../src/engine/forgotten.js';
import { resolveSnapshot, type StoredSnapshot } from '../../src/engine/snapshots.js';
import { nextAssetVersion } from '../../src/engine/versions.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

test('nextAssetVersion is one past the highest number of the asset among snapshots and forgotten versions', () => {
  const s = (asset: string, assetVersion?: number) => ({ id: `${asset}${assetVersion}`, snapshot: { asset, assetVersion } }) as StoredSnapshot;
  const forgotten = [{ snapshot: 'x', asset: 'a', assetVersion: 9, time: '', tree: '', forgotten: '' }];
  assert.equal(nextAssetVersion([], [], 'a'), 1);
  assert.equal(nextAssetVersion([s('a', 2), s('a', 5), s('b', 7), s('a')], [], 'a'), 6, 'unnumbered (older) snapshots do not count');
  assert.equal(nextAssetVersion([s('a', 2)], forgotten, 'a'), 10);
  assert.equal(nextAssetVersion([s('b', 1)], forgotten, 'b'), 2);
});

test('versions are per asset, never reused after forget, and every snapshot spec takes ASSET@vN', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  const run = async (asset: string, content: string) => {
    await fs.writeFile(path.join(src, 'f'), content);
    return (await backup(repo, { asset, paths: [src] })).snapshot.assetVersion;
  };
  assert.deepEqual([await run('ds', '1'), await run('ds', '2'), await run('model', 'm'), await run('ds', '3')], [1, 2, 1, 3]);
  const v2 = await resolveSnapshot(repo, 'ds@v2');
  assert.equal(v2.snapshot.assetVersion, 2);
  // Forget every ds snapshot, the newest (v3) included: its number must stay taken.
  await forget(repo, { keepLast: 0, asset: 'ds' });
  assert.deepEqual((await listForgotten(repo)).map((f) => f.assetVersion).sort(), [1, 2, 3]);
  await assert.rejects(resolveSnapshot(repo, 'ds@v3'), /ds@v3 was forgotten on .* \(snapshot [0-9a-f]{12}\)/);
  await assert.rejects(resolveSnapshot(repo, 'ds@v7'), /ds has no version v7/);
  assert.equal(await run('ds', '4'), 4);
  assert.equal((await resolveSnapshot(repo, 'ds@v4')).snapshot.assetVersion, 4);
  assert.equal((await resolveSnapshot(repo, 'model@v1')).snapshot.asset, 'model');
  // A dry run records nothing.
  await forget(repo, { keepLast: 0, asset: 'model', dryRun: true });
  assert.equal((await listForgotten(repo)).length, 3);
});
