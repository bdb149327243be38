/**
 * Backs up one file's bytes: batches from file-batches, hashed in the workers, new chunks
 * sealed and packed. Returns the content list and the whole-file SHA-256. Detects a file that
 * changes while it is read (size, mtime or ctime differ before and after) and reports it.
 */
import fs from 'node:fs/promises';
import { throwIfAborted } from '../base/errors.js';
import type { Gear } from '../repo/chunker/fastcdc.js';
import type { FileSplitter, Segment } from '../repo/chunker/chunker.js';
import type { BlobIndex } from '../repo/blob-index.js';
import { SEAL_OVERHEAD } from '../repo/crypto.js';
import { BlobType, DELTA_CODEC, type DeltaRef } from '../repo/pack.js';
import type { ContentRef } from '../repo/tree.js';
import type { Limit } from '../storage/limit.js';
import { fileBatches, type Batch } from './file-batches.js';
import type { BlobLoader } from './blob-loader.js';
import type { BufferPool } from './buffer-pool.js';
import type { HashThread } from './hash-thread.js';
import type { Packer } from './packer.js';
import { transferable, type ReplyOf } from './pipeline-protocol.js';
import type { WorkerPool } from './worker-pool.js';

export interface ContentContext {
  pool: WorkerPool;
  packer: Packer;
  index: BlobIndex;
  /** Reads delta bases (the parent's version of a tensor piece). */
  loader: BlobLoader;
  /** A piece is stored in full rather than as a delta whose chain would be deeper than this. */
  maxDeltaDepth: number;
  gear: Gear;
  splitters: readonly FileSplitter[];
  /** Bounds the batches in memory at once (each 8 MiB or so). */
  batches: Limit;
  /** Read buffers, shared with the workers and the hash thread. */
  buffers: BufferPool<SharedArrayBuffer>;
  /** Whole-file SHA-256s, off the main thread. */
  hasher: HashThread;
  /** Recycled buffers for the workers' sealed output (the packer copies out of them). */
  sealedBuffers: BufferPool;
  nextBatchId: () => number;
  onBytes: (n: number) => void;
  warn: (message: string) => void;
  /** Stops the reading between batches. */
  signal?: AbortSignal;
}

export interface FileContent {
  content: ContentRef[];
  /** Tensor piece labels aligned with `content` (null where none), when the file was split by tensors. */
  labels?: Array<string | null>;
  sha256: string;
  size: number;
  /** The file changed while it was read (size, mtime or ctime moved). */
  changed: boolean;
}

/** Where the same tensor piece was in the parent snapshot's version of the file: label -> blob id. */
export type ParentPieces = ReadonlyMap<string, string>;

/** Size of the sealed-output buffers: a whole batch's blobs (a read and their seals), so any recycled one fits the next batch. */
export const SEALED_BUFFER_BYTES = 8 * 1024 * 1024 + 1024 * 1024;

export interface Piece {
  ref: ContentRef;
  label: string | null;
}

export async function readFileContent(ctx: ContentContext, path: string, parentPieces: ParentPieces = new Map()): Promise<FileContent> {
  const file = await fs.open(path, 'r');
  try {
    const before = await file.stat({ bigint: true });
    const size = Number(before.size);
    const plan = await planFile(ctx, file, size, path);
    const hash = ctx.hasher.start();
    const pending: Array<Promise<Piece[]>> = [];
    let changed = false;
    const batches = fileBatches(file, size, plan, ctx.gear, hash, ctx.buffers);
    // Batches are sealed in parallel but add their blobs to the packer in file order, so that a
    // file's blobs lie in order in its packs and restore reads them with few, long range reads.
    let added: Promise<void> = Promise.resolve();
    try {
      // Read ahead while earlier batches are in the workers, but only as far as the batch limit allows.
      for (;;) {
        throwIfAborted(ctx.signal);
        const release = await ctx.batches.acquire(ctx.signal);
        const next = await batches.next().catch((err) => {
          release();
          throw err;
        });
        if (next.done) {
          release();
          break;
        }
        const turn = inFileOrder(added);
        added = turn.done;
        const stored = storeBatch(ctx, next.value, parentPieces, turn).finally(release);
        stored.catch(() => {}); // awaited below; this only keeps it from being reported as unhandled meanwhile
        pending.push(stored);
      }
    } catch (err) {
      if ((err as { code?: string }).code !== 'CHANGED') {
        await Promise.allSettled(pending);
        throw err;
      }
      changed = true;
    }
    const pieces = mergeZeroRuns((await Promise.all(pending)).flat());
    const content = pieces.map((p) => p.ref);
    const labels = pieces.some((p) => p.label !== null) ? pieces.map((p) => p.label) : undefined;
    const after = await file.stat({ bigint: true });
    changed ||= after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs;
    return { content, labels, sha256: await hash.digest(), size, changed };
  } finally {
    await file.close();
  }
}

