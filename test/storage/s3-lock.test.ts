/**
 * Object Lock (immutability against ransomware) at the storage level: objects written with a
 * retention period cannot be deleted or overwritten with the client's own credentials until it ends.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { AlreadyExistsError, NotFoundError, StorageError } from '../../src/storage/errors.js';
import { openLocalStorage } from '../../src/storage/local.js';
import { createS3Bucket } from '../../src/storage/s3-bucket.js';
import { ObjectLockedError } from '../../src/storage/s3-errors.js';
import { openS3Storage, type S3Storage } from '../../src/storage/s3.js';
import type { S3Options } from '../../src/storage/s3-options.js';
import { createTestBucket, freshPrefix, rawClient, removeTestBucket, requireRgw, rgwOptions } from './rgw.js';

const MiB = 1024 * 1024;
const inSeconds = (s: number) => new Date(Date.now() + s * 1000);
const near = (a: Date | undefined, b: Date) => a !== undefined && Math.abs(a.getTime() - b.getTime()) < 1500;

describe('S3 Object Lock', () => {
  let bucket: string;
  let plainBucket: string;
  const raw = rawClient();
  const open = (options: S3Options = {}): S3Storage => openS3Storage(`s3://${bucket}/${freshPrefix()}`, rgwOptions(options), {});
  const versionsOf = async (s: S3Storage, key: string) => {
    const page = await raw.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: s.prefix + key }));
    return (page.Versions ?? []).filter((v) => v.Key === s.prefix + key);
  };
  const readVersion = async (s: S3Storage, key: string, VersionId: string | undefined) => {
    const answer = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: s.prefix + key, VersionId }));
    return Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  };

  before(async () => {
    await requireRgw();
    bucket = await createTestBucket('lock', true);
    plainBucket = await createTestBucket('nolock');
  });
  after(async () => {
    if (bucket) await removeTestBucket(bucket);
    if (plainBucket) await removeTestBucket(plainBucket);
    raw.destroy();
  });

  it('keeps a GOVERNANCE-locked object: delete fails with the client\'s credentials, the data stays', async () => {
    const s = open({ lockMode: 'GOVERNANCE' });
    const data = randomBytes(4096);
    const until = inSeconds(3600);
    await s.put('snapshots/s1', data, { retainUntil: until });
    assert.ok(near((await s.head('snapshots/s1'))?.retainUntil, until));

    await assert.rejects(s.delete('snapshots/s1'), (err: unknown) => err instanceof ObjectLockedError && err.code === 'OBJECT_LOCKED' && near(err.retainUntil, until) && /snapshots\/s1.*locked/.test(err.message));
    const [version] = await versionsOf(s, 'snapshots/s1');
    await assert.rejects(raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: s.prefix + 'snapshots/s1', VersionId: version.VersionId })), (err: Error) => err.name === 'AccessDenied');
    assert.deepEqual(await s.get('snapshots/s1'), data);
    await s.close();
  });

  it('cannot be overwritten: ifAbsent refuses, and a plain put leaves the locked version intact', async () => {
    const s = open();
    const data = randomBytes(1000);
    await s.put('index/i1', data, { ifAbsent: true, retainUntil: inSeconds(3600) });
    await assert.rejects(s.put('index/i1', randomBytes(1000), { ifAbsent: true }), AlreadyExistsError);
    const [locked] = await versionsOf(s, 'index/i1');
    await s.put('index/i1', Buffer.from('ransom note'));
    assert.deepEqual(await readVersion(s, 'index/i1', locked.VersionId), data, 'the locked version still holds the original bytes');
    assert.equal((await versionsOf(s, 'index/i1')).length, 2);
    await s.close();
  });

  it('locks large (multipart) objects too', async () => {
    const s = open({ partSize: 5 * MiB, multipartThreshold: 6 * MiB });
    const until = inSeconds(3600);
    await s.put('data/ab/pack', randomBytes(11 * MiB), { retainUntil: until });
    assert.ok(near((await s.head('data/ab/pack'))?.retainUntil, until));
    await assert.rejects(s.delete('data/ab/pack'), ObjectLockedError);
    await s.close();
  });

  it('in COMPLIANCE mode refuses even the owner\'s governance bypass, until retention ends', async () => {
    const s = open({ lockMode: 'COMPLIANCE' });
    await s.put('keys/k1', Buffer.from('key material'), { retainUntil: inSeconds(3) });
    const [version] = await versionsOf(s, 'keys/k1');
    const bypass = new DeleteObjectCommand({ Bucket: bucket, Key: s.prefix + 'keys/k1', VersionId: version.VersionId, BypassGovernanceRetention: true });
    await assert.rejects(raw.send(bypass), (err: Error) => err.name === 'AccessDenied');
    await assert.rejects(s.delete('keys/k1'), ObjectLockedError);
    await sleep(4000);
    await s.delete('keys/k1');
    assert.equal(await s.head('keys/k1'), undefined);
    assert.equal((await versionsOf(s, 'keys/k1')).length, 0, 'every version is gone once unlocked');
    await s.close();
  });

  it('extends retention of an existing object, and never shortens it', async () => {
    const s = open();
    await s.put('data/cd/old', randomBytes(100), { retainUntil: inSeconds(60) });
    const later = inSeconds(7200);
    await s.extendRetention('data/cd/old', later);
    assert.ok(near((await s.head('data/cd/old'))?.retainUntil, later));
    await s.extendRetention('data/cd/old', inSeconds(120));
    assert.ok(near((await s.head('data/cd/old'))?.retainUntil, later), 'an earlier date leaves the retention as it was');
    await s.put('data/cd/unlocked', randomBytes(100));
    await s.extendRetention('data/cd/unlocked', later);
    assert.ok(near((await s.head('data/cd/unlocked'))?.retainUntil, later), 'an object written without retention gets one');
    await assert.rejects(s.delete('data/cd/unlocked'), ObjectLockedError);
    await assert.rejects(s.extendRetention('data/cd/missing', later), NotFoundError);
    await s.close();
  });

  it('says clearly when the bucket has no Object Lock', async () => {
    const s = openS3Storage(`s3://${plainBucket}/repo`, rgwOptions(), {});
    await assert.rejects(s.put('snapshots/s1', Buffer.from('x'), { retainUntil: inSeconds(60) }), (err: unknown) => err instanceof StorageError && /Object Lock/i.test(err.message) && /snapshots\/s1/.test(err.message));
    await assert.rejects(createS3Bucket(`s3://${plainBucket}`, rgwOptions(), { objectLock: true }, {}), /exists without Object Lock/);
    await s.close();
  });

  it('is a capability only backends with immutability have', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-lock-'));
    try {
      assert.equal(openLocalStorage(dir).extendRetention, undefined);
      assert.equal(typeof open().extendRetention, 'function');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
