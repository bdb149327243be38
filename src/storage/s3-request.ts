/**
 * One S3 request as the backend makes it: bounded in flight, retried (retry.ts) and, when it still
 * fails, translated into a storage error naming the operation and the object.
 */
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { abortReason } from '../base/errors.js';
import { isDirectBody } from './s3-direct-get.js';
import { DEFAULT_RETRY_POLICY, TransientError, withRetry, type Attempt, type RetryPolicy } from './retry.js';
import { translateS3Error } from './s3-errors.js';
import type { Limit } from './limit.js';
import { destination } from './storage.js';
import type { ResolvedS3Options } from './s3-options.js';

export interface S3Context {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix inside the bucket: '' or ending in '/'. */
  readonly prefix: string;
  /** The repository's s3:// URL, for messages. */
  readonly location: string;
  readonly endpoint: string;
  readonly options: ResolvedS3Options;
  readonly policy: RetryPolicy;
  readonly limit: Limit;
  /** The caller's signal, on the context of one request (s3.ts): no attempt starts or waits after it fires. */
  readonly signal?: AbortSignal;
}

export interface RequestSpec {
  operation: string;
  /** The repository key (without the prefix), for messages. */
  key: string;
  /** Bytes uploaded in one piece, to lengthen the idle timeout. */
  bytes?: number;
}

export function makeContext(fields: Omit<S3Context, 'policy'>): S3Context {
  return { ...fields, policy: { ...DEFAULT_RETRY_POLICY, ...fields.options.retry } };
}

export async function s3Request<T>(ctx: S3Context, spec: RequestSpec, run: (attempt: Attempt) => Promise<T>): Promise<T> {
  const description = { ...spec, location: ctx.location };
  try {
    return await withRetry(description, ctx.policy, (attempt) => ctx.limit.run(() => run(attempt), ctx.signal), ctx.signal);
  } catch (err) {
    if (ctx.signal?.aborted) throw abortReason(ctx.signal);
    throw translateS3Error(err, { ...description, bucket: ctx.bucket, endpoint: ctx.endpoint });
  }
}

/**
 * Reads a response body into one Buffer, reporting progress to the watchdog and aborting with it.
 * A body shorter or longer than announced is a broken transfer (retried).
 */
/** The body as one Buffer: inside `into` when given and the length is known, else new memory. */
export async function readBody(body: unknown, expectedLength: number | undefined, attempt: Attempt, into?: Uint8Array): Promise<Buffer> {
  const stream = body as Readable;
  const onAbort = () => stream.destroy(attempt.signal.reason as Error);
  if (attempt.signal.aborted) onAbort();
  attempt.signal.addEventListener('abort', onAbort, { once: true });
  try {
    // Known length: fill one buffer as bytes arrive, instead of holding chunks and copying them again.
    const whole = expectedLength !== undefined ? destination(expectedLength, into) : undefined;
    // Our transport's bodies go straight into the buffer (s3-direct-get.ts).
    if (whole && into && isDirectBody(stream)) {
      await stream.readInto(whole, attempt.progress);
      return whole;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      if (whole && received + bytes.length <= whole.length) bytes.copy(whole, received);
      else if (!whole) chunks.push(bytes);
      received += bytes.length;
      attempt.progress();
    }
    if (whole) {
      if (received !== whole.length) throw new TransientError(`response body ended after ${received} of ${whole.length} bytes`);
      return whole;
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
  } finally {
    attempt.signal.removeEventListener('abort', onAbort);
  }
}
