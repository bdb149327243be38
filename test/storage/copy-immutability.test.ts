/**
 * Immutable backups on an Object Lock bucket (Ceph RGW; these tests fail, never skip, without
 * it): backup and copy with a retention period write packs, index files and snapshots that the
 * client's own credentials cannot delete or overwrite, and a new snapshot extends the retention of
 * the older packs it still needs, so the newest snapshot's data is locked as long as the snapshot.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { forget } from '../../src/engine/forget.js';
import { prune } from '../../src/engine/prune.js';
import { RetentionUnsupportedError, withRetention } from '../../src/engine/copy-retention.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { makeCodecSet } from '../../src/repo/codec/all.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { initRepository, openRepository, packKey, type Repository } from '../../src/repo/repository.js';
import { openLocalStorage } from '../../src/storage/local.js';
import { ObjectLockedError } from '../../src/storage/s3-errors.js';
import { openS3Storage, type S3Storage } from '../../src/storage/s3.js';
import { collectBlobs } from '../../src/engine/reachable.js';
import { makeTreeReader } from '../../src/engine/trees.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { createRepo, FAST_KDF, TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { createTestBucket, freshPrefix, rawClient, removeTestBucket, requireRgw, RGW, rgwOptions } from './rgw.js';

const MiB = 1024 * 1024;
const DAY = 24 * 3600 * 1000;
const S3_ENV = { AWS_ENDPOINT_URL: RGW.endpoint, AWS_REGION: RGW.region, AWS_ACCESS_KEY_ID: RGW.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: RGW.credentials.secretAccessKey };
const near = (a: Date | undefined, b: Date, slackMs = 120_000) => a !== undefined && Math.abs(a.getTime() - b.getTime()) < slackMs;

/** Packs (and their index files' keys are found separately) holding the blobs a snapshot needs. */
async function packsOfSnapshot(repo: Repository, snapshotId: string): Promise<Set<string>> {
  const { index } = await loadIndex(repo);
  const snap = (await listSnapshots(repo)).find((s) => s.id === snapshotId)!;
  const { data, trees } = await collectBlobs(makeTreeReader(repo, index, makeCodecSet(1)), snap.snapshot.tree, new Set(), new Set());
  return new Set([...data, ...trees].map((id) => index.get(Buffer.from(id, 'hex'))!.packId));
}

async function keysUnder(storage: S3Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of storage.list(prefix)) keys.push(info.key);
  return keys;
}

