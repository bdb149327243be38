import { after, before, describe } from 'node:test';
import { openStorage } from '../../src/storage/open.js';
import { storageConformance } from './conformance.js';
import { createTestBucket, freshPrefix, removeTestBucket, requireRgw, rgwOptions } from './rgw.js';

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
