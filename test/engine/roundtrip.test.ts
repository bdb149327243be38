/**
 * Round trip: what backup stores, restore gives back exactly: bytes (SHA-256), sizes, modes,
 * mtimes, empty files and directories, symlinks (dangling, looping, absolute), unicode and odd
 * names, and sparse files whose holes come back as holes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { restore } from '../../src/engine/restore.js';
import { stats } from '../../src/engine/inspect.js';
import { manifest, pseudoRandom, sha256File, writeRandomFile } from '../helpers/files.js';
import { snapshotNodes } from '../helpers/snapshot-files.js';
import { createRepo, reopenRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

/** A fixed time in the past per path, so a restore that forgets mtimes cannot pass by luck. */
function timeFor(i: number): Date {
  return new Date(Date.UTC(2021, 0, 1 + i, 3, 4, 5, 678));
}

/** Builds a source tree with every kind of entry a restore must reproduce. */
async function buildSource(src: string): Promise<void> {
  const mk = (p: string, mode = 0o755) => fs.mkdir(path.join(src, p), { recursive: true, mode });
  await mk('data/nested/deeper');
  await mk('empty-dir', 0o700);
  await mk('モデル');
  await mk('links');
  await fs.writeFile(path.join(src, 'empty-file'), '');
  await fs.writeFile(path.join(src, 'small.txt'), 'hello, lifeboat\n');
  await fs.writeFile(path.join(src, 'run.sh'), '#!/bin/sh\necho ok\n');
  await writeRandomFile(path.join(src, 'data/blob.bin'), 3 * MiB + 12345, 'blob');
  await writeRandomFile(path.join(src, 'data/nested/deeper/leaf.bin'), 100 * 1024, 'leaf');
  await writeRandomFile(path.join(src, 'モデル/重み.bin'), 70_000, 'unicode');
  await fs.writeFile(path.join(src, 'café ☕ 🚀.txt'), 'unicode name\n');
  await fs.writeFile(path.join(src, 'back\\slash and "quotes"'), 'odd name\n');
  await fs.writeFile(path.join(src, 'new\nline'), 'a newline in the name\n');
  await writeSparseFile(path.join(src, 'sparse.img'));
  await fs.symlink('loop-b', path.join(src, 'links/loop-a'));
  await fs.symlink('loop-a', path.join(src, 'links/loop-b'));
  await fs.symlink('../data', path.join(src, 'links/to-dir'));
  await fs.symlink('does-not-exist', path.join(src, 'links/dangling'));
  await fs.symlink('/etc/hostname', path.join(src, 'links/absolute'));
  await fs.chmod(path.join(src, 'small.txt'), 0o640);
  await fs.chmod(path.join(src, 'run.sh'), 0o755);
  await fs.chmod(path.join(src, 'data/blob.bin'), 0o600);
  await fs.chmod(path.join(src, 'data/nested'), 0o750);
  // Times last, deepest first, so that creating children does not move a directory's mtime again.
  const all = (await listDeepFirst(src)).map((rel, i) => ({ rel, t: timeFor(i) }));
  for (const { rel, t } of all) await fs.lutimes(path.join(src, rel), t, t);
}

/** A 32 MiB file with 2 MiB of data: 1 MiB at the start, 1 MiB at 20 MiB, holes elsewhere. */
async function writeSparseFile(file: string): Promise<void> {
  const sparse = await fs.open(file, 'w');
  await sparse.truncate(32 * MiB);
  await sparse.write(pseudoRandom(MiB, 'sparse-1'), 0, MiB, 0);
  await sparse.write(pseudoRandom(MiB, 'sparse-2'), 0, MiB, 20 * MiB);
  await sparse.close();
}

async function listDeepFirst(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...(await listDeepFirst(root, p)));
    out.push(p);
  }
  return out;
}

test('a restored snapshot equals its source: bytes, sizes, modes, mtimes, symlinks, empty files and dirs, odd names', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await buildSource(src);
  const repo = await createRepo(path.join(dir, 'repo'));
  const { snapshotId, snapshot } = await backup(repo, { asset: 'roundtrip', paths: [src] });
  assert.deepEqual(snapshot.incomplete, [], 'every file was readable');

  const target = path.join(dir, 'restored');
  const result = await restore(await reopenRepo(path.join(dir, 'repo')), { snapshot: snapshotId, target });
  assert.deepEqual(result.failed, []);
  assert.deepEqual(await manifest(target), await manifest(src));
  for (const f of result.files) assert.equal(f.sha256, await sha256File(f.path), `${f.path}: the reported SHA-256 is the file's`);
  assert.equal(result.files.length, 10, 'every regular file is reported once');
});

test('a sparse file is stored without its holes and restored with them', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await writeSparseFile(path.join(src, 'sparse.img'));
  const srcBlocks = (await fs.stat(path.join(src, 'sparse.img'))).blocks * 512;
  if (srcBlocks > 8 * MiB) return t.skip(`the temp filesystem does not keep holes (${srcBlocks} bytes allocated)`);
  const repo = await createRepo(path.join(dir, 'repo'));
  const { snapshotId } = await backup(repo, { asset: 'sparse', paths: [src] });

  const node = (await snapshotNodes(repo, snapshotId)).get('sparse.img');
  assert.equal(node?.type, 'file');
  // Whole chunks of zeros are recorded as zero runs (numbers), never as blobs. Content-defined
  // cuts cannot fall inside zeros, so chunks that straddle data and zeros carry zeros as data;
  // zstd makes those nearly free in the repository, and restore must still leave them as holes.
  const holes = node.type === 'file' ? node.content.filter((r): r is number => typeof r === 'number').reduce((a, b) => a + b, 0) : 0;
  assert.ok(holes >= 8 * MiB, `whole zero chunks are recorded as zero runs, got ${holes} bytes`);
  const s = await stats(repo, snapshotId);
  assert.equal(s.sparseBytes, holes);
  assert.ok(s.storedBytes < 2.5 * MiB, `stored ${s.storedBytes} bytes for 2 MiB of data in a 32 MiB file`);

  const target = path.join(dir, 'restored');
  await restore(repo, { snapshot: snapshotId, target });
  const st = await fs.stat(path.join(target, 'sparse.img'));
  assert.equal(st.size, 32 * MiB);
  assert.ok(st.blocks * 512 <= 4 * MiB, `restored file allocates ${st.blocks * 512} bytes: its holes must stay holes`);
  assert.equal(await sha256File(path.join(target, 'sparse.img')), await sha256File(path.join(src, 'sparse.img')));
});

