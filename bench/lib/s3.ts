// The S3 server of the bench's S3 mode (by default the local Ceph RGW that
// scripts/start-ceph-rgw.sh starts): its settings, the environment the tools' processes get, and
// the buckets made for one run, which are measured by listing and removed at the end.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Bucket } from '../../src/storage/s3-bucket.js';
import { createS3Client } from '../../src/storage/s3-client.js';
import { resolveS3Options, type S3Options } from '../../src/storage/s3-options.js';

export interface S3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export class S3UnavailableError extends Error {
  readonly code = 'BENCH_S3_UNAVAILABLE';
}

/** S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION (as in /tmp/lifeboat-ceph/s3.env); defaults are the start script's. */
export function s3ServerFromEnv(env: NodeJS.ProcessEnv): S3Server {
  return {
    endpoint: env.S3_ENDPOINT ?? 'http://127.0.0.1:7480',
    region: env.S3_REGION ?? 'us-east-1',
    accessKeyId: env.S3_ACCESS_KEY ?? 's3testaccesskey',
    secretAccessKey: env.S3_SECRET_KEY ?? 's3testsecretkey0123456789',
  };
}

/** What Lifeboat (AWS SDK) and restic (minio-go) read to reach the server. */
export function s3ToolEnv(s: S3Server): Record<string, string> {
  return { AWS_ENDPOINT_URL: s.endpoint, AWS_REGION: s.region, AWS_ACCESS_KEY_ID: s.accessKeyId, AWS_SECRET_ACCESS_KEY: s.secretAccessKey };
}

function options(s: S3Server): S3Options {
  return { endpoint: s.endpoint, region: s.region, forcePathStyle: true, credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } };
}

async function withClient<T>(s: S3Server, f: (c: S3Client) => Promise<T>): Promise<T> {
  const client = createS3Client(resolveS3Options(options(s)));
  try {
    return await f(client);
  } finally {
    client.destroy();
  }
}

/** Fails, saying what to do, unless the server answers a signed request within 8 s. */
export async function requireS3(s: S3Server): Promise<void> {
  await withClient(s, (c) => c.send(new ListBucketsCommand({}), { abortSignal: AbortSignal.timeout(8000) })).catch((e: Error) => {
    throw new S3UnavailableError(`no S3 server answers at ${s.endpoint} (${e.name}: ${e.message}). Start the local Ceph RGW (sudo bash scripts/start-ceph-rgw.sh) or set S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY.`);
  });
}

/** A new, empty bucket for this run, named lifeboat-bench-<tag>-… so that leftovers are easy to spot. */
export async function createBenchBucket(s: S3Server, tag: string): Promise<string> {
  const name = `lifeboat-bench-${tag}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await createS3Bucket(`s3://${name}`, options(s), {}, {});
  return name;
}

async function eachPage(c: S3Client, bucket: string, prefix: string, f: (keys: Array<{ key: string; size: number }>) => Promise<void>): Promise<void> {
  let token: string | undefined;
  do {
    const page = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    await f((page.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0 })));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}

/** Objects under prefix and the sum of their sizes: what a repository occupies in the bucket. */
export async function bucketBytes(s: S3Server, bucket: string, prefix = ''): Promise<{ objects: number; bytes: number }> {
  return withClient(s, async (c) => {
    let objects = 0;
    let bytes = 0;
    await eachPage(c, bucket, prefix, async (keys) => {
      objects += keys.length;
      for (const k of keys) bytes += k.size;
    });
    return { objects, bytes };
  });
}

/** Deletes every object under prefix (the bench's buckets are unversioned). */
async function removePrefix(s: S3Server, bucket: string, prefix: string): Promise<void> {
  await withClient(s, (c) =>
    eachPage(c, bucket, prefix, async (keys) => {
      for (let i = 0; i < keys.length; i += 16) {
        await Promise.all(keys.slice(i, i + 16).map((k) => c.send(new DeleteObjectCommand({ Bucket: bucket, Key: k.key }))));
      }
    }),
  );
}

/** Deletes the bucket with its objects and unfinished uploads. */
export async function removeBucket(s: S3Server, bucket: string): Promise<void> {
  await removePrefix(s, bucket, '');
  await withClient(s, async (c) => {
    const uploads = await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of uploads.Uploads ?? []) await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    await c.send(new DeleteBucketCommand({ Bucket: bucket }));
  });
}

/**
 * Runs RGW's garbage collection to the end when the server is the local Ceph of
 * start-ceph-rgw.sh (its config under S3_HOME, radosgw-admin installed): what earlier runs and
 * tests deleted is otherwise collected in bursts during the timed steps. Says what it did, or
 * undefined for any other server.
 */
export function collectGarbage(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const conf = path.join(env.S3_HOME ?? '/tmp/lifeboat-ceph', 'ceph.conf');
  if (!existsSync(conf)) return undefined;
  const started = Date.now();
  const r = spawnSync('radosgw-admin', ['-c', conf, 'gc', 'process', '--include-all'], { encoding: 'utf8', timeout: 600_000 });
  if (r.error || r.status !== 0) return `radosgw-admin gc process failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}; measured as it is`;
  return `radosgw-admin gc process --include-all, ${((Date.now() - started) / 1000).toFixed(1)} s`;
}
