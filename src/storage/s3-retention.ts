/** Object Lock retention of single objects: set after a multipart upload, and extended later. */
import type { ObjectLockMode } from '@aws-sdk/client-s3';
import { sdk } from './s3-sdk.js';
import { StorageError } from './errors.js';
import { s3Request, type S3Context } from './s3-request.js';

/** Make an existing object's retention last at least until `until`; an earlier date changes nothing. */
export async function extendRetention(ctx: S3Context, key: string, until: Date): Promise<void> {
  const head = await s3Request(ctx, { operation: 'HEAD', key }, (attempt) =>
    ctx.client.send(new sdk.HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key }), { abortSignal: attempt.signal }),
  );
  if (head.ObjectLockRetainUntilDate && head.ObjectLockRetainUntilDate >= until) return;
  // Keep a stricter mode already set (COMPLIANCE cannot be turned into GOVERNANCE).
  await setRetention(ctx, key, head.VersionId, (head.ObjectLockMode as ObjectLockMode | undefined) ?? ctx.options.lockMode, until);
}

export async function setRetention(ctx: S3Context, key: string, versionId: string | undefined, mode: ObjectLockMode, until: Date): Promise<void> {
  await withLockHint(ctx, key, () =>
    s3Request(ctx, { operation: 'set retention of', key }, (attempt) =>
      ctx.client.send(
        new sdk.PutObjectRetentionCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key, VersionId: versionId, Retention: { Mode: mode, RetainUntilDate: until } }),
        { abortSignal: attempt.signal },
      ),
    ),
  );
}

/**
 * Runs a request that asks for retention; a bucket without Object Lock answers 400 InvalidRequest
 * (Ceph, with no message) or ObjectLockConfigurationNotFoundError, which alone would not tell why.
 */
export async function withLockHint<T>(ctx: S3Context, key: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const name = ((err as { cause?: { name?: string } }).cause ?? {}).name;
    if (name === 'InvalidRequest' || name === 'ObjectLockConfigurationNotFoundError') {
      throw new StorageError(
        `cannot write ${key} in ${ctx.location} with a retention period: bucket ${ctx.bucket} has no Object Lock (${name}). ` +
          `Use a bucket created with Object Lock enabled, or write without a retention period`,
        { cause: err },
      );
    }
    throw err;
  }
}
