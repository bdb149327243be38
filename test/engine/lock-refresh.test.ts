/**
 * The refresh of a held lock, on a manual clock, with faults injected through the storage layer:
 * a refresh that fails is retried with backoff and reported each time; one that succeeds again
 * keeps the operation going; and when none succeeds for GIVE_UP_AFTER_MS, the operation holding
 * the lock stops with LOCK_LOST, writes no snapshot, and removes its lock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { manualClock } from '../../src/base/clock.js';
import { LifeboatError } from '../../src/base/errors.js';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { backupStreams } from '../../src/engine/stream-backup.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { GIVE_UP_AFTER_MS, listLocks, REFRESH_EVERY_MS, STALE_AFTER_MS } from '../../src/repo/lock.js';
import type { Repository } from '../../src/repo/repository.js';
import { StorageError } from '../../src/storage/errors.js';
import { writeRandomFile } from '../helpers/files.js';
import { faultyStorage } from '../helpers/faulty-storage.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const KiB = 1024;
const SECOND = 1000;

/** A promise and the function that settles it. */
function opening(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * Moves the clock `ms` in steps of 10 s, and after each waits until both of the lock's loops (the
 * refresher and the watcher) sleep again: a refresh that succeeds does real I/O, which the clock
 * must not run ahead of.
 */
async function advanceInSteps(clock: ReturnType<typeof manualClock>, ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 10 * SECOND) {
    await clock.advance(Math.min(left, 10 * SECOND));
    while (clock.sleepers < 2) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * A backup on a manual clock whose storage fails the lock writes `failing(attempt)` says (attempt
 * 1 is the first refresh) and holds every pack write until `release()`: the backup is certainly
 * running, its lock held, while the test moves the clock.
 */
async function heldBackup(t: Parameters<typeof tempDir>[0], failing: (attempt: number) => boolean) {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await writeRandomFile(path.join(src, 'model.bin'), 512 * KiB, 'model');
  const base = await createRepo(path.join(dir, 'repo'), { packSize: 128 * KiB });
  const clock = manualClock(Date.now());
  const attempts: number[] = []; // clock times of the refresh attempts
  const firstPack = opening();
  const packs = opening();
  let lockWrites = 0;
  const { storage } = faultyStorage(base.storage, (r) => {
    if (r.op === 'put' && r.key.startsWith('locks/') && ++lockWrites > 1) {
      attempts.push(clock.now());
      if (failing(attempts.length)) throw new StorageError(`injected fault: cannot write ${r.key}`);
    }
    if (r.op === 'put' && r.key.startsWith('data/')) {
      firstPack.open();
      return packs.opened;
    }
  });
  const repo: Repository = { ...base, storage };
  const warnings: string[] = [];
  const running = backup(repo, { asset: 'model', paths: [src], clock, onWarning: (m) => warnings.push(m) });
  running.catch(() => {});
  await firstPack.opened;
  const started = clock.now();
  return { base, clock, attempts, warnings, running, started, release: packs.open };
}

test('a lock that cannot be refreshed: retried with backoff, reported, and the backup stops with LOCK_LOST, without a snapshot or a lock', async (t) => {
  const { base, clock, attempts, warnings, running, started, release } = await heldBackup(t, () => true);
  await clock.advance(REFRESH_EVERY_MS);
  assert.deepEqual(attempts.map((a) => a - started), [REFRESH_EVERY_MS], 'the first refresh is due after REFRESH_EVERY_MS');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /could not refresh the lock .*\(attempt 1\): injected fault.*trying again in 10 s, the operation stops if none succeeds by/);

  await clock.advance(GIVE_UP_AFTER_MS - REFRESH_EVERY_MS - 1);
  const gaps = attempts.slice(1).map((a, i) => (a - attempts[i]) / SECOND);
  assert.deepEqual(gaps.slice(0, 6), [10, 20, 40, 80, 120, 120], 'retries back off: 10 s doubling, at most 2 minutes');
  assert.equal(warnings.length, attempts.length, 'every failed refresh is reported');
  assert.ok(attempts.length >= 10, `retried until the deadline (${attempts.length} attempts)`);

  await clock.advance(1);
  assert.ok(GIVE_UP_AFTER_MS < STALE_AFTER_MS, 'the lock is given up before others may take it for stale');
  assert.match(warnings.at(-1)!, /could not be refreshed for 25 minutes.*stopped at a safe point/);
  release(); // the pack write the backup was waiting for goes on, and finds the lock lost
  await assert.rejects(running, (err: unknown) => err instanceof LifeboatError && err.code === 'LOCK_LOST' && /could not be refreshed/.test(err.message));
  assert.deepEqual(await listSnapshots(base), [], 'no snapshot');
  assert.deepEqual(await listLocks(base), [], 'the lock is gone');
  const report = await check(base, { readData: 1 });
  assert.equal(report.ok, true, report.errors.join('; '));
});

