/**
 * S3 backend (Ceph RGW, MinIO, AWS) for repositories at `s3://BUCKET/PREFIX`, on the AWS SDK v3.
 *
 * Requests are bounded in flight (maxInFlight), retried in one place (retry.ts) and translated into
 * storage errors. Integrity end to end: every upload carries Content-MD5, which the server checks;
 * every object carries its SHA-256 as metadata, and whole reads are checked against it (range reads
 * are checked by the caller, whose object ids are SHA-256 sums). See docs/s3.md.
 */
import { createHash } from 'node:crypto';
import { sdk } from './s3-sdk.js';
import { NotFoundError, StorageError } from './errors.js';
import { TransientError, type Attempt } from './retry.js';
import { createS3Client } from './s3-client.js';
import { isDirectBody } from './s3-direct-get.js';
import { AccessDeniedError } from './s3-errors.js';
import { deleteObject } from './s3-delete.js';
import { makeLimit } from './limit.js';
import { formatS3Url, parseS3Url, resolveS3Options, type S3Options } from './s3-options.js';
import { httpStatus, putObject, SHA256_METADATA, type PutContext } from './s3-put.js';
import { makeContext, readBody, s3Request, type S3Context } from './s3-request.js';
import { extendRetention } from './s3-retention.js';
import { hasObjectLock } from './s3-bucket.js';
import { checkKey, type ByteRange, type ObjectInfo, type PutOptions, type RangeReader, type Storage } from './storage.js';

export type { S3Options } from './s3-options.js';

export interface S3Storage extends Storage {
  readonly bucket: string;
  /** Key prefix inside the bucket: '' or ending in '/'. */
  readonly prefix: string;
  /** Make an existing object's Object Lock retention last at least until `until` (never shortens it). */
  extendRetention(key: string, until: Date): Promise<void>;
}

export function openS3Storage(url: string, options: S3Options = {}, env: NodeJS.ProcessEnv = process.env): S3Storage {
  const where = parseS3Url(url);
  const resolved = resolveS3Options(options, env);
  const client = createS3Client(resolved);
  const base = makeContext({
    client,
    ...where,
    location: formatS3Url(where),
    endpoint: resolved.endpoint ?? `the AWS S3 endpoint of ${resolved.region}`,
    options: resolved,
    limit: makeLimit(resolved.maxInFlight),
  });
  let versioning: Promise<boolean> | undefined;
  let bucketFound: Promise<void> | undefined;
  let objectLock: Promise<boolean> | undefined;
  const ctx: PutContext = {
    ...base,
    versioned: () => (versioning ??= bucketVersioned(base).catch((err: unknown) => {
      // Credentials without s3:GetBucketVersioning: take the bucket as unversioned (AWS honours
      // If-None-Match on versioned buckets anyway), rather than failing every delete.
      if (err instanceof AccessDeniedError) return false;
      versioning = undefined;
      throw err;
    })),
  };

  // A request given a signal runs in a context that carries it: s3Request stops its retries.
  const at = <C extends S3Context>(c: C, signal: AbortSignal | undefined): C => (signal ? { ...c, signal } : c);

  return {
    location: ctx.location,
    bucket: ctx.bucket,
    prefix: ctx.prefix,
    put: async (key: string, data: Uint8Array, putOptions?: PutOptions) => {
      await putObject(at(ctx, putOptions?.signal), checkKey(key), data, putOptions);
      // A command that writes deletes too (its lock at least): learn the bucket's versioning now,
      // beside its work, not in front of its last request.
      ctx.versioned().catch(() => {});
    },
    get: async (key: string, range?: ByteRange, into?: Uint8Array, signal?: AbortSignal) => getObject(at(ctx, signal), checkKey(key), range, into),
    // Our transport pauses a body between parts (s3-direct-get.ts), over HTTP and HTTPS.
    readRange: (key: string, range: ByteRange, signal?: AbortSignal) => readRange(at(ctx, signal), checkKey(key), range),
    head: async (key: string, signal?: AbortSignal) => {
      const info = await headObject(at(ctx, signal), checkKey(key));
      // A HEAD answer has no body, so a missing bucket looks like a missing object: tell them apart.
      if (!info) await (bucketFound ??= checkBucket(ctx).catch((err: unknown) => {
        bucketFound = undefined;
        throw err;
      }));
      return info;
    },
    list: (prefix: string, signal?: AbortSignal) => listObjects(at(ctx, signal), prefix),
    delete: async (key: string, signal?: AbortSignal) => deleteObject(at(ctx, signal), checkKey(key), await ctx.versioned()),
    extendRetention: async (key: string, until: Date, signal?: AbortSignal) => extendRetention(at(ctx, signal), checkKey(key), until),
    objectLock: () => (objectLock ??= hasObjectLock(client, ctx.bucket)),
    close: async () => client.destroy(),
  };
}