async function planFile(ctx: ContentContext, file: fs.FileHandle, size: number, path: string): Promise<Segment[]> {
  const reader = {
    size,
    async read(offset: number, length: number) {
      const { bytesRead, buffer } = await file.read(Buffer.alloc(length), 0, length, offset);
      return buffer.subarray(0, bytesRead); // short when the file shrank: the splitter's checks see it
    },
  };
  for (const splitter of ctx.splitters) {
    try {
      const plan = await splitter.plan(reader, path);
      if (plan) return plan;
    } catch (err) {
      ctx.warn(`${path}: ${(err as Error).message}; chunking it as a plain file`);
    }
  }
  return [{ offset: 0, length: size, cut: 'cdc' }];
}

/** A batch's turn to add its blobs: after `before` (the batch before it), and `done` for the batch after it. */
export interface AddTurn {
  before: Promise<void>;
  done: Promise<void>;
  finish(): void;
}

export function inFileOrder(before: Promise<void>): AddTurn {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { before, done, finish };
}

/** Phase 1 in a worker (hash), dedup here, phase 2 in the same worker (seal) for new chunks only. */
export async function storeBatch(ctx: ContentContext, batch: Batch, parentPieces: ParentPieces, turn: AddTurn): Promise<Piece[]> {
  try {
    return await hashAndSeal(ctx, batch, parentPieces, turn);
  } finally {
    turn.finish(); // (again) when it added nothing or failed: the batches after it must not wait forever
  }
}

async function hashAndSeal(ctx: ContentContext, batch: Batch, parentPieces: ParentPieces, turn: AddTurn): Promise<Piece[]> {
  const worker = ctx.pool.pick();
  const batchId = ctx.nextBatchId();
  const bytes = batch.chunks.reduce((n, c) => n + c.length, 0);
  const hashed = await ctx.pool.request<ReplyOf<'hashed'>>(worker, { op: 'hash', batch: batchId, buffer: batch.buffer, chunks: batch.chunks });
  const ids = Buffer.from(hashed.ids);
  const idOf = (i: number) => ids.subarray(i * 32, i * 32 + 32);
  const pieces: Piece[] = [];
  const select: number[] = [];
  batch.chunks.forEach((c, i) => {
    if (hashed.zero[i]) return void pieces.push({ ref: c.length, label: null });
    pieces.push({ ref: idOf(i).toString('hex'), label: c.label ?? null });
    if (!ctx.packer.knows(idOf(i))) {
      ctx.packer.claim(idOf(i));
      select.push(i);
    }
  });
  if (select.length === 0) {
    await ctx.pool.request<ReplyOf<'dropped'>>(worker, { op: 'drop', batch: batchId });
  } else {
    const deltas = select.map((i) => deltaBase(ctx, batch.chunks[i].label, batch.chunks[i].length, parentPieces));
    const bases = await Promise.all(deltas.map((d) => (d ? ctx.loader.load(d.base).then((b) => new Uint8Array(b).buffer) : null)));
    const bound = select.reduce((n, i) => n + batch.chunks[i].length + SEAL_OVERHEAD, 0);
    const out = ctx.sealedBuffers.take(bound);
    const sealed = await ctx.pool.request<ReplyOf<'sealed'>>(
      worker,
      { op: 'seal', batch: batchId, select, bases, out },
      transferable(out, ...bases),
    );
    const blobs = Buffer.from(sealed.buffer);
    await turn.before;
    let at = 0;
    for (let k = 0; k < select.length; k++) {
      const i = select[k];
      const codec = sealed.codecs[k];
      const delta = codec === DELTA_CODEC ? deltas[k] : undefined;
      await ctx.packer.add(Buffer.from(idOf(i)), BlobType.data, codec, batch.chunks[i].length, blobs.subarray(at, at + sealed.lengths[k]), delta);
      at += sealed.lengths[k];
    }
    turn.finish();
    ctx.sealedBuffers.give(sealed.buffer); // the packer copied what it keeps
  }
  await batch.hashed;
  ctx.buffers.give(batch.buffer); // the worker and the hash thread are done with it
  ctx.onBytes(bytes);
  return pieces;
}

/**
 * The delta base of a new tensor piece: the parent's piece with the same label and length, if
 * its chain is not already at the depth limit (then the piece is stored in full, starting a new chain).
 */
function deltaBase(ctx: ContentContext, label: string | undefined, length: number, parentPieces: ParentPieces): DeltaRef | undefined {
  const baseHex = label === undefined ? undefined : parentPieces.get(label);
  if (!baseHex) return undefined;
  const base = Buffer.from(baseHex, 'hex');
  const where = ctx.index.get(base);
  if (!where || where.rawLength !== length) return undefined;
  const depth = (where.delta?.depth ?? 0) + 1;
  return depth > ctx.maxDeltaDepth ? undefined : { base, depth };
}

export function mergeZeroRuns(pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (typeof p.ref === 'number' && last && typeof last.ref === 'number') last.ref += p.ref;
    else out.push({ ...p });
  }
  return out;
}
