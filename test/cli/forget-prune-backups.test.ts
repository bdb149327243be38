/**
 * Prune and backups (docs/format.md §11, "Prune and concurrent backups"): prune's exclusive lock
 * keeps them apart. A backup started while a prune runs is refused cleanly (exit 11, LOCKED,
 * nothing written, no lock of its own left) and succeeds once the prune is done; a prune started
 * while a backup runs is refused the same way and the backup's data is safe. What a killed backup
 * left (packs, index entries no snapshot uses) is removed by the next prune, and a later backup
 * still succeeds and passes `check --read-data`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backup } from '../../src/engine/backup.js';
import { forget } from '../../src/engine/forget.js';
import { prune, type PruneResult } from '../../src/engine/prune.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { listLocks } from '../../src/repo/lock.js';
import type { Repository } from '../../src/repo/repository.js';
import type { Storage } from '../../src/storage/storage.js';
import { finished, runCli, runCliJson, spawnCli } from '../helpers/cli.js';
import { sha256File, writeRandomFile } from '../helpers/files.js';
import { objectKeys } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The repository, with the first `method` call on a key under `prefix` held until `release()`:
 * an operation stopped half way, holding its lock, for as long as the test needs.
 */
function heldAt(repo: Repository, method: 'list' | 'put', prefix: string): { repo: Repository; reached: Promise<void>; release(): void } {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const gate = new Promise<void>((r) => (release = r));
  let held = false;
  const hold = async (key: string) => {
    if (held || !key.startsWith(prefix)) return;
    held = true;
    reach();
    await gate;
  };
  const target = repo.storage;
  const storage = new Proxy(target, {
    get(t, prop) {
      if (prop === 'list' && method === 'list') {
        return async function* (p: string) {
          await hold(p);
          yield* t.list(p);
        };
      }
      if (prop === 'put' && method === 'put') return async (key: string, ...rest: unknown[]) => (await hold(key), (t.put as (...a: unknown[]) => Promise<void>)(key, ...rest));
      const value = Reflect.get(t, prop);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  }) as Storage;
  return { repo: { ...repo, storage }, reached, release };
}

async function fixture(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 256 * KiB });
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  return { dir, repo, src, url: repoUrl(path.join(dir, 'repo')) };
}

const packs = (repo: Repository) => objectKeys(repo.storage, 'data/');

test('a backup started while a prune holds its lock is refused cleanly (exit 11) and succeeds after the prune', async (t) => {
  const { repo, src, url } = await fixture(t);
  await writeRandomFile(path.join(src, 'old.bin'), 1 * MiB, 'old');
  await backup(repo, { asset: 'm', paths: [src] });
  await fs.rm(path.join(src, 'old.bin'));
  await writeRandomFile(path.join(src, 'new.bin'), 1 * MiB, 'new');
  await backup(repo, { asset: 'm', paths: [src] });
  await forget(repo, { keepLast: 1 });

  const held = heldAt(repo, 'list', 'data/');
  let pruned: PruneResult | undefined;
  const pruning = prune(held.repo).then((r) => (pruned = r));
  await held.reached; // prune holds its exclusive lock and is between marking and sweeping
  const before = await packs(repo);
  const { result, json } = await runCliJson<{ error: { code: string } }>(['backup', '-r', url, '--asset', 'm', src]);
  assert.equal(result.code, 11, result.stderr);
  assert.equal(json.error.code, 'LOCKED');
  assert.match(result.stderr, /locked exclusively by "prune".*wait for it to finish/);
  assert.deepEqual(await packs(repo), before, 'the refused backup wrote no pack');
  assert.deepEqual((await listLocks(repo)).map((l) => l.lock.operation), ['prune'], 'and left no lock of its own');
  assert.equal(pruned, undefined, 'the prune was still running');

  held.release();
  await pruning;
  assert.ok(pruned!.packsDeleted > 0, 'the prune deleted what the forgotten snapshot alone needed');
  const after = await runCli(['backup', '-r', url, '--asset', 'm', src]);
  assert.equal(after.code, 0, after.stderr);
  const checked = await runCliJson<{ ok: boolean; snapshots: number }>(['check', '-r', url, '--read-data']);
  assert.equal(checked.result.code, 0, checked.result.stdout);
  assert.equal(checked.json.snapshots, 2);
});