async function getObject(ctx: S3Context, key: string, range?: ByteRange, into?: Uint8Array): Promise<Buffer> {
  if (range && range.length === 0) {
    if (!(await headObject(ctx, key))) throw new NotFoundError(key, ctx.location);
    return Buffer.alloc(0);
  }
  const operation = range ? `GET bytes ${range.offset}-${range.offset + range.length - 1} of` : 'GET';
  return s3Request(ctx, { operation, key }, async (attempt) => {
    const response = await sendGet(ctx, key, range, attempt);
    const body = await readBody(response.Body, response.ContentLength, attempt, range && into);
    if (range) {
      if (body.length !== range.length) throw shorterThanWanted(ctx, key, range, body.length);
    } else {
      verifyWhole(ctx, key, body, response.Metadata?.[SHA256_METADATA], response.ETag);
    }
    return body;
  });
}

async function sendGet(ctx: S3Context, key: string, range: ByteRange | undefined, attempt: Attempt) {
  const Range = range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined;
  try {
    return await ctx.client.send(new sdk.GetObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key, Range }), { abortSignal: attempt.signal });
  } catch (err) {
    if ((err as Error).name === 'InvalidRange') throw shorterThanWanted(ctx, key, range, 0);
    throw err;
  }
}

/** What a range reader reads its parts from: the response body, or (a body our transport could not pause) its bytes. */
interface PartSource {
  readInto(dest: Uint8Array, onProgress: () => void): Promise<void>;
  destroy(): void;
}

/**
 * A range read in parts from one GET, each part straight into its buffer. The request goes out at
 * once; until the first part is asked for, and between parts, the body waits, paused, and the
 * kernel buffers what the server has sent. A request that fails is retried, and a body that
 * breaks off is resumed with a GET of what is left.
 */
function readRange(ctx: S3Context, key: string, range: ByteRange): RangeReader {
  let consumed = 0;
  let source: PartSource | undefined;
  const end = range.offset + range.length - 1;
  const operation = () => `GET bytes ${range.offset + consumed}-${end} of`;
  const open = async (attempt: Attempt): Promise<PartSource> => {
    const rest = { offset: range.offset + consumed, length: range.length - consumed };
    const response = await sendGet(ctx, key, rest, attempt);
    if (isDirectBody(response.Body) && response.ContentLength === rest.length) return response.Body;
    const bytes = await readBody(response.Body, response.ContentLength, attempt);
    if (bytes.length !== rest.length) throw shorterThanWanted(ctx, key, rest, bytes.length);
    let at = 0;
    return { readInto: async (dest) => void dest.set(bytes.subarray(at, (at += dest.length))), destroy() {} };
  };
  let opening: Promise<PartSource> | undefined = s3Request(ctx, { operation: operation(), key }, open);
  opening.catch(() => {}); // its failure is reported by the first part
  return {
    async readInto(dest) {
      if (consumed + dest.length > range.length) throw new RangeError(`a part of ${dest.length} bytes goes past the end of the range`);
      if (opening) {
        // Already retried: if it failed, that is the answer.
        const early = opening;
        opening = undefined;
        source = await early;
      }
      await s3Request(ctx, { operation: operation(), key }, async (attempt) => {
        const onAbort = () => source?.destroy();
        attempt.signal.addEventListener('abort', onAbort, { once: true });
        try {
          source ??= await open(attempt);
          await source.readInto(dest, attempt.progress);
        } catch (err) {
          source?.destroy();
          source = undefined;
          throw err;
        } finally {
          attempt.signal.removeEventListener('abort', onAbort);
        }
      });
      consumed += dest.length;
    },
    close() {
      opening?.then((early) => early.destroy(), () => {});
      opening = undefined;
      source?.destroy();
      source = undefined;
    },
  };
}

