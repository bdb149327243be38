/**
 * check, copy, forget, prune and repair index stopped by their AbortSignal at random points (the
 * n-th storage request, before it is sent or while it is in flight). Afterwards: the operation
 * failed with ABORTED (or had finished), no lock is left, `check --read-data` passes on every
 * repository involved, and a rerun does the whole job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { copy } from '../../src/engine/copy.js';
import { forget } from '../../src/engine/forget.js';
import { prune } from '../../src/engine/prune.js';
import { repairIndex } from '../../src/engine/repair-index.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { listLocks } from '../../src/repo/lock.js';
import { listIds, objectKey, type Repository } from '../../src/repo/repository.js';
import { abortPoints, runAbortedAt, SEED, seededRandom, type Outcome } from '../helpers/abort-points.js';
import { writeRandomFile } from '../helpers/files.js';
import { objectKeys, openTestStorage } from '../helpers/test-backend.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const KiB = 1024;
const POINTS = 3;

const newRepo = (dir: string, name: string) => createRepo(path.join(dir, name), { packSize: 64 * KiB, chunker: { minSize: 16 * KiB, avgSize: 32 * KiB, maxSize: 64 * KiB, seed: 7 } });

/** A repository with three snapshots of one asset (each changing a file) and one of another. */
async function populated(dir: string, name: string): Promise<Repository> {
  const repo = await newRepo(dir, name);
  const src = path.join(dir, `${name}-src`);
  await fs.mkdir(src, { recursive: true });
  await writeRandomFile(path.join(src, 'base.bin'), 256 * KiB, 'base');
  for (let v = 1; v <= 3; v++) {
    await writeRandomFile(path.join(src, 'adapter.bin'), 128 * KiB, `adapter-${v}`);
    await backup(repo, { asset: 'model', paths: [src] });
  }
  await backup(repo, { asset: 'other', paths: [path.join(src, 'base.bin')] });
  return repo;
}

/** A copy of the repository, object for object, under another name: a fresh state for each point, quickly. */
async function cloneOf(repo: Repository, dir: string, name: string): Promise<Repository> {
  const storage = await openTestStorage(path.join(dir, name));
  await Promise.all((await objectKeys(repo.storage)).map(async (key) => storage.put(key, await repo.storage.get(key))));
  return { ...repo, storage };
}

/** check (`--read-data` unless `structure`) finds nothing, and no lock is left. */
async function assertSound(repo: Repository, when: string, structure = false): Promise<void> {
  const report = await check(repo, { readData: structure ? 0 : 1 });
  assert.deepEqual([report.errors, report.damagedBlobs, report.affected], [[], [], []], `${when}: check${structure ? '' : ' --read-data'}`);
  assert.deepEqual(await listLocks(repo), [], `${when}: no lock left`);
}

function assertStoppedOrDone<T>(outcome: Outcome<T>, when: string): void {
  if (outcome.aborted) assert.equal((outcome.error as { code?: string }).code, 'ABORTED', when);
}

/**
 * For `POINTS` seeded points in the requests a whole run makes: a fresh state (`setup`), the run
 * stopped there, the checks of `after`, then a rerun and the checks of `rerun`.
 */
async function atRandomPoints<S, T>(
  t: { diagnostic(message: string): void },
  seed: number,
  setup: (i: number) => Promise<S>,
  repos: (state: S) => Repository[],
  run: (repos: Repository[], signal: AbortSignal) => Promise<T>,
  after: (state: S, outcome: Outcome<T>, when: string) => Promise<void>,
): Promise<void> {
  const measured = await runAbortedAt(repos(await setup(-1)), 0, false, run);
  const points = abortPoints(seededRandom(seed), measured.requests, POINTS);
  t.diagnostic(`seed ${seed}: a whole run makes ${measured.requests} requests; stopping at ${points.join(', ')}`);
  for (const [i, at] of points.entries()) {
    const state = await setup(i);
    const when = `stopped at request ${at}${i % 2 ? ' (in flight)' : ''}`;
    const outcome = await runAbortedAt(repos(state), at, i % 2 === 1, run);
    t.diagnostic(`${when}: ${outcome.aborted ? 'stopped' : 'had finished'} after ${outcome.requests} requests`);
    assertStoppedOrDone(outcome, when);
    await after(state, outcome, when);
  }
}

