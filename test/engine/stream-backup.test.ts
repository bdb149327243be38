/**
 * Backing up streams (stream-backup.ts) and reading files of a snapshot back as streams
 * (snapshot-files.ts): the same bytes make the same blobs from a pipe as from a file, several
 * entries make one snapshot, a producer that fails or is aborted leaves no snapshot, and a
 * consumer never gets to the end of a file whose data is damaged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AbortedError, LifeboatError } from '../../src/base/errors.js';
import { backup } from '../../src/engine/backup.js';
import { openSnapshotReader } from '../../src/engine/snapshot-files.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { backupStreams } from '../../src/engine/stream-backup.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { packKey } from '../../src/repo/repository.js';
import type { FileNode } from '../../src/repo/tree.js';
import { pseudoRandom, sha256 } from '../helpers/files.js';
import { flipByte } from '../helpers/test-backend.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

/** Yields `data` in pieces of the given sizes, round-robin, as a pipe delivers them. */
async function* pieces(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length];
    yield data.subarray(at, at + n);
    at += n;
  }
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

test('a stream is cut into the same blobs as the same bytes in a file, however the pipe delivers them', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const data = Buffer.concat([pseudoRandom(13 * MiB, 'a'), Buffer.alloc(9 * MiB), pseudoRandom(5 * MiB + 17, 'b')]);
  await fs.writeFile(path.join(dir, 'dump.bin'), data);
  const fromFile = await backup(repo, { asset: 'file', paths: [path.join(dir, 'dump.bin')] });
  const fromStream = await backupStreams(repo, { asset: 'db', location: 'test://db' }, async (sink) => {
    await sink.addStream('dump.bin', pieces(data, [65536, 1, 3 * MiB + 5, 777]));
  });
  const reader = await openSnapshotReader(repo, fromStream.snapshotId);
  const fileReader = await openSnapshotReader(repo, fromFile.snapshotId);
  try {
    const streamed = await reader.file('dump.bin');
    const filed = await fileReader.file('dump.bin');
    assert.deepEqual(streamed.content, filed.content, 'the same blobs, holes included');
    assert.ok(streamed.content.some((ref) => typeof ref === 'number'), 'the zero run is a hole');
    assert.equal(streamed.sha256, sha256(data));
    assert.equal(fromStream.snapshot.summary.newBlobs, 1, 'only the root tree was new: every data blob deduplicated against the file');
    assert.deepEqual(fromStream.snapshot.paths, ['test://db']);
    assert.ok((await collect(reader.stream('dump.bin'))).equals(data));
  } finally {
    await Promise.all([reader.close(), fileReader.close()]);
  }
});

test('several entries (a dump, its manifest, nested paths) make one snapshot with the records given', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const dump = pseudoRandom(3 * MiB, 'dump');
  const result = await backupStreams(
    repo,
    { asset: 'labelstudio', location: 'postgres://app@db/ls', tier: 1, record: { source: { kind: 'postgres', location: 'postgres://app@db/ls', details: { server: '15.2' }, manifest: 'manifest.json' } } },
    async (sink) => {
      await Promise.all([sink.addStream('ls.pgdump', pieces(dump, [100_000])), sink.addBytes('manifest.json', '{"tables":{}}'), sink.addBytes('objects/a/b.txt', 'nested', { mode: 0o644 })]);
    },
  );
  assert.equal(result.snapshot.assetVersion, 1);
  assert.equal(result.snapshot.source?.kind, 'postgres');
  assert.equal(result.snapshot.summary.files, 3);
  assert.equal(result.snapshot.summary.totalBytes, dump.length + 13 + 6);
  const reader = await openSnapshotReader(repo, 'labelstudio@v1');
  try {
    assert.deepEqual((await reader.files()).map((f) => f.path).sort(), ['ls.pgdump', 'manifest.json', 'objects/a/b.txt']);
    assert.equal((await reader.readBytes('manifest.json')).toString(), '{"tables":{}}');
    assert.equal((await reader.file('objects/a/b.txt')).mode, 0o644);
    assert.equal((await reader.file('ls.pgdump')).mode, 0o600, 'a dump is private by default');
  } finally {
    await reader.close();
  }
});

