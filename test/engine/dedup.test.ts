/**
 * Deduplication and change detection: a backup stores only what the repository does not have,
 * and reads only files that changed since the parent snapshot of the same asset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { stats } from '../../src/engine/inspect.js';
import { restore } from '../../src/engine/restore.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { sha256File, writeRandomFile } from '../helpers/files.js';
import { rawLengthOf, snapshotNodes } from '../helpers/snapshot-files.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

async function sourceWithTwoFiles(dir: string): Promise<string> {
  const src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await writeRandomFile(path.join(src, 'a.bin'), 3 * MiB, 'a');
  await writeRandomFile(path.join(src, 'sub/b.bin'), 2 * MiB, 'b');
  return src;
}

test('a second backup of unchanged data reads nothing and adds no blobs', async (t) => {
  const dir = await tempDir(t);
  const src = await sourceWithTwoFiles(dir);
  const repo = await createRepo(path.join(dir, 'repo'));
  const first = await backup(repo, { asset: 'm', paths: [src] });
  assert.equal(first.snapshot.summary.readBytes, 5 * MiB);
  assert.ok(first.snapshot.summary.newRawBytes >= 5 * MiB);

  const second = await backup(repo, { asset: 'm', paths: [src] });
  assert.equal(second.snapshot.parent, first.snapshotId, 'the parent is the latest snapshot of the same asset');
  assert.equal(second.snapshot.summary.readBytes, 0, 'unchanged files are not read');
  assert.equal(second.snapshot.summary.newBlobs, 0);
  assert.equal(second.snapshot.summary.newStoredBytes, 0);
  assert.equal(second.snapshot.summary.totalBytes, 5 * MiB);
  assert.equal(second.snapshot.tree, first.snapshot.tree, 'same content, same root tree');
});

test('the same data under another asset is read (no parent) but stores no new data blobs', async (t) => {
  const dir = await tempDir(t);
  const src = await sourceWithTwoFiles(dir);
  const repo = await createRepo(path.join(dir, 'repo'));
  await backup(repo, { asset: 'one', paths: [src] });
  const other = await backup(repo, { asset: 'two', paths: [src] });
  assert.equal(other.snapshot.parent, undefined);
  assert.equal(other.snapshot.summary.readBytes, 5 * MiB);
  assert.equal(other.snapshot.summary.newBlobs, 0, 'every chunk was already in the repository');
});

test('a changed file is read again, unchanged ones are skipped; a forced backup reads everything', async (t) => {
  const dir = await tempDir(t);
  const src = await sourceWithTwoFiles(dir);
  const repo = await createRepo(path.join(dir, 'repo'));
  await backup(repo, { asset: 'm', paths: [src] });

  // Same size, new content: only the mtime/ctime tell the change.
  await writeRandomFile(path.join(src, 'sub/b.bin'), 2 * MiB, 'b2');
  const changed = await backup(repo, { asset: 'm', paths: [src] });
  assert.equal(changed.snapshot.summary.readBytes, 2 * MiB, 'only sub/b.bin is read');
  assert.ok(changed.snapshot.summary.newRawBytes >= 2 * MiB, 'its new content is stored');
  const nodes = await snapshotNodes(repo, changed.snapshotId);
  const b = nodes.get('sub/b.bin');
  assert.equal(b?.type === 'file' && b.sha256, await sha256File(path.join(src, 'sub/b.bin')));

  // A metadata-only change (touch) is re-read too, but stores nothing new.
  const later = new Date(Date.now() + 5000);
  await fs.utimes(path.join(src, 'a.bin'), later, later);
  const touched = await backup(repo, { asset: 'm', paths: [src] });
  assert.equal(touched.snapshot.summary.readBytes, 3 * MiB);
  assert.ok(touched.snapshot.summary.newRawBytes < 64 * 1024, `only trees are new, got ${touched.snapshot.summary.newRawBytes} bytes`);

  const forced = await backup(repo, { asset: 'm', paths: [src], parent: null });
  assert.equal(forced.snapshot.summary.readBytes, 5 * MiB);
  assert.equal(forced.snapshot.summary.newBlobs, 0);
});

test('appending to a big file stores only the new chunks: every earlier chunk but the last is reused', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  const big = path.join(src, 'big.bin');
  await writeRandomFile(big, 24 * MiB, 'big');
  const repo = await createRepo(path.join(dir, 'repo'));
  const first = await backup(repo, { asset: 'big', paths: [src] });
  const before = (await snapshotNodes(repo, first.snapshotId)).get('big.bin');
  assert.ok(before?.type === 'file' && before.content.length >= 8, 'the file is cut into many chunks');

  const appended = 1 * MiB;
  await writeRandomFile(big, appended, 'tail', 'a');
  const second = await backup(repo, { asset: 'big', paths: [src] });
  const after = (await snapshotNodes(repo, second.snapshotId)).get('big.bin');
  assert.ok(after?.type === 'file');
  assert.deepEqual(after.content.slice(0, before.content.length - 1), before.content.slice(0, -1), 'the chunks before the old end are unchanged');

  const { index } = await loadIndex(repo);
  const lastOld = rawLengthOf(index, before.content[before.content.length - 1] as string);
  const s = second.snapshot.summary;
  assert.ok(s.newRawBytes >= appended, 'the appended bytes are stored');
  assert.ok(s.newRawBytes <= appended + lastOld + 64 * 1024, `stored ${s.newRawBytes} new bytes: at most the tail, the re-cut last chunk and trees`);

  const target = path.join(dir, 'out');
  await restore(repo, { snapshot: second.snapshotId, target });
  assert.equal(await sha256File(path.join(target, 'big.bin')), await sha256File(big));
});

test('backup --parent names the snapshot to compare against, by id or ASSET@latest, even of another asset', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await fs.writeFile(path.join(src, 'weights.bin'), crypto.randomBytes(3 * 1024 * 1024));
  const first = await backup(repo, { asset: 'base', paths: [src] });
  const byId = await backup(repo, { asset: 'ft', paths: [src], parent: first.snapshotId });
  assert.equal(byId.snapshot.parent, first.snapshotId);
  assert.equal(byId.snapshot.summary.readBytes, 0, 'unchanged files of the named parent are not read again');
  const bySpec = await backup(repo, { asset: 'ft2', paths: [src], parent: 'base@latest' });
  assert.equal(bySpec.snapshot.summary.readBytes, 0);
  await assert.rejects(backup(repo, { asset: 'x', paths: [src], parent: 'nope@latest' }), /no snapshot of asset "nope"/);
});

test('stats of a single snapshot of unique data shows a dedup ratio of exactly 1 (tree listings do not count)', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await fs.writeFile(path.join(src, 'sub', 'a.bin'), crypto.randomBytes(2 * 1024 * 1024));
  const { snapshotId } = await backup(repo, { asset: 'a', paths: [src] });
  const s = await stats(repo, snapshotId);
  assert.equal(s.dedupRatio, 1);
  assert.ok(s.rawBytes > 2 * 1024 * 1024, 'raw bytes include the tree blobs');
});
