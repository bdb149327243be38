/**
 * Writing objects to S3: one PUT for small objects, a multipart upload with parts in parallel for
 * large ones. Every request carries Content-MD5, which RGW verifies (it ignores x-amz-checksum-*),
 * and every object the SHA-256 of its bytes as metadata, which get() checks on whole reads.
 */
import { createHash } from 'node:crypto';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { sdk } from './s3-sdk.js';
import { AlreadyExistsError } from './errors.js';
import type { Attempt } from './retry.js';
import { versionsOf } from './s3-delete.js';
import { s3Request, type S3Context } from './s3-request.js';
import { setRetention, withLockHint } from './s3-retention.js';
import type { PutOptions } from './storage.js';

/** The metadata key (x-amz-meta-sha256) holding the hex SHA-256 of an object's bytes. */
export const SHA256_METADATA = 'sha256';
const MAX_PARTS = 10_000;

export interface PutContext extends S3Context {
  /** Whether the bucket keeps versions (If-None-Match: * is not honoured there by Ceph 16). */
  versioned(): Promise<boolean>;
}

export async function putObject(ctx: PutContext, key: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
  const sha256 = options.sha256 ?? createHash('sha256').update(data).digest('hex');
  const lock = options.retainUntil
    ? { ObjectLockMode: ctx.options.lockMode, ObjectLockRetainUntilDate: options.retainUntil }
    : {};
  const multipart = data.length > ctx.options.multipartThreshold;
  // Ceph 16 honours If-None-Match: * only on a single PUT into an unversioned bucket; elsewhere a
  // HEAD first is the best S3 offers (content-addressed objects make the remaining race harmless).
  const versioned = options.ifAbsent === true && (await ctx.versioned());
  const conditional = options.ifAbsent === true && !multipart && !versioned;
  if (options.ifAbsent && !conditional && (await exists(ctx, key))) throw new AlreadyExistsError(key, ctx.location);
  const object = { Bucket: ctx.bucket, Key: ctx.prefix + key, Metadata: { [SHA256_METADATA]: sha256 }, ...lock };
  const versionId = await withLockHint(ctx, key, () =>
    multipart ? putMultipart(ctx, key, data, object, sha256) : putSingle(ctx, key, data, object, sha256, conditional),
  );
  // Ceph 16 ignores Object Lock headers on CreateMultipartUpload: lock the finished object itself.
  if (multipart && options.retainUntil) await setRetention(ctx, key, versionId, ctx.options.lockMode, options.retainUntil);
  if (versioned) await settleVersionRace(ctx, key, versionId);
}

async function putSingle(ctx: S3Context, key: string, data: Uint8Array, object: PutObjectCommandInput, sha256: string, conditional: boolean): Promise<string | undefined> {
  return s3Request(ctx, { operation: 'PUT', key, bytes: data.length }, async (attempt) => {
    try {
      const answer = await ctx.client.send(
        new sdk.PutObjectCommand({ ...object, Body: data, ContentLength: data.length, ContentMD5: md5(data), IfNoneMatch: conditional ? '*' : undefined }),
        { abortSignal: attempt.signal },
      );
      return answer.VersionId;
    } catch (err) {
      // A retry meeting the object an earlier attempt wrote (only its response was lost) succeeded.
      if (attempt.number > 1 && httpStatus(err) === 412 && (await storedSha256(ctx, key, attempt)) === sha256) return undefined;
      throw err;
    }
  });
}

/**
 * ifAbsent in a versioned bucket, where Ceph ignores If-None-Match: every writer puts its version,
 * then the oldest live version wins. A writer whose version is not that one removes it again and
 * reports AlreadyExistsError, so concurrent writers agree on one winner.
 */
async function settleVersionRace(ctx: S3Context, key: string, ours: string | undefined): Promise<void> {
  if (ours === undefined || ours === 'null') return;
  const entries = await versionsOf(ctx, key);
  const lastDelete = Math.max(-1, ...entries.filter((e) => e.deleteMarker).map((e) => e.lastModified));
  const live = entries.filter((e) => !e.deleteMarker && e.lastModified > lastDelete);
  const winner = live[live.length - 1];
  if (winner === undefined || winner.versionId === ours) return;
  await s3Request(ctx, { operation: `DELETE version ${ours} of`, key }, (attempt) =>
    ctx.client.send(new sdk.DeleteObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key, VersionId: ours }), { abortSignal: attempt.signal }),
  ).catch(() => undefined); // locked (retainUntil): it stays, as a newer version of the same key
  throw new AlreadyExistsError(key, ctx.location);
}

async function putMultipart(ctx: S3Context, key: string, data: Uint8Array, object: PutObjectCommandInput, sha256: string): Promise<string | undefined> {
  const { UploadId } = await s3Request(ctx, { operation: 'start multipart upload of', key }, (attempt) =>
    ctx.client.send(new sdk.CreateMultipartUploadCommand(object), { abortSignal: attempt.signal }),
  );
  const upload = { Bucket: object.Bucket, Key: object.Key as string, UploadId };
  try {
    // S3 allows at most 10,000 parts: very large objects get larger parts.
    const partSize = Math.max(ctx.options.partSize, Math.ceil(data.length / MAX_PARTS));
    const count = Math.ceil(data.length / partSize);
    const parts = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const body = data.subarray(i * partSize, Math.min(data.length, (i + 1) * partSize));
        let digest: string | undefined;
        const { ETag } = await s3Request(ctx, { operation: `upload part ${i + 1} of ${count} of`, key, bytes: body.length }, (attempt) => {
          digest ??= md5(body);
          return ctx.client.send(
            new sdk.UploadPartCommand({ ...upload, PartNumber: i + 1, Body: body, ContentLength: body.length, ContentMD5: digest }),
            { abortSignal: attempt.signal },
          );
        });
        return { PartNumber: i + 1, ETag };
      }),
    );
    return await s3Request(ctx, { operation: 'complete multipart upload of', key }, async (attempt) => {
      try {
        const answer = await ctx.client.send(new sdk.CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: parts } }), { abortSignal: attempt.signal });
        return answer.VersionId;
      } catch (err) {
        // An earlier attempt completed it and only the answer was lost: the upload is gone, the object there.
        if (attempt.number > 1 && (err as Error).name === 'NoSuchUpload' && (await storedSha256(ctx, key, attempt)) === sha256) return undefined;
        throw err;
      }
    });
  } catch (err) {
    // Best effort, once: leftover parts cost space but never show up as objects.
    await ctx.client.send(new sdk.AbortMultipartUploadCommand(upload)).catch(() => undefined);
    throw err;
  }
}

async function exists(ctx: S3Context, key: string): Promise<boolean> {
  return s3Request(ctx, { operation: 'HEAD', key }, async (attempt) => {
    try {
      await ctx.client.send(new sdk.HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key }), { abortSignal: attempt.signal });
      return true;
    } catch (err) {
      if (httpStatus(err) === 404) return false;
      throw err;
    }
  });
}

/** The stored object's SHA-256 metadata, read within the current attempt (no extra slot, no retry). */
async function storedSha256(ctx: S3Context, key: string, attempt: Attempt): Promise<string | undefined> {
  const head = await ctx.client.send(new sdk.HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key }), { abortSignal: attempt.signal }).catch(() => undefined);
  return head?.Metadata?.[SHA256_METADATA];
}

export function md5(data: Uint8Array): string {
  return createHash('md5').update(data).digest('base64');
}

export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
