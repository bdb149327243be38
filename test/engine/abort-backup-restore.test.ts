/**
 * Backup and restore stopped by their AbortSignal at random points (the n-th storage request,
 * before it is sent or while it is in flight). Afterwards: the operation failed with ABORTED (or
 * had finished), no lock is left, `check --read-data` passes, a stopped backup left no snapshot, a
 * stopped restore left no temporary file and only complete, verified files, and a rerun succeeds.
 * Small data and small packs, so that each run has dozens of requests to stop at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { restore } from '../../src/engine/restore.js';
import { isTempName } from '../../src/engine/restore-temp.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { listLocks } from '../../src/repo/lock.js';
import type { Repository } from '../../src/repo/repository.js';
import { StorageError } from '../../src/storage/errors.js';
import { abortPoints, runAbortedAt, SEED, seededRandom } from '../helpers/abort-points.js';
import { faultyStorage } from '../helpers/faulty-storage.js';
import { listAll, sha256File, writeRandomFile } from '../helpers/files.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const KiB = 1024;
const POINTS = 4;

/** A small tree: a few files of several chunks, a subdirectory, an empty file. */
async function makeSource(dir: string): Promise<string> {
  const src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await writeRandomFile(path.join(src, 'weights.bin'), 600 * KiB, 'weights');
  await writeRandomFile(path.join(src, 'sub', 'shard-0.bin'), 300 * KiB, 'shard-0');
  await writeRandomFile(path.join(src, 'sub', 'shard-1.bin'), 200 * KiB, 'shard-1');
  await fs.writeFile(path.join(src, 'sub', 'empty'), '');
  await fs.writeFile(path.join(src, 'config.json'), '{"layers": 2}\n');
  return src;
}

/** Packs of 64 KiB and small chunks: an index file every 8 packs, many requests per run. */
const newRepo = (dir: string, name: string) => createRepo(path.join(dir, name), { packSize: 64 * KiB, chunker: { minSize: 16 * KiB, avgSize: 32 * KiB, maxSize: 64 * KiB, seed: 7 } });

async function assertSound(repo: Repository, when: string): Promise<void> {
  const report = await check(repo, { readData: 1 });
  assert.deepEqual([report.errors, report.damagedBlobs, report.affected], [[], [], []], `${when}: check --read-data`);
  assert.equal(report.ok, true, when);
  assert.deepEqual(await listLocks(repo), [], `${when}: no lock left`);
}

test('backup stopped at random points: no snapshot, no lock, a sound repository, and the rerun completes', async (t) => {
  const dir = await tempDir(t);
  const src = await makeSource(dir);
  const measured = await runAbortedAt([await newRepo(dir, 'measure')], 0, false, ([repo], signal) => backup(repo, { asset: 'big', paths: [src], signal }));
  const random = seededRandom(SEED);
  const points = abortPoints(random, measured.requests, POINTS);
  t.diagnostic(`seed ${SEED}: a whole backup makes ${measured.requests} requests; stopping at ${points.join(', ')}`);
  let last: { repo: Repository; snapshotId: string } | undefined;
  for (const [i, at] of points.entries()) {
    const repo = await newRepo(dir, `repo-${i}`);
    const { snapshotId: keep } = await backup(repo, { asset: 'keep', paths: [path.join(src, 'config.json')] });
    const when = `stopped at request ${at}${i % 2 ? ' (in flight)' : ''}`;
    const outcome = await runAbortedAt([repo], at, i % 2 === 1, ([r], signal) => backup(r, { asset: 'big', paths: [src], signal }));
    t.diagnostic(`${when}: ${outcome.aborted ? 'stopped' : 'had finished'} after ${outcome.requests} requests`);
    const assets = (await listSnapshots(repo)).map((s) => s.snapshot.asset).sort();
    if (outcome.aborted) {
      assert.equal((outcome.error as { code?: string }).code, 'ABORTED', when);
      assert.deepEqual(assets, ['keep'], `${when}: no snapshot of the stopped backup`);
    } else {
      assert.deepEqual(assets, ['big', 'keep'], `${when}: it had finished, with its snapshot`);
    }
    await assertSound(repo, when);
    const rerun = await backup(repo, { asset: 'big', paths: [src] });
    assert.equal(rerun.snapshot.summary.totalBytes, 1100 * KiB + 14, `${when}: the rerun backs up everything`);
    assert.ok((await listSnapshots(repo)).some((s) => s.id === keep), `${when}: the earlier snapshot is intact`);
    last = { repo, snapshotId: rerun.snapshotId };
  }
  // The last rerun, on what its stopped run left, restores every file verified.
  const restored = await restore(last!.repo, { snapshot: last!.snapshotId, target: path.join(dir, 'out') });
  assert.deepEqual(restored.failed, []);
  for (const f of ['weights.bin', 'sub/shard-0.bin']) assert.equal(await sha256File(path.join(dir, 'out', f)), await sha256File(path.join(src, f)));
});