test('a path used twice, or an unsafe one, is refused and no snapshot is written', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  await assert.rejects(backupStreams(repo, { asset: 'x', location: 'x' }, async (sink) => {
    await sink.addBytes('a', '1');
    await sink.addBytes('a', '2');
  }), /used twice/);
  await assert.rejects(backupStreams(repo, { asset: 'x', location: 'x' }, (sink) => sink.addBytes('../etc/passwd', '1').then(() => undefined)), /unsafe name/);
  assert.equal((await listSnapshots(repo)).length, 0);
});

test('a producer that fails mid-stream leaves no snapshot; the packs it stored stay for prune', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 4 * MiB });
  async function* dying(): AsyncGenerator<Buffer> {
    yield pseudoRandom(24 * MiB, 'partial');
    throw new LifeboatError('SOURCE', 'pg_dump exited with code 1: server closed the connection unexpectedly');
  }
  await assert.rejects(
    backupStreams(repo, { asset: 'db', location: 'x' }, async (sink) => {
      await sink.addStream('db.pgdump', dying());
    }),
    /server closed the connection/,
  );
  assert.equal((await listSnapshots(repo)).length, 0, 'no snapshot pretends to be complete');
  let packs = 0;
  for await (const _ of repo.storage.list('data/')) packs++;
  assert.ok(packs > 0, 'what was stored before the failure stays (prune removes it)');
});

test('an abort stops a stream backup at the next read: AbortedError and no snapshot', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const controller = new AbortController();
  async function* endless(): AsyncGenerator<Buffer> {
    for (let i = 0; ; i++) {
      if (i === 3) controller.abort();
      yield pseudoRandom(MiB, i);
    }
  }
  await assert.rejects(
    backupStreams(repo, { asset: 'db', location: 'x', signal: controller.signal }, (sink) => sink.addStream('db', endless()).then(() => undefined)),
    (err) => err instanceof AbortedError,
  );
  assert.equal((await listSnapshots(repo)).length, 0);
});

test('a damaged blob stops the stream before its bytes are handed on, and the file never completes', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 2 * MiB });
  const data = pseudoRandom(12 * MiB, 'damage');
  const { snapshotId } = await backupStreams(repo, { asset: 'db', location: 'x' }, (sink) => sink.addStream('db.dump', pieces(data, [MiB])).then(() => undefined));
  const reader = await openSnapshotReader(repo, snapshotId);
  let node: FileNode;
  try {
    node = await reader.file('db.dump');
  } finally {
    await reader.close();
  }
  // Damage a blob in the middle of the file.
  const { index } = await loadIndex(repo);
  const middle = node.content.filter((r): r is string => typeof r === 'string')[3];
  const where = index.get(Buffer.from(middle, 'hex'))!;
  await flipByte(repo.storage, packKey(where.packId), where.offset + 40);
  const again = await openSnapshotReader(repo, snapshotId);
  try {
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const part of again.stream(node)) received += part.length;
      })(),
      (err) => (err as LifeboatError).code === 'INTEGRITY',
    );
    assert.ok(received < data.length, 'the consumer never saw the whole file');
  } finally {
    await again.close();
  }
});

test('a long stream goes through in bounded memory', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const block = pseudoRandom(4 * MiB + 3, 'block');
  const total = 640 * MiB;
  async function* long(): AsyncGenerator<Buffer> {
    // A fresh copy each time, as a pipe delivers new memory: nothing here is kept alive by the test.
    for (let sent = 0; sent < total; sent += block.length) yield Buffer.from(block.subarray(0, Math.min(block.length, total - sent)));
  }
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const { snapshot } = await backupStreams(repo, { asset: 'big', location: 'x' }, (sink) => sink.addStream('big', long()).then(() => undefined));
    assert.equal(snapshot.summary.totalBytes, total);
  } finally {
    clearInterval(timer);
  }
  assert.ok(peak - before < 256 * MiB, `memory grew by ${Math.round((peak - before) / MiB)} MiB while streaming ${total / MiB} MiB`);
});
