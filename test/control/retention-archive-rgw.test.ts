/**
 * Retention with archive against the Ceph RGW (these tests fail, never skip, without it; start it
 * with `bash scripts/start-ceph-rgw.sh`): `lifeboat forget` by lifeboat.yaml archives to an archive
 * repository in an S3 bucket, and on a primary with Object Lock a snapshot still under retention
 * is neither archived nor forgotten, but reported with its date.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { manualClock } from '../../src/base/clock.js';
import type { RetentionOutcome } from '../../src/control/retention-run.js';
import { backup } from '../../src/engine/backup.js';
import { withRetention } from '../../src/engine/copy-retention.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { initRepository, type Repository } from '../../src/repo/repository.js';
import { openLocalStorage } from '../../src/storage/local.js';
import { openS3Storage } from '../../src/storage/s3.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { FAST_KDF, TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { bucketForTest, createTestBucket, freshPrefix, removeTestBucket, requireRgw, RGW, rgwOptions } from '../storage/rgw.js';
import { RGW_CLI_ENV } from '../storage/rgw-endpoint.js';

const DAY = 86_400_000;

async function s3Repo(t: { after(fn: () => Promise<void>): void }, url: string): Promise<Repository> {
  const storage = openS3Storage(url, rgwOptions(), {});
  t.after(() => storage.close());
  return initRepository(storage, TEST_PASSWORD, { kdf: FAST_KDF });
}

async function localRepo(dir: string): Promise<Repository> {
  return initRepository(await openLocalStorage(dir), TEST_PASSWORD, { kdf: FAST_KDF });
}

async function backupAt(repo: Repository, dir: string, time: string): Promise<string> {
  const src = path.join(dir, 'src', 'm');
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(path.join(src, 'weights.bin'), `weights at ${time}`);
  return (await backup(repo, { asset: 'm', paths: [src], clock: manualClock(time) })).snapshotId;
}

async function config(dir: string, primary: string, archive: string): Promise<string> {
  const file = path.join(dir, 'lifeboat.yaml');
  await fs.writeFile(
    file,
    `repositories:
  primary: { url: "${primary}", role: primary, s3: { endpoint: "${RGW.endpoint}", region: ${RGW.region} } }
  cold: { url: "${archive}", role: archive, s3: { endpoint: "${RGW.endpoint}", region: ${RGW.region} } }
tiers:
  1: { keep: { last: 1 }, expired: archive }
assets:
  m: { kind: model, tier: 1, source: { path: src/m } }
`,
  );
  return file;
}

const cliOptions = (dir: string) => ({ cwd: dir, env: { ...RGW_CLI_ENV, AWS_ENDPOINT_URL: undefined, XDG_CONFIG_HOME: path.join(dir, 'no-config'), LIFEBOAT_CACHE_DIR: path.join(dir, 'cache') } });

test('forget by lifeboat.yaml archives to a repository on the Ceph RGW, checked there before the primary forgets', async (t) => {
  const dir = await tempDir(t);
  const bucket = await bucketForTest(t, 'archive');
  const archiveUrl = `s3://${bucket}/cold`;
  const archive = await s3Repo(t, archiveUrl);
  const primary = await localRepo(path.join(dir, 'primary'));
  const ids = [];
  for (const day of [1, 2, 3]) ids.push(await backupAt(primary, dir, `2024-11-0${day}T10:00:00.000Z`));
  const file = await config(dir, path.join(dir, 'primary'), archiveUrl);

  const { result, json } = await runCliJson<RetentionOutcome>(['forget', '-c', file], cliOptions(dir));
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual([json.archive?.name, json.archive?.copied, json.archive?.check?.snapshots], ['cold', 2, 2]);
  assert.match(json.archive?.repository ?? '', new RegExp(`^s3://${bucket}/cold`));
  assert.deepEqual((await listSnapshots(archive)).map((s) => s.snapshot.time), ['2024-11-01T10:00:00.000Z', '2024-11-02T10:00:00.000Z']);
  assert.deepEqual((await listSnapshots(primary)).map((s) => s.id), [ids[2]]);
  const checked = await runCli(['check', '--read-data', '-c', file, '-r', 'cold'], cliOptions(dir));
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
});

test('on a primary with Object Lock, a snapshot under retention is neither archived nor forgotten: it is reported with its date', async (t) => {
  const dir = await tempDir(t);
  await requireRgw();
  const bucket = await createTestBucket('retention-lock', true);
  t.after(() => removeTestBucket(bucket));
  const primaryUrl = `s3://${bucket}/${freshPrefix()}`;
  const primary = await s3Repo(t, primaryUrl);
  const until = new Date(Date.now() + DAY);
  const locked = await backupAt(withRetention(primary, { until }), dir, '2024-11-01T10:00:00.000Z');
  const free = await backupAt(primary, dir, '2024-11-02T10:00:00.000Z');
  const newest = await backupAt(primary, dir, '2024-11-03T10:00:00.000Z');
  const archive = await localRepo(path.join(dir, 'cold'));
  const file = await config(dir, primaryUrl, path.join(dir, 'cold'));

  const { result, json } = await runCliJson<RetentionOutcome>(['forget', '-c', file], cliOptions(dir));
  assert.equal(result.code, 0, result.stderr);
  const [m] = json.assets;
  assert.deepEqual(m.locked.map((l) => l.id), [locked]);
  assert.ok(Math.abs(Date.parse(m.locked[0].until) - until.getTime()) < 5000, `locked until ${m.locked[0].until}`);
  assert.deepEqual(m.removed.map((r) => r.id), [free]);
  assert.deepEqual(json.locked, [{ id: locked, until: m.locked[0].until }]);
  assert.deepEqual((await listSnapshots(archive)).map((s) => s.snapshot.time), ['2024-11-02T10:00:00.000Z'], 'only the unlocked one was archived');
  assert.deepEqual((await listSnapshots(primary)).map((s) => s.id).sort(), [locked, newest].sort());

  const text = await runCli(['forget', '-c', file], cliOptions(dir));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`locked\\s+${locked.slice(0, 12)}  2024-11-01 10:00:00  past the policy, under Object Lock until ${m.locked[0].until.replace(/\./g, '\\.')}: left`));
  assert.match(text.stdout, /removed 0 snapshot\(s\), kept 1, left 1 locked/);
});
