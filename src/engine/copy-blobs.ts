/**
 * Moving blobs between repositories with different master keys. Each range read of a source pack
 * is verified in a worker thread (GCM tag, decode, SHA-256 of the plaintext against the blob id),
 * while the main thread opens the same blobs to their encoded bytes; only verified blobs are
 * re-sealed with the destination key and handed to the destination's packer. The encoded bytes
 * travel unchanged (same codec), so nothing is compressed twice.
 */
import { open, seal } from '../repo/crypto.js';
import { IntegrityError } from '../repo/errors.js';
import { packKey, type Repository } from '../repo/repository.js';
import type { BlobType } from '../repo/pack.js';
import type { BlobLoader } from './blob-loader.js';
import type { PackRange } from './copy-plan.js';
import { makeLimit } from '../storage/limit.js';
import type { Packer } from './packer.js';
import type { ReplyOf } from './pipeline-protocol.js';
import type { WorkerPool } from './worker-pool.js';

export interface TransferContext {
  source: Repository;
  destination: Repository;
  packer: Packer;
  pool: WorkerPool;
  /** Opens delta bases in the source. */
  loader: BlobLoader;
  /** Called with the stored bytes of each range once its blobs are in the destination's packer. */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
}

/** Copies the blobs of every range, a few reads in flight; resolves when all are in the packer (not yet flushed). */
export async function transferBlobs(ctx: TransferContext, ranges: readonly PackRange[]): Promise<void> {
  const limit = makeLimit(ctx.pool.size + 2);
  let failure: unknown;
  await Promise.all(
    ranges.map((range) =>
      limit
        .run(async () => {
          if (failure) return;
          await transferOne(ctx, range);
        }, ctx.signal)
        .catch((err: unknown) => {
          failure ??= err;
        }),
    ),
  );
  if (failure) throw failure;
}

async function transferOne(ctx: TransferContext, range: PackRange): Promise<void> {
  // A blob another range (or an earlier snapshot of this run) already brought is skipped.
  const wanted = range.blobs.filter((b) => !ctx.packer.knows(b.id));
  if (wanted.length === 0) return;
  for (const b of wanted) ctx.packer.claim(b.id);
  const sealed = await ctx.source.storage.get(packKey(range.packId), { offset: range.offset, length: range.length });
  const encoded = wanted.map((b) =>
    open(ctx.source.key.data, 'blob', sealed.subarray(b.start, b.start + b.length), `blob ${Buffer.from(b.id).toString('hex').slice(0, 12)} in pack ${range.packId.slice(0, 12)}`),
  );
  await verifyInWorker(ctx, sealed, wanted, range.packId);
  let bytes = 0;
  for (let i = 0; i < wanted.length; i++) {
    const b = wanted[i];
    const resealed = seal(ctx.destination.key.data, 'blob', encoded[i]);
    await ctx.packer.add(Buffer.from(b.id), b.type as BlobType, b.codec, b.rawLength, resealed, b.delta);
    bytes += b.length;
  }
  ctx.onBytes?.(bytes);
}

/** Opens, decodes and checks every blob's SHA-256 in a worker; throws IntegrityError naming the pack. */
async function verifyInWorker(ctx: TransferContext, sealed: Buffer, blobs: PackRange['blobs'], packId: string): Promise<void> {
  // The worker takes ownership of what it is sent: give it a copy, the main thread still needs `sealed`.
  const own = new Uint8Array(sealed).buffer as ArrayBuffer;
  try {
    // A delta blob verifies against its base's plaintext, loaded (and verified) from the source.
    const spans = await Promise.all(blobs.map(async ({ type: _type, delta: _delta, ...span }) => ({ ...span, base: await ctx.loader.baseFor(span.id) })));
    const bases = spans.flatMap((s) => (s.base ? [s.base] : []));
    await ctx.pool.request<ReplyOf<'opened'>>(ctx.pool.pick(), { op: 'open', buffer: own, blobs: spans, verify: true }, [own, ...bases]);
  } catch (err) {
    if (err instanceof IntegrityError) throw new IntegrityError(`${err.message} (source pack ${packId.slice(0, 12)}): nothing of it was copied; run "lifeboat check --read-data" on the source`);
    throw err;
  }
}
