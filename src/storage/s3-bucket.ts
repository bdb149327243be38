/**
 * Creating the bucket of a new S3 repository, optionally with Object Lock (which S3 can only turn on
 * when the bucket is created, and which implies versioning).
 */
import { sdk } from './s3-sdk.js';
import { StorageError } from './errors.js';
import { createS3Client } from './s3-client.js';
import { parseS3Url, resolveS3Options, type S3Options } from './s3-options.js';

export interface CreateBucketOptions {
  /** Enable Object Lock (and so versioning) on the new bucket. */
  objectLock?: boolean;
}

/**
 * Creates the bucket of `url` (s3://BUCKET/...). A bucket that already exists and is ours is accepted
 * when it matches: asking for Object Lock on an existing bucket without it is an error.
 */
export async function createS3Bucket(url: string, options: S3Options = {}, create: CreateBucketOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { bucket } = parseS3Url(url);
  const resolved = resolveS3Options({ ...options, retry: undefined }, env);
  const client = createS3Client(resolved);
  const endpoint = resolved.endpoint ?? 'AWS S3';
  try {
    try {
      await client.send(new sdk.CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: create.objectLock === true }));
    } catch (err) {
      if ((err as Error).name !== 'BucketAlreadyOwnedByYou' && (err as Error).name !== 'BucketAlreadyExists') throw err;
      await client.send(new sdk.HeadBucketCommand({ Bucket: bucket }));
    }
    // Ceph answers 200 to creating a bucket its caller already owns, whatever it was created with.
    if (create.objectLock && !(await hasObjectLock(client, bucket))) {
      throw new StorageError(`bucket ${bucket} at ${endpoint} exists without Object Lock, which can only be enabled when a bucket is created: use a new bucket`);
    }
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError(`cannot create bucket ${bucket} at ${endpoint}: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
  } finally {
    client.destroy();
  }
}

export async function hasObjectLock(client: ReturnType<typeof createS3Client>, bucket: string): Promise<boolean> {
  try {
    const answer = await client.send(new sdk.GetObjectLockConfigurationCommand({ Bucket: bucket }));
    return answer.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
  } catch {
    return false;
  }
}