test('a refresh that fails and then succeeds keeps the operation going: the backup completes long after STALE_AFTER_MS', async (t) => {
  const { base, clock, attempts, warnings, running, release } = await heldBackup(t, (attempt) => attempt <= 2);
  await advanceInSteps(clock, REFRESH_EVERY_MS + 10 * SECOND + 20 * SECOND);
  assert.equal(attempts.length, 3, 'two failures, then the third attempt succeeded');
  assert.equal(warnings.length, 2);
  await advanceInSteps(clock, STALE_AFTER_MS + REFRESH_EVERY_MS);
  assert.equal(warnings.length, 2, 'nothing more to report: the later refreshes succeeded');
  assert.ok(attempts.length >= 9, `refreshed every ${REFRESH_EVERY_MS / 60_000} minutes since (${attempts.length} attempts)`);
  release();
  const { snapshotId } = await running;
  assert.deepEqual((await listSnapshots(base)).map((s) => s.id), [snapshotId]);
  assert.deepEqual(await listLocks(base), [], 'released, and no refreshed copy left behind');
});

test('a stream backup (a dump tool) whose lock cannot be refreshed: its producer is told to stop, LOCK_LOST, no snapshot, no lock', async (t) => {
  const base = await createRepo(path.join(await tempDir(t), 'repo'), { packSize: 128 * KiB });
  const clock = manualClock(Date.now());
  let lockWrites = 0;
  const { storage } = faultyStorage(base.storage, (r) => {
    if (r.op === 'put' && r.key.startsWith('locks/') && ++lockWrites > 1) throw new StorageError(`injected fault: cannot write ${r.key}`);
  });
  const more = opening();
  const dumping = opening();
  const sawStop = opening();
  let producerSignal: AbortSignal | undefined;
  const running = backupStreams({ ...base, storage }, { asset: 'db', location: 'postgresql://db/labels', clock, onWarning: () => {} }, async (sink) => {
    producerSignal = sink.signal;
    sink.signal?.addEventListener('abort', () => sawStop.open(), { once: true });
    await sink.addStream('labels.dump', (async function* () {
      yield Buffer.alloc(64 * KiB, 1);
      dumping.open();
      await more.opened; // the dump tool is slow: the lock's refresh fails meanwhile
      yield Buffer.alloc(64 * KiB, 2);
    })());
  });
  running.catch(() => {});
  // The clock moves only once the dump is under way: before that the session is still opening
  // (reading the index, slow on S3), and the lock would be lost before there is a producer to stop.
  await dumping.opened;
  while (clock.sleepers < 2) await new Promise((resolve) => setTimeout(resolve, 2));
  await clock.advance(GIVE_UP_AFTER_MS + SECOND);
  await sawStop.opened;
  assert.equal(producerSignal?.aborted, true, 'the producer (and so its dump tool) is told to stop');
  more.open();
  await assert.rejects(running, (err: unknown) => err instanceof LifeboatError && err.code === 'LOCK_LOST');
  assert.deepEqual(await listSnapshots(base), [], 'no snapshot');
  assert.deepEqual(await listLocks(base), [], 'the lock is gone');
});
