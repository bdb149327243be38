/**
 * kill -9 at random points of a CLI backup, many times. After every kill the repository passes
 * check and no snapshot references missing data; the locks the killed processes leave behind
 * (same host, dead pid) block nothing; and the backup that finally completes stores only what
 * the interrupted runs had not already stored, so a big file is not uploaded again from the start.
 *
 * Scaled down: 1 MiB packs, so that an index (written every 8 packs) lands every ~8 MiB of a
 * 100 MB backup, as it lands every ~128 MiB of a multi-GB backup with the default 16 MiB packs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { restore } from '../../src/engine/restore.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { isStale, listLocks } from '../../src/repo/lock.js';
import type { Repository } from '../../src/repo/repository.js';
import { finished, runCliJson, spawnCli, type CliResult } from '../helpers/cli.js';
import { sha256File, writeRandomFile } from '../helpers/files.js';
import { dataBlobsOf, rawLengthOf } from '../helpers/snapshot-files.js';
import { objectKeys } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;
const KILLS = 9;

async function packCount(repo: Repository): Promise<number> {
  return (await objectKeys(repo.storage, 'data/')).length;
}

/**
 * A random point of one run: either early (startup, opening, locking, reading the first chunks),
 * or after it has stored 1 to 10 more packs (in the middle of packs and index writes); a late
 * point is past the first index write of the run (9 to 14 packs), so some kill leaves reusable data.
 * Resolves when that point is reached, or when the run ends by itself first.
 */
async function randomPoint(repo: Repository, running: () => boolean, late: boolean): Promise<string> {
  if (!late && Math.random() < 0.25) {
    const ms = 100 + Math.floor(Math.random() * 500);
    await sleep(ms);
    return `${ms} ms`;
  }
  const packs = late ? 9 + Math.floor(Math.random() * 6) : 1 + Math.floor(Math.random() * 10);
  const goal = (await packCount(repo)) + packs;
  while (running() && (await packCount(repo)) < goal) await sleep(10);
  return `+${packs} packs`;
}

async function indexedBlobs(repo: Repository): Promise<Set<string>> {
  const { index } = await loadIndex(repo);
  const ids = new Set<string>();
  index.forEach((id) => ids.add(Buffer.from(id).toString('hex')));
  return ids;
}

/** The repository is sound: every snapshot's trees and blobs are indexed and their packs stored. */
async function assertSound(repo: Repository, readData: number, when: string): Promise<void> {
  const report = await check(repo, { readData });
  assert.deepEqual(report.errors, [], `${when}: check errors`);
  assert.deepEqual(report.affected, [], `${when}: no snapshot references missing data`);
  assert.deepEqual(report.damagedBlobs, [], `${when}: no damaged blobs`);
  assert.equal(report.ok, true, when);
}