test('check stopped at random points reports nothing, leaves no lock, and the rerun finds the repository sound', async (t) => {
  const dir = await tempDir(t);
  const repo = await populated(dir, 'repo');
  await atRandomPoints(t, SEED + 10, async () => repo, (r) => [r], ([r], signal) => check(r, { readData: 1, signal }), async (r, outcome, when) => {
    if (!outcome.aborted) assert.equal(outcome.result.ok, true, when);
    await assertSound(r, when);
  });
});

test('copy stopped at random points: both repositories sound, only whole snapshots copied, and the rerun copies the rest', async (t) => {
  const dir = await tempDir(t);
  const source = await populated(dir, 'source');
  const expected = (await listSnapshots(source)).map((s) => `${s.snapshot.asset} ${s.snapshot.time}`);
  const setup = async (i: number) => ({ source, destination: await newRepo(dir, `destination-${i + 1}`) });
  await atRandomPoints(t, SEED + 11, setup, (s) => [s.source, s.destination], ([from, to], signal) => copy(from, to, { all: true, signal }), async ({ destination }, outcome, when) => {
    assert.deepEqual(await listLocks(source), [], `${when}: no lock left at the source`);
    await assertSound(destination, `${when}, destination`);
    const copied = (await listSnapshots(destination)).map((s) => `${s.snapshot.asset} ${s.snapshot.time}`);
    assert.ok(copied.every((c) => expected.includes(c)), when);
    if (!outcome.aborted) assert.equal(copied.length, expected.length, when);
    const rerun = await copy(source, destination, { all: true });
    assert.equal(rerun.copied + rerun.present, expected.length, `${when}: the rerun has every snapshot there`);
    assert.equal(rerun.present, copied.length, `${when}: what the stopped copy wrote counts as present`);
    await assertSound(destination, `${when}, after the rerun`, true);
  });
  await assertSound(source, 'the source, after the stopped copies');
});

test('forget stopped at random points: the snapshots to keep stay, no lock, and the rerun removes the rest', async (t) => {
  const dir = await tempDir(t);
  const original = await populated(dir, 'original');
  await atRandomPoints(t, SEED + 12, (i) => cloneOf(original, dir, `repo-${i + 1}`), (r) => [r], ([r], signal) => forget(r, { keepLast: 1, signal }), async (repo, _outcome, when) => {
    const left = (await listSnapshots(repo)).map((s) => s.snapshot.asset);
    assert.ok(left.filter((a) => a === 'model').length >= 1 && left.includes('other'), `${when}: the newest of each asset stays`);
    await assertSound(repo, when, true); // forget deletes snapshot objects only
    const rerun = await forget(repo, { keepLast: 1 });
    assert.deepEqual(rerun.kept.length, 2, when);
    assert.deepEqual((await listSnapshots(repo)).map((s) => s.snapshot.asset).sort(), ['model', 'other'], `${when}: after the rerun`);
  });
});

test('prune stopped at random points: the repository stays sound with every snapshot restorable, and the rerun frees the rest', async (t) => {
  const dir = await tempDir(t);
  const original = await populated(dir, 'original');
  await forget(original, { keepLast: 1 });
  const setup = (i: number) => cloneOf(original, dir, `repo-${i + 1}`);
  await atRandomPoints(t, SEED + 13, setup, (r) => [r], ([r], signal) => prune(r, { signal }), async (repo, _outcome, when) => {
    await assertSound(repo, when);
    await prune(repo);
    await assertSound(repo, `${when}, after the rerun`, true);
    assert.equal((await prune(repo)).packsDeleted, 0, `${when}: the rerun left nothing to free`);
  });
});

test('repair index stopped at random points: every pack stays indexed, no lock, and the rerun rebuilds the index', async (t) => {
  const dir = await tempDir(t);
  const original = await populated(dir, 'original');
  // One index file lost: its packs are what the repair brings back.
  const [lost] = await listIds(original.storage, 'index');
  await original.storage.delete(objectKey('index', lost));
  const setup = (i: number) => cloneOf(original, dir, `repo-${i + 1}`);
  await atRandomPoints(t, SEED + 14, setup, (r) => [r], ([r], signal) => repairIndex(r, { signal }), async (repo, outcome, when) => {
    assert.deepEqual(await listLocks(repo), [], `${when}: no lock left`);
    const rerun = await repairIndex(repo);
    assert.deepEqual(rerun.damagedPacks, [], when);
    if (!outcome.aborted) assert.equal(rerun.packsAdded, 0, `${when}: the finished repair had indexed every pack`);
    await assertSound(repo, `${when}, after the rerun`);
  });
});
