import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { openStorage } from '../../src/storage/open.js';
import { RequestFailedError } from '../../src/storage/retry.js';
import { openS3Storage } from '../../src/storage/s3.js';
import { storageConformance } from './conformance.js';
import { createTestBucket, freshPrefix, rawClient, removeTestBucket, requireRgw, rgwOptions } from './rgw.js';

const MiB = 1024 * 1024;

describe('S3 storage on Ceph RGW', () => {
  let bucket: string;
  before(async () => {
    await requireRgw();
    bucket = await createTestBucket('conformance');
  });
  after(async () => {
    if (bucket) await removeTestBucket(bucket);
  });
  // 40 MiB in 8 MiB parts: five parts uploaded in parallel; ranges read across part boundaries.
  storageConformance({
    open: () => openStorage(`s3://${bucket}/${freshPrefix()}`, { s3: rgwOptions({ partSize: 8 * MiB, multipartThreshold: 16 * MiB }) }),
    largeObjectBytes: 40 * MiB,
    largeObjectBoundaries: [8 * MiB, 16 * MiB, 32 * MiB],
  });

  it('says that the bucket does not exist, rather than that an object is missing', async () => {
    const s = openS3Storage(`s3://${bucket}-missing/repo`, rgwOptions(), {});
    try {
      for (const op of [() => s.get('config'), () => s.head('config'), () => s.put('config', Buffer.from('x')), async () => { for await (const o of s.list('')) void o; }]) {
        await assert.rejects(op(), /bucket .*-missing does not exist at http/);
      }
    } finally {
      await s.close();
    }
  });

  it('refuses a whole read whose bytes do not match the SHA-256 stored with the object', async () => {
    const prefix = freshPrefix();
    const raw = rawClient();
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/index/bad`, Body: Buffer.from('bytes on disk'), Metadata: { sha256: '0'.repeat(64) } }));
    raw.destroy();
    const s = openS3Storage(`s3://${bucket}/${prefix}`, rgwOptions({ retry: { maxAttempts: 2, baseDelayMs: 1 } }), {});
    try {
      await assert.rejects(s.get('index/bad'), (err: unknown) =>
        err instanceof RequestFailedError && /GET index\/bad .* failed after 2 attempts/.test(err.message) && /read back with checksum [0-9a-f]{64}, but it was stored with 0{64}/.test(err.message));
      assert.equal((await s.get('index/bad', { offset: 0, length: 5 })).toString(), 'bytes', 'ranges are the caller\'s to check');
    } finally {
      await s.close();
    }
  });
});

describe('S3 storage on a versioned (Object Lock) bucket', () => {
  let bucket: string;
  before(async () => {
    await requireRgw();
    bucket = await createTestBucket('conformance-lock', true);
  });
  after(async () => {
    if (bucket) await removeTestBucket(bucket);
  });
  // What differs here is ifAbsent and delete (versions); pagination is covered above.
  storageConformance({
    open: () => openStorage(`s3://${bucket}/${freshPrefix()}`, { s3: rgwOptions() }),
    largeObjectBytes: 40 * MiB,
    manyKeys: 120,
  });
});
