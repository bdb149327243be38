/**
 * The packer under many concurrent adds and a slow store: one pack is stored at a time, a pack
 * never grows past its size by more than the blob that filled it, and after flush every blob is
 * stored and indexed. (A pack assembled while two were being stored meant a third 20 MiB buffer.)
 * And a file's blobs reach the packs in file order, although its batches are sealed in parallel:
 * restore then reads them with few, long range reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { BlobIndex } from '../../src/repo/blob-index.js';
import { makePacker } from '../../src/engine/packer.js';
import { BlobType } from '../../src/repo/pack.js';
import type { Repository } from '../../src/repo/repository.js';
import { pseudoRandom, writeRandomFile } from '../helpers/files.js';
import { snapshotNodes } from '../helpers/snapshot-files.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const KiB = 1024;
const MiB = 1024 * KiB;

test('concurrent adds: one pack stored at a time, none bigger than its size plus one blob, all indexed after flush', async (t) => {
  const base = await createRepo(await tempDir(t), { packSize: 256 * KiB });
  let storing = 0;
  let mostStoring = 0;
  const packSizes: number[] = [];
  // A store that takes a while, so adds pile up behind it.
  const repo: Repository = {
    ...base,
    storage: {
      ...base.storage,
      put: async (key, data, options) => {
        if (!key.startsWith('data/')) return base.storage.put(key, data, options);
        mostStoring = Math.max(mostStoring, ++storing);
        packSizes.push(data.length);
        await new Promise((r) => setTimeout(r, 15));
        await base.storage.put(key, data, options);
        storing--;
      },
    },
  };
  const index = new BlobIndex();
  const packer = makePacker(repo, index);
  const blob = 40 * KiB;
  const ids = Array.from({ length: 48 }, (_, i) => createHash('sha256').update(`blob ${i}`).digest());
  // Six writers at once, as several files' batches do.
  await Promise.all(
    Array.from({ length: 6 }, async (_, w) => {
      for (let i = w; i < ids.length; i += 6) await packer.add(ids[i], BlobType.data, 0, blob, pseudoRandom(blob, i));
    }),
  );
  await packer.flush();
  assert.equal(mostStoring, 1, 'one pack is stored at a time');
  assert.ok(packSizes.length >= 7, `the blobs fill several packs (${packSizes.length})`);
  const header = 4 * KiB; // far more than the encrypted header of 6 entries
  for (const size of packSizes) assert.ok(size <= 256 * KiB + blob + header, `a pack of ${size} bytes is bigger than its size plus one blob`);
  for (const id of ids) assert.ok(index.has(id), 'every added blob is indexed after flush');
  assert.equal(packer.stats.blobs, ids.length);
});

test('a large file backed up in parallel batches lies in its packs in file order', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await writeRandomFile(path.join(src, 'weights.bin'), 40 * MiB, 'w'); // five 8 MiB read batches
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 4 * MiB });
  const { snapshotId } = await backup(repo, { asset: 'm', paths: [src] });
  const node = (await snapshotNodes(repo, snapshotId)).get('weights.bin')!;
  const { index } = await loadIndex(repo);
  const blobs = node.type === 'file' ? node.content.filter((r): r is string => typeof r === 'string').map((id) => index.get(Buffer.from(id, 'hex'))!) : [];
  assert.ok(blobs.length > 20, `the file is many blobs (${blobs.length})`);
  // Each blob follows the one before it in the same pack, except where a pack ends.
  const packs = new Set(blobs.map((b) => b.packId)).size;
  const breaks = blobs.slice(1).filter((b, i) => b.packId !== blobs[i].packId || b.offset !== blobs[i].offset + blobs[i].storedLength).length;
  assert.equal(breaks, packs - 1, `${breaks} breaks in file order across ${packs} packs`);
});