function shorterThanWanted(ctx: S3Context, key: string, range: ByteRange | undefined, got: number): StorageError {
  const wanted = range ? `bytes ${range.offset}..${range.offset + range.length}` : 'the whole object';
  return new StorageError(`object ${key} in ${ctx.location} is shorter than expected: wanted ${wanted}, got ${got}`);
}

/** A whole object must hash to the SHA-256 it was stored with (or, written by another tool, to its MD5 ETag). */
function verifyWhole(ctx: S3Context, key: string, body: Buffer, sha256: string | undefined, etag: string | undefined): void {
  let expected: string | undefined;
  let actual: string | undefined;
  if (sha256) {
    expected = sha256;
    actual = createHash('sha256').update(body).digest('hex');
  } else if (etag && /^"?[0-9a-f]{32}"?$/.test(etag)) {
    expected = etag.replace(/"/g, '');
    actual = createHash('md5').update(body).digest('hex');
  }
  if (expected !== actual) {
    throw new TransientError(`object ${key} in ${ctx.location} was read back with checksum ${actual}, but it was stored with ${expected}`);
  }
}

async function headObject(ctx: S3Context, key: string): Promise<ObjectInfo | undefined> {
  return s3Request(ctx, { operation: 'HEAD', key }, async (attempt) => {
    try {
      const head = await ctx.client.send(new sdk.HeadObjectCommand({ Bucket: ctx.bucket, Key: ctx.prefix + key }), { abortSignal: attempt.signal });
      const info: ObjectInfo = { key, size: head.ContentLength ?? 0 };
      if (head.ObjectLockRetainUntilDate) info.retainUntil = head.ObjectLockRetainUntilDate;
      return info;
    } catch (err) {
      if (httpStatus(err) === 404 && (err as Error).name !== 'NoSuchBucket') return undefined;
      throw err;
    }
  });
}

async function* listObjects(ctx: S3Context, prefix: string): AsyncIterable<ObjectInfo> {
  let ContinuationToken: string | undefined;
  do {
    const page = await s3Request(ctx, { operation: 'LIST', key: `${prefix}*` }, (attempt) =>
      ctx.client.send(new sdk.ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: ctx.prefix + prefix, ContinuationToken }), { abortSignal: attempt.signal }),
    );
    for (const object of page.Contents ?? []) {
      const key = (object.Key ?? '').slice(ctx.prefix.length);
      // Folder markers some tools create ("dir/") are not objects of the repository.
      if (key !== '' && !key.endsWith('/')) yield { key, size: object.Size ?? 0 };
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken !== undefined);
}

/** Fails with NoSuchBucket's message when the bucket is missing. */
async function checkBucket(ctx: S3Context): Promise<void> {
  await s3Request(ctx, { operation: 'HEAD bucket of', key: ctx.bucket }, async (attempt) => {
    try {
      await ctx.client.send(new sdk.HeadBucketCommand({ Bucket: ctx.bucket }), { abortSignal: attempt.signal });
    } catch (err) {
      if (httpStatus(err) === 404) Object.assign(err as Error, { name: 'NoSuchBucket' });
      throw err;
    }
  });
}

async function bucketVersioned(ctx: S3Context): Promise<boolean> {
  const answer = await s3Request(ctx, { operation: 'read versioning of bucket', key: ctx.bucket }, (attempt) =>
    ctx.client.send(new sdk.GetBucketVersioningCommand({ Bucket: ctx.bucket }), { abortSignal: attempt.signal }),
  );
  // Suspended versioning still keeps the versions written before.
  return answer.Status === 'Enabled' || answer.Status === 'Suspended';
}