describe('immutable backups on an Object Lock bucket', () => {
  let bucket: string;
  const raw = rawClient();
  before(async () => {
    await requireRgw();
    bucket = await createTestBucket('immutable', true);
  });
  after(async () => {
    if (bucket) await removeTestBucket(bucket);
    raw.destroy();
  });

  it('backup and copy with a retention period: nothing they wrote can be deleted or overwritten, and older packs a new snapshot needs are extended', async (t) => {
    const dir = await tempDir(t);
    const url = `s3://${bucket}/${freshPrefix()}`;
    const storage = openS3Storage(url, rgwOptions(), {});
    t.after(() => storage.close());
    const repo = await initRepository(storage, TEST_PASSWORD, { kdf: FAST_KDF, config: { packSize: 512 * 1024 } });
    const data = path.join(dir, 'data');
    await fs.mkdir(data);
    await writeRandomFile(path.join(data, 'kept.bin'), 1536 * 1024, 'kept');
    await writeRandomFile(path.join(data, 'dropped.bin'), 1536 * 1024, 'dropped');

    // v1 under a short lock (1 day), through the engine.
    const t1 = new Date(Date.now() + DAY);
    const v1 = await backup(withRetention(repo, { until: t1 }), { asset: 'adapter', paths: [data] });
    const v1Packs = await packsOfSnapshot(repo, v1.snapshotId);
    for (const p of v1Packs) assert.ok(near((await storage.head(packKey(p)))?.retainUntil, t1, 5000), `pack ${p.slice(0, 8)} of v1 is locked until t1`);

    // v2 under a 30-day lock, through the CLI: it keeps one file, drops one, adds one.
    await fs.rm(path.join(data, 'dropped.bin'));
    await writeRandomFile(path.join(data, 'added.bin'), 1024 * 1024, 'added');
    const run = await runCliJson<{ id: string }>(['backup', '-r', url, '--asset', 'adapter', '--retain-days', '30', data], { env: S3_ENV });
    assert.equal(run.result.code, 0, run.result.stderr);
    const t2 = new Date(Date.now() + 30 * DAY);
    const v2Packs = await packsOfSnapshot(repo, run.json.id);
    const shared = [...v1Packs].filter((p) => v2Packs.has(p));
    const v1Only = [...v1Packs].filter((p) => !v2Packs.has(p));
    assert.ok(shared.length >= 1 && v1Only.length >= 1, `v2 shares ${shared.length} pack(s) with v1 and leaves ${v1Only.length}`);
    for (const p of v2Packs) assert.ok(near((await storage.head(packKey(p)))?.retainUntil, t2), `pack ${p.slice(0, 8)} needed by v2 is locked as long as v2 (30 days)`);
    for (const p of v1Only) assert.ok(near((await storage.head(packKey(p)))?.retainUntil, t1, 5000), `pack ${p.slice(0, 8)} only v1 needs keeps v1's lock`);
    for (const key of await keysUnder(storage, 'index/')) {
      assert.ok(((await storage.head(key))?.retainUntil?.getTime() ?? 0) >= t2.getTime() - 120_000, `index ${key} lists packs v2 needs: locked as long as v2`);
    }
    assert.ok(near((await storage.head(`snapshots/${run.json.id}`))?.retainUntil, t2));

    // Copy to a second prefix (the "second site") with its own 7-day lock, through the CLI.
    const replicaUrl = `s3://${bucket}/${freshPrefix()}`;
    const replicaStorage = openS3Storage(replicaUrl, rgwOptions(), {});
    t.after(() => replicaStorage.close());
    await initRepository(replicaStorage, 'replica', { kdf: FAST_KDF });
    const copied = await runCliJson<{ copied: number }>(['copy', '-r', url, '--to', replicaUrl, '--all', '--retain-days', '7'], { env: { ...S3_ENV, LIFEBOAT_TO_PASSWORD: 'replica' } });
    assert.equal(copied.result.code, 0, copied.result.stderr);
    assert.equal(copied.json.copied, 2);
    const t3 = new Date(Date.now() + 7 * DAY);
    for (const key of [...(await keysUnder(replicaStorage, 'data/')), ...(await keysUnder(replicaStorage, 'index/')), ...(await keysUnder(replicaStorage, 'snapshots/'))]) {
      assert.ok(near((await replicaStorage.head(key))?.retainUntil, t3), `replica object ${key} is locked for 7 days`);
    }
    const report = await check(await openRepository(replicaStorage, 'replica'), { readData: 1 });
    assert.ok(report.ok && report.snapshots === 2, JSON.stringify(report.errors));

    // Neither repository's packs, indexes or snapshots can be deleted or overwritten with the client's credentials.
    for (const s of [storage, replicaStorage]) {
      const locked = [...(await keysUnder(s, 'data/')), ...(await keysUnder(s, 'index/')), ...(await keysUnder(s, 'snapshots/'))];
      assert.ok(locked.length >= 5);
      for (const key of locked) {
        await assert.rejects(s.delete(key), (err: unknown) => err instanceof ObjectLockedError && err.retainUntil !== undefined, `delete ${key}`);
        const page = await raw.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: s.prefix + key }));
        const version = page.Versions!.find((v) => v.Key === s.prefix + key)!;
        await assert.rejects(raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: s.prefix + key, VersionId: version.VersionId })), (err: Error) => err.name === 'AccessDenied', `raw delete of ${key}`);
      }
      assert.deepEqual(await keysUnder(s, 'locks/'), [], 'locks are not locked: their holders removed them');
      // An overwrite (a ransomware "encrypt in place") only adds a version; the locked original stays readable.
      const victim = locked.find((k) => k.startsWith('snapshots/'))!;
      const original = await s.get(victim);
      const [before] = (await raw.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: s.prefix + victim }))).Versions!;
      await s.put(victim, Buffer.from('ransom note'));
      const kept = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: s.prefix + victim, VersionId: before.VersionId }));
      assert.deepEqual(Buffer.from(await kept.Body!.transformToByteArray()), original);
    }
  });

  it('forget and prune never delete what is locked: they say what they left and until when', async (t) => {
    const dir = await tempDir(t);
    const url = `s3://${bucket}/${freshPrefix()}`;
    const storage = openS3Storage(url, rgwOptions(), {});
    t.after(() => storage.close());
    const repo = await initRepository(storage, TEST_PASSWORD, { kdf: FAST_KDF, config: { packSize: 512 * 1024 } });
    const data = path.join(dir, 'data');
    await fs.mkdir(data);
    const version = async (name: string, retain?: Date) => {
      await fs.rm(data, { recursive: true, force: true });
      await fs.mkdir(data);
      await writeRandomFile(path.join(data, `${name}.bin`), 1024 * 1024, name);
      return backup(retain ? withRetention(repo, { until: retain }) : repo, { asset: 'ds', paths: [data] });
    };
    const v0 = await version('v0');
    const t1 = new Date(Date.now() + DAY);
    const v1 = await version('v1', t1);
    const v2 = await version('v2');
    const v1Packs = await packsOfSnapshot(repo, v1.snapshotId);
    const v0Packs = await packsOfSnapshot(repo, v0.snapshotId);

    const forgotten = await forget(repo, { keepLast: 1 });
    assert.deepEqual(forgotten.removed, [v0.snapshotId]);
    assert.deepEqual(forgotten.locked.map((l) => l.id), [v1.snapshotId]);
    assert.ok(near(new Date(forgotten.locked[0].until), t1, 5000));
    assert.deepEqual((await listSnapshots(repo)).map((s) => s.id).sort(), [v1.snapshotId, v2.snapshotId].sort());

    // An administrator removes v1's snapshot (GOVERNANCE can be bypassed by someone allowed to); its data stays locked.
    const [snapVersion] = (await raw.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${storage.prefix}snapshots/${v1.snapshotId}` }))).Versions!;
    await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: snapVersion.Key, VersionId: snapVersion.VersionId, BypassGovernanceRetention: true }));

    const result = await prune(repo);
    assert.equal(result.packsDeleted, v0Packs.size, 'the unlocked packs only v0 needed are deleted');
    for (const p of v0Packs) assert.equal(await storage.head(packKey(p)), undefined);
    assert.deepEqual(result.lockedPacks.map((p) => p.pack).sort(), [...v1Packs].sort(), 'the locked packs only v1 needed are left');
    for (const p of result.lockedPacks) assert.ok(near(new Date(p.until), t1, 5000), `pack ${p.pack.slice(0, 8)} is reported locked until t1`);
    for (const p of v1Packs) assert.ok(await storage.head(packKey(p)));
    assert.equal(result.lockedIndexes.length, 1, 'v1\'s index file is locked and stays');
    const report = await check(repo, { readData: 1 });
    assert.ok(report.ok && report.snapshots === 1, JSON.stringify({ ...report, blobs: undefined }));
  });

  it('refuses a retention period where storage cannot enforce it', async (t) => {
    const dir = await tempDir(t);
    const repo = await createRepo(path.join(dir, 'local'));
    assert.throws(() => withRetention(repo, { until: new Date(Date.now() + DAY) }), (err: unknown) => err instanceof RetentionUnsupportedError && /Object Lock/.test((err as Error).message));
    const local = openLocalStorage(path.join(dir, 'replica'));
    await initRepository(local, TEST_PASSWORD, { kdf: FAST_KDF });
    const run = await runCli(['copy', '-r', path.join(dir, 'local'), '--to', path.join(dir, 'replica'), '--all', '--retain-days', '7']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot keep objects immutable/);
  });
});