test('restore stopped at random points: no temporary file, only verified files, no lock, and the rerun restores everything', async (t) => {
  const dir = await tempDir(t);
  const src = await makeSource(dir);
  const repo = await newRepo(dir, 'repo');
  const { snapshotId } = await backup(repo, { asset: 'big', paths: [src] });
  const expected = new Map<string, string>();
  for (const f of await listAll(src)) if ((await fs.lstat(path.join(src, f))).isFile()) expected.set(f, await sha256File(path.join(src, f)));
  const measured = await runAbortedAt([repo], 0, false, ([r], signal) => restore(r, { snapshot: snapshotId, target: path.join(dir, 'measure'), signal }));
  const random = seededRandom(SEED + 1);
  const points = abortPoints(random, measured.requests, POINTS);
  t.diagnostic(`seed ${SEED + 1}: a whole restore makes ${measured.requests} requests; stopping at ${points.join(', ')}`);
  for (const [i, at] of points.entries()) {
    const target = path.join(dir, `out-${i}`);
    const when = `stopped at request ${at}${i % 2 ? ' (in flight)' : ''}`;
    const outcome = await runAbortedAt([repo], at, i % 2 === 1, ([r], signal) => restore(r, { snapshot: snapshotId, target, signal }));
    t.diagnostic(`${when}: ${outcome.aborted ? 'stopped' : 'had finished'} after ${outcome.requests} requests`);
    if (outcome.aborted) assert.equal((outcome.error as { code?: string }).code, 'ABORTED', when);
    const present = await listAll(target).catch(() => [] as string[]);
    assert.deepEqual(present.filter((p) => isTempName(path.basename(p))), [], `${when}: no temporary file remains`);
    for (const f of present) {
      const st = await fs.lstat(path.join(target, f));
      if (st.isFile()) assert.equal(await sha256File(path.join(target, f)), expected.get(f), `${when}: ${f} is complete and correct`);
    }
    assert.deepEqual(await listLocks(repo), [], `${when}: no lock left`);
    const rerun = await restore(repo, { snapshot: snapshotId, target });
    assert.deepEqual(rerun.failed, []);
    assert.equal(rerun.files.length, expected.size, `${when}: the rerun restores every file`);
    for (const [f, sha] of expected) assert.equal(await sha256File(path.join(target, f)), sha, `${when}: ${f}`);
  }
  await assertSound(repo, 'after the stopped restores');
});

test('a storage failure mid-backup or mid-restore stops the rest and is reported as itself, not as an interruption', async (t) => {
  const dir = await tempDir(t);
  const src = await makeSource(dir);
  const repo = await newRepo(dir, 'repo');
  const failing = (op: string, prefix: string, nth: number) => {
    let seen = 0;
    return faultyStorage(repo.storage, (r) => {
      if (r.op === op && r.key.startsWith(prefix) && ++seen === nth) throw new StorageError(`injected fault: ${r.key} cannot be ${op === 'put' ? 'written' : 'read'}`);
    }).storage;
  };
  await assert.rejects(backup({ ...repo, storage: failing('put', 'data/', 3) }, { asset: 'big', paths: [src] }), (err: unknown) => err instanceof StorageError && /injected fault: data\/.* cannot be written/.test(err.message));
  assert.deepEqual(await listSnapshots(repo), []);
  await assertSound(repo, 'after the failed backup');

  const { snapshotId } = await backup(repo, { asset: 'big', paths: [src] });
  const target = path.join(dir, 'out');
  await assert.rejects(restore({ ...repo, storage: failing('get', 'data/', 2) }, { snapshot: snapshotId, target }), (err: unknown) => err instanceof StorageError && /injected fault/.test(err.message));
  assert.deepEqual((await listAll(target)).filter((p) => isTempName(path.basename(p))), [], 'no temporary file remains');
  assert.deepEqual(await listLocks(repo), []);
});
