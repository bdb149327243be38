/**
 * The local Ceph RGW the S3 tests run against (started by scripts/start-ceph-rgw.sh), and buckets
 * made for one test run. Tests that need it fail, never skip, when it is not there.
 *
 * Environment (defaults are the start script's): S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION.
 */
import { randomBytes } from 'node:crypto';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  AbortMultipartUploadCommand,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createS3Bucket } from '../../src/storage/s3-bucket.js';
import type { S3Options } from '../../src/storage/s3-options.js';
import { RGW } from './rgw-endpoint.js';

export { RGW } from './rgw-endpoint.js';

/** S3Options for the test RGW; `extra` overrides (e.g. a fault proxy's endpoint, a fast retry policy). */
export function rgwOptions(extra: S3Options = {}): S3Options {
  return { endpoint: RGW.endpoint, region: RGW.region, forcePathStyle: true, credentials: RGW.credentials, ...extra };
}

/** A raw SDK client for the test RGW, to look behind the storage's back (versions, retention). */
export function rawClient(): S3Client {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: RGW.endpoint,
    region: RGW.region,
    forcePathStyle: true,
    credentials: RGW.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Fails (with what to do) unless the RGW answers a signed request within a few seconds. */
export async function requireRgw(): Promise<void> {
  const client = rawClient();
  try {
    await client.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(8000) });
  } catch (err) {
    throw new Error(
      `Ceph RGW is not reachable at ${RGW.endpoint} (${(err as Error).name}: ${(err as Error).message}). ` +
        `Start it with "bash scripts/start-ceph-rgw.sh" (as root; it installs and starts a local RGW), ` +
        `or point S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY at another S3 server.`,
      { cause: err },
    );
  } finally {
    client.destroy();
  }
}

/** Creates a fresh bucket for this run, named after `tag`. */
export async function createTestBucket(tag: string, objectLock = false): Promise<string> {
  const name = `lifeboat-test-${tag}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await createS3Bucket(`s3://${name}`, rgwOptions(), { objectLock }, {});
  return name;
}

/** For one test: checks that RGW runs, makes a bucket named after `tag`, and removes it when the test ends. */
export async function bucketForTest(t: { after(fn: () => Promise<void>): void }, tag: string): Promise<string> {
  await requireRgw();
  const bucket = await createTestBucket(tag);
  t.after(() => removeTestBucket(bucket));
  return bucket;
}

/** Deletes every object version, upload and the bucket; governance locks are bypassed (the owner may). */
export async function removeTestBucket(bucket: string): Promise<void> {
  const client = rawClient();
  try {
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    do {
      const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }));
      const entries = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
      for (let i = 0; i < entries.length; i += 32) {
        await Promise.all(
          entries.slice(i, i + 32).map((v) =>
            client.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId, BypassGovernanceRetention: true })).catch(() => undefined),
          ),
        );
      }
      KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (KeyMarker !== undefined);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of uploads.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId })).catch(() => undefined);
    }
    // A bucket still holding COMPLIANCE-locked versions cannot go yet; it is tiny and lives in /tmp.
    await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  } finally {
    client.destroy();
  }
}

/** A prefix no other test uses, so one bucket serves many fresh, empty storages. */
export function freshPrefix(): string {
  return `t-${randomBytes(5).toString('hex')}`;
}