test('kill -9 during backups: the repository stays sound and the completed backup reuses what was stored', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'shards'), { recursive: true });
  await writeRandomFile(path.join(src, 'model.bin'), 64 * MiB, 'model');
  for (let i = 0; i < 4; i++) await writeRandomFile(path.join(src, 'shards', `shard-${i}.bin`), 9 * MiB, `shard-${i}`);
  const baseSrc = path.join(dir, 'base');
  await fs.mkdir(baseSrc);
  await writeRandomFile(path.join(baseSrc, 'config.json'), 300 * 1024, 'base');
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 1 * MiB });
  const location = repoUrl(path.join(dir, 'repo'));
  // A snapshot taken before the kills: it must come through them intact.
  const base = await backup(repo, { asset: 'base', paths: [baseSrc] });

  const points: string[] = [];
  /** The run that wrote the snapshot of "big", and what was indexed before it started. */
  let completed: { indexedBefore: Set<string>; result?: CliResult } | undefined;
  let kills = 0;
  let staleLocks = 0;
  for (let i = 0; i < KILLS && !completed; i++) {
    const indexedBefore = await indexedBlobs(repo);
    const child = spawnCli(['backup', '-r', location, '--asset', 'big', '--json', '-q', src]);
    let exited = false;
    const done = finished(child).finally(() => (exited = true));
    points.push(await randomPoint(repo, () => !exited, i === 1));
    child.kill('SIGKILL');
    const result = await done;
    if (result.signal !== 'SIGKILL') {
      completed = { indexedBefore, result }; // it finished before the kill came
      break;
    }
    kills++;
    const locks = await listLocks(repo);
    assert.ok(locks.every((l) => isStale(l.lock)), 'every lock left behind is recognised as stale (its process is dead)');
    staleLocks = locks.length;
    await assertSound(repo, 0, `after kill ${kills} at ${points[points.length - 1]}`);
    const snapshots = (await listSnapshots(repo)).map((s) => s.snapshot.asset);
    // The snapshot is written last: a kill leaves none, unless it came in the last milliseconds
    // after the snapshot was written (then that run completed, and the snapshot is whole).
    if (snapshots.includes('big')) completed = { indexedBefore };
    else assert.deepEqual(snapshots, ['base'], 'a killed backup leaves no snapshot');
  }
  t.diagnostic(`kill points: ${points.join(', ')}; ${kills} kills; locks left by killed runs: ${staleLocks}`);
  if (completed?.result) assert.equal(completed.result.code, 0, `a run ended before its kill, and not successfully: ${completed.result.stderr}`);
  assert.ok(kills >= 5, `most runs were killed, not completed (${kills} of ${points.length})`);
  assert.ok(staleLocks > 0, 'killed backups left locks behind, which the next ones had to step over');

  if (!completed) {
    const indexedBefore = await indexedBlobs(repo);
    const result = await finished(spawnCli(['backup', '-r', location, '--asset', 'big', '--json', '-q', src]));
    assert.equal(result.code, 0, result.stderr);
    completed = { indexedBefore, result };
  }
  const bigSnapshots = (await listSnapshots(repo)).filter((s) => s.snapshot.asset === 'big');
  assert.equal(bigSnapshots.length, 1);
  const final = { id: bigSnapshots[0].id, summary: bigSnapshots[0].snapshot.summary };
  if (completed.result) assert.equal((JSON.parse(completed.result.stdout) as { id: string }).id, final.id, 'the CLI printed the id of the snapshot it wrote');
  assert.equal(final.summary.totalBytes, 100 * MiB);

  // The completed backup stored exactly the chunks no interrupted run had stored and indexed.
  const { index } = await loadIndex(repo);
  const blobs = [...(await dataBlobsOf(repo, final.id))];
  const total = blobs.reduce((n, b) => n + rawLengthOf(index, b), 0);
  const reused = blobs.filter((b) => completed!.indexedBefore.has(b)).reduce((n, b) => n + rawLengthOf(index, b), 0);
  t.diagnostic(`final backup: ${(reused / MiB).toFixed(1)} MiB reused from interrupted runs, ${(final.summary.newRawBytes / MiB).toFixed(1)} MiB new, of ${(total / MiB).toFixed(1)} MiB`);
  assert.ok(reused > 0, 'interrupted runs left data that the completed backup reused');
  assert.ok(final.summary.newRawBytes >= total - reused, 'everything missing was stored');
  assert.ok(final.summary.newRawBytes <= total - reused + 64 * 1024, 'nothing already stored was stored again (beyond a few tree blobs)');

  await assertSound(repo, 1, 'at the end, reading all data');
  const target = path.join(dir, 'out');
  const restored = await restore(repo, { snapshot: final.id, target });
  assert.deepEqual(restored.failed, []);
  assert.equal(await sha256File(path.join(target, 'model.bin')), await sha256File(path.join(src, 'model.bin')));

  // `unlock` clears what the killed processes left; live locks are none.
  const staleNow = (await listLocks(repo)).length;
  const { result, json } = await runCliJson<{ removed: number }>(['unlock', '-r', location]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(json.removed, staleNow);
  assert.deepEqual(await listLocks(repo), []);
});
