/**
 * Backs up one stream's bytes as a file's content: batches from stream-batches, hashed and sealed
 * in the workers and packed exactly as a file's (file-content.ts), in stream order. Returns the
 * content list and the SHA-256 of everything the stream delivered.
 */
import { abortReason } from '../base/errors.js';
import type { ContentRef } from '../repo/tree.js';
import type { Batch } from './file-batches.js';
import { inFileOrder, mergeZeroRuns, storeBatch, type ContentContext, type Piece } from './file-content.js';
import { streamBatches } from './stream-batches.js';

export interface StreamContent {
  content: ContentRef[];
  sha256: string;
  size: number;
}

export async function storeStream(ctx: ContentContext, stream: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<StreamContent> {
  const hash = ctx.hasher.start();
  const batches = streamBatches(stream, ctx.gear, hash, ctx.buffers, signal);
  const pending: Array<Promise<Piece[]>> = [];
  let added: Promise<void> = Promise.resolve();
  let size = 0;
  try {
    for (;;) {
      const release = await ctx.batches.acquire();
      let next: IteratorResult<Batch>;
      try {
        next = await batches.next();
      } catch (err) {
        release();
        throw err;
      }
      if (next.done) {
        release();
        break;
      }
      size += next.value.chunks.reduce((n, c) => n + c.length, 0);
      const turn = inFileOrder(added);
      added = turn.done;
      const stored = storeBatch(ctx, next.value, new Map(), turn).finally(release);
      stored.catch(() => {}); // awaited below; this only keeps it from being reported as unhandled meanwhile
      pending.push(stored);
    }
  } catch (err) {
    await Promise.allSettled(pending);
    throw signal?.aborted ? abortReason(signal) : err;
  }
  const content = mergeZeroRuns((await Promise.all(pending)).flat()).map((p) => p.ref);
  return { content, sha256: await hash.digest(), size };
}