test('a prune started while a backup runs is refused (exit 11), and the backup finishes with all its data', async (t) => {
  const { dir, repo, src, url } = await fixture(t);
  await writeRandomFile(path.join(src, 'weights.bin'), 2 * MiB, 'weights');
  const held = heldAt(repo, 'put', 'data/');
  const backingUp = backup(held.repo, { asset: 'm', paths: [src] });
  await held.reached; // the backup holds its shared lock and is about to store its first pack
  const r = await runCliJson<{ error: { code: string } }>(['prune', '-r', url]);
  assert.equal(r.result.code, 11, r.result.stderr);
  assert.equal(r.json.error.code, 'LOCKED');
  assert.match(r.result.stderr, /locked by "backup m"/);
  held.release();
  const { snapshotId } = await backingUp;
  assert.equal((await runCli(['prune', '-r', url])).code, 0);
  const checked = await runCli(['check', '-r', url, '--read-data']);
  assert.equal(checked.code, 0, checked.stdout);
  const target = path.join(dir, 'restored');
  assert.equal((await runCli(['restore', '-r', url, snapshotId, '--target', target])).code, 0);
  assert.equal(await sha256File(path.join(target, 'weights.bin')), await sha256File(path.join(src, 'weights.bin')));
});

test('prune removes what a killed backup left; a later backup still succeeds and passes check --read-data', async (t) => {
  const { dir, repo, src, url } = await fixture(t);
  const base = path.join(dir, 'base');
  await fs.mkdir(base);
  await writeRandomFile(path.join(base, 'config.json'), 100 * KiB, 'base');
  await backup(repo, { asset: 'base', paths: [base] });
  const basePacks = await packs(repo);
  await writeRandomFile(path.join(src, 'model.bin'), 48 * MiB, 'model');

  const child = spawnCli(['backup', '-r', url, '--asset', 'big', '-q', src]);
  let exited = false;
  const done = finished(child).finally(() => (exited = true));
  // Past the first index write (every 8 packs): the run leaves indexed packs and unindexed ones.
  while (!exited && (await packs(repo)).length < basePacks.length + 12) await sleep(10);
  child.kill('SIGKILL');
  assert.equal((await done).signal, 'SIGKILL', 'the backup was killed before it finished');
  assert.deepEqual((await listSnapshots(repo)).map((s) => s.snapshot.asset), ['base'], 'a killed backup leaves no snapshot');
  const left = (await packs(repo)).filter((p) => !basePacks.includes(p));
  const { index } = await loadIndex(repo);
  const indexedLeft = left.filter((key) => index.hasPack(key.slice(key.lastIndexOf('/') + 1)));
  t.diagnostic(`the killed backup left ${left.length} pack(s), ${indexedLeft.length} of them indexed, and a stale lock`);
  assert.ok(indexedLeft.length > 0 && left.length >= 12);

  const pruned = await runCliJson<PruneResult>(['prune', '-r', url]);
  assert.equal(pruned.result.code, 0, pruned.result.stderr);
  assert.equal(pruned.json.packsDeleted, left.length, 'every pack of the killed run, indexed or not, is deleted');
  assert.deepEqual(await packs(repo), basePacks, 'and only those');

  const again = await runCliJson<{ summary: { newBlobs: number } }>(['backup', '-r', url, '--asset', 'big', '-q', src]);
  assert.equal(again.result.code, 0, again.result.stderr);
  const checked = await runCliJson<{ ok: boolean; snapshots: number; unreferencedPacks: string[] }>(['check', '-r', url, '--read-data']);
  assert.equal(checked.result.code, 0, checked.result.stdout);
  assert.deepEqual([checked.json.ok, checked.json.snapshots, checked.json.unreferencedPacks], [true, 2, []]);
  const target = path.join(dir, 'restored');
  assert.equal((await runCli(['restore', '-r', url, 'big@latest', '--target', target])).code, 0);
  assert.equal(await sha256File(path.join(target, 'model.bin')), await sha256File(path.join(src, 'model.bin')));
});
