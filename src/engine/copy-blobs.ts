/**
 * Moving blobs between repositories with different master keys. Each range read of a source pack
 * lands in a reused shared buffer; a worker thread verifies its blobs (GCM tag, decode, SHA-256 of
 * the plaintext against the blob id) and re-seals each in place with the destination key. Only
 * then are they handed to the destination's packer. The encoded bytes travel unchanged (same
 * codec), so nothing is compressed twice, and memory stays at a few range buffers whatever the
 * repository's size.
 */
import { IntegrityError } from '../repo/errors.js';
import { packKey, type Repository } from '../repo/repository.js';
import type { BlobType } from '../repo/pack.js';
import type { BlobLoader } from './blob-loader.js';
import { makeBufferPool, type BufferPool } from './buffer-pool.js';
import { MAX_RANGE_BYTES, type PackRange } from './copy-plan.js';
import { makeLimit } from '../storage/limit.js';
import type { Packer } from './packer.js';
import type { ReplyOf } from './pipeline-protocol.js';
import type { WorkerPool } from './worker-pool.js';

/** Room for one range read, and for a 4 MiB blob past it: a range that needs more gets a buffer of its own size. */
const RANGE_BUFFER = MAX_RANGE_BYTES + 4 * 1024 * 1024;

export interface TransferContext {
  source: Repository;
  packer: Packer;
  /** Started with the destination's key as its resealKey. */
  pool: WorkerPool;
  /** Opens delta bases in the source. */
  loader: BlobLoader;
  signal?: AbortSignal;
}

/** Copies the blobs of a list of ranges; resolves when all are in the packer (not yet flushed). */
export type Transfer = (ranges: readonly PackRange[], onBytes?: (bytes: number) => void) => Promise<void>;

/** One transfer for a whole copy: its range buffers (a few reads in flight) are reused from call to call. */
export function makeTransfer(ctx: TransferContext): Transfer {
  const inFlight = ctx.pool.size + 2;
  const limit = makeLimit(inFlight);
  const buffers = makeBufferPool(inFlight, { shared: true, size: RANGE_BUFFER });
  return async (ranges, onBytes) => {
    let failure: unknown;
    await Promise.all(
      ranges.map((range) =>
        limit
          .run(async () => {
            if (failure) return;
            await transferOne(ctx, buffers, range, onBytes);
          }, ctx.signal)
          .catch((err: unknown) => {
            failure ??= err;
          }),
      ),
    );
    if (failure) throw failure;
  };
}

async function transferOne(ctx: TransferContext, buffers: BufferPool<SharedArrayBuffer>, range: PackRange, onBytes?: (bytes: number) => void): Promise<void> {
  // A blob another range (or an earlier snapshot of this run) already brought is skipped.
  const wanted = range.blobs.filter((b) => !ctx.packer.knows(b.id));
  if (wanted.length === 0) return;
  for (const b of wanted) ctx.packer.claim(b.id);
  const buffer = buffers.take(range.length);
  try {
    const into = Buffer.from(buffer, 0, range.length);
    const fetched = await ctx.source.storage.get(packKey(range.packId), { offset: range.offset, length: range.length }, into);
    if (fetched.buffer !== buffer) into.set(fetched); // a storage may answer in memory of its own
    await resealInWorker(ctx, buffer, wanted, range.packId);
    let bytes = 0;
    for (const b of wanted) {
      // The packer copies what it is given: the buffer goes back to the pool right after.
      await ctx.packer.add(Buffer.from(b.id), b.type as BlobType, b.codec, b.rawLength, into.subarray(b.start, b.start + b.length), b.delta);
      bytes += b.length;
    }
    onBytes?.(bytes);
  } finally {
    buffers.give(buffer);
  }
}

/** Verifies every blob in a worker and re-seals it in place with the destination key; throws IntegrityError naming the pack. */
async function resealInWorker(ctx: TransferContext, buffer: SharedArrayBuffer, blobs: PackRange['blobs'], packId: string): Promise<void> {
  try {
    // A delta blob verifies against its base's plaintext, loaded (and verified) from the source.
    const spans = await Promise.all(blobs.map(async ({ type: _type, delta: _delta, ...span }) => ({ ...span, base: await ctx.loader.baseFor(span.id) })));
    const bases = spans.flatMap((s) => (s.base ? [s.base] : []));
    await ctx.pool.request<ReplyOf<'resealed'>>(ctx.pool.pick(), { op: 'reseal', buffer, blobs: spans }, bases);
  } catch (err) {
    if (err instanceof IntegrityError) throw new IntegrityError(`${err.message} (source pack ${packId.slice(0, 12)}): nothing of it was copied; run "lifeboat check --read-data" on the source`);
    throw err;
  }
}