test('restore of a subpath: a directory restores its contents, a file restores itself', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await buildSource(src);
  const repo = await createRepo(path.join(dir, 'repo'));
  const { snapshotId } = await backup(repo, { asset: 'sub', paths: [src] });

  const dirTarget = path.join(dir, 'nested');
  await restore(repo, { snapshot: snapshotId, subpath: 'data/nested', target: dirTarget });
  assert.deepEqual(await manifest(dirTarget), await manifest(path.join(src, 'data/nested')));

  const fileTarget = path.join(dir, 'one');
  await restore(repo, { snapshot: snapshotId, subpath: 'モデル/重み.bin', target: fileTarget });
  assert.deepEqual(await fs.readdir(fileTarget), ['重み.bin']);
  assert.equal(await sha256File(path.join(fileTarget, '重み.bin')), await sha256File(path.join(src, 'モデル/重み.bin')));

  await assert.rejects(restore(repo, { snapshot: snapshotId, subpath: 'data/missing', target: path.join(dir, 'x') }), /no "missing" in the snapshot/);
});

test('backing up several paths names each by its base name at the snapshot root', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'a/models'), { recursive: true });
  await fs.writeFile(path.join(dir, 'a/models/w.bin'), 'weights');
  await fs.writeFile(path.join(dir, 'card.md'), '# card');
  const repo = await createRepo(path.join(dir, 'repo'));
  const { snapshotId } = await backup(repo, { asset: 'multi', paths: [path.join(dir, 'card.md'), path.join(dir, 'a/models')] });
  assert.deepEqual([...(await snapshotNodes(repo, snapshotId)).keys()].sort(), ['card.md', 'models', 'models/w.bin']);
  const target = path.join(dir, 'out');
  await restore(repo, { snapshot: snapshotId, target });
  assert.equal(await fs.readFile(path.join(target, 'models/w.bin'), 'utf8'), 'weights');
  assert.equal(await fs.readFile(path.join(target, 'card.md'), 'utf8'), '# card');
});

test('files at chunk and read boundaries, and zero runs at odd offsets, restore byte for byte', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  const sizes = [1, 4095, 4096, 512 * 1024 - 1, 512 * 1024, 8 * MiB + 1, 16 * MiB, 16 * MiB + 1, 32 * MiB + 7];
  for (const size of sizes) await writeRandomFile(path.join(src, `size-${size}`), size, size);
  // Zero runs that do not line up with 4 KiB blocks, a block that is zero except in its middle,
  // and a file that ends in zeros.
  const mixed = Buffer.concat([pseudoRandom(5000, 'm1'), Buffer.alloc(10_000), pseudoRandom(3000, 'm2'), Buffer.alloc(4096 * 3)]);
  mixed[5000 + 4096 + 2000] = 1; // inside the zero run, in the middle of a block
  mixed[mixed.length - 4096 - 1] = 0xff; // last byte of a block near the end
  await fs.writeFile(path.join(src, 'mixed.bin'), mixed);
  await fs.writeFile(path.join(src, 'zeros.bin'), Buffer.alloc(3 * MiB + 5));

  const repo = await createRepo(path.join(dir, 'repo'));
  const { snapshotId } = await backup(repo, { asset: 'edges', paths: [src] });
  const target = path.join(dir, 'out');
  const result = await restore(repo, { snapshot: snapshotId, target });
  assert.deepEqual(result.failed, []);
  for (const name of await fs.readdir(src)) {
    const [a, b] = await Promise.all([fs.stat(path.join(src, name)), fs.stat(path.join(target, name))]);
    assert.equal(b.size, a.size, name);
    assert.equal(await sha256File(path.join(target, name)), await sha256File(path.join(src, name)), name);
  }
  assert.ok((await fs.stat(path.join(target, 'zeros.bin'))).blocks <= 8, 'an all-zero file is restored as one hole');
});

test('a FIFO and a socket in the source are skipped with a warning, without blocking the backup', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await fs.writeFile(path.join(src, 'regular.txt'), 'kept\n');
  const mkfifo = spawnSync('mkfifo', [path.join(src, 'pipe')]);
  assert.equal(mkfifo.status, 0, 'mkfifo works here');
  const server = net.createServer().listen(path.join(src, 'sock'));
  await once(server, 'listening');
  t.after(() => void server.close());

  const repo = await createRepo(path.join(dir, 'repo'));
  const warnings: string[] = [];
  const { snapshotId, snapshot } = await backup(repo, { asset: 'special', paths: [src], onWarning: (m) => warnings.push(m) });
  assert.deepEqual([...(await snapshotNodes(repo, snapshotId)).keys()], ['regular.txt']);
  assert.deepEqual(warnings.sort(), [`${path.join(src, 'pipe')}: skipped (not a regular file, directory or symlink)`, `${path.join(src, 'sock')}: skipped (not a regular file, directory or symlink)`]);
  assert.deepEqual(snapshot.incomplete, [], 'skipping special files is not a read failure');
});
