/**
 * Restoring one file: its content planned as parts (runs of consecutive blobs of one pack, each
 * decoded in one piece), the parts of one pack read with one request, fetched and decoded a few
 * ahead, and written and hashed strictly in file order to a temporary name that is renamed into
 * place only once its size and SHA-256 match the snapshot. Stopped or failed, it removes its
 * temporary file before it returns.
 */
import fs from 'node:fs/promises';
import { throwIfAborted } from '../base/errors.js';
import type { BlobIndex } from '../repo/blob-index.js';
import { IntegrityError } from '../repo/errors.js';
import { packKey, type Repository } from '../repo/repository.js';
import type { FileNode } from '../repo/tree.js';
import type { Limit } from '../storage/limit.js';
import { openRangeReader, type RangeReader } from '../storage/storage.js';
import type { BlobLoader } from './blob-loader.js';
import { BLOCK, createBlockWriter } from './block-writer.js';
import type { BufferPool } from './buffer-pool.js';
import type { HashThread } from './hash-thread.js';
import type { WritePolicy } from './page-cache.js';
import type { BlobSpan, ReplyOf } from './pipeline-protocol.js';
import { tempPathFor } from './restore-temp.js';
import type { WorkerPool } from './worker-pool.js';

export interface RestoredFile {
  path: string;
  size: number;
  sha256: string;
}

/** A part (one fetch of a pack read) covers consecutive blobs up to this size, stored and decoded (a delta is tiny stored, not decoded). */
const FETCH_BYTES = 8 * 1024 * 1024;
/** Zero runs are hashed from here: shared, so the hash thread reads it without a copy. */
const ZEROS = Buffer.from(new SharedArrayBuffer(1024 * 1024));
/** A plaintext buffer holds a fetch after up to a block of the bytes before it, and is padded to a block after it. */
export const PLAIN_BYTES = FETCH_BYTES + 2 * BLOCK;
/**
 * Fetches started per file, ahead of the one being written, and in all: each holds a buffer of
 * FETCH_BYTES (two while it is decoded). Eight rather than four: restoring right after a backup,
 * when RGW is still busy with what it wrote, 4 gave 289-297 MB/s and 8 gave 323-333 (bench, two
 * runs each); peak RSS of a 2 GB restore 270 MB, 220 MB with the AES-GCM addon.
 */
const READ_AHEAD = 8;
export const FETCHES = 8;
/**
 * Pack reads whose requests are sent ahead of their fetches: one stream from an S3 server runs at
 * a fraction of what several do, and what the server sends early waits in the kernel's socket
 * buffers, not in ours.
 */
const PACK_READS_AHEAD = 3;


export interface FileContext {
  repo: Repository;
  index: BlobIndex;
  pool: WorkerPool;
  loader: BlobLoader;
  fetches: Limit;
  decodes: Limit;
  /** Recycled buffers for range reads and for the workers' plaintext output (shared with the hash thread). */
  buffers: BufferPool<SharedArrayBuffer>;
  /** Which files are written around the page cache. */
  writes: WritePolicy;
  /** Whole-file SHA-256s, off the main thread. */
  hasher: HashThread;
  onBytes: (n: number) => void;
  /** Stops the restore between parts (and its requests, through the repository's storage). */
  signal: AbortSignal;
}

/**
 * A part of a file: a run of consecutive blobs in one pack, decoded in one piece, and one part of
 * a pack read. (Not copy's PackRange, which gathers the blobs a destination lacks from anywhere in
 * a pack, gaps and all.)
 */
interface FilePart {
  /** where its plaintext starts in the file */
  position: number;
  packId: string;
  offset: number;
  length: number;
  rawLength: number;
  blobs: BlobSpan[];
  read: PackRead;
}

/**
 * Consecutive fetches of one pack, read with one request part by part (storage.ts,
 * openRangeReader): the server handles a few large reads, not many small ones.
 */
interface PackRead {
  key: string;
  offset: number;
  length: number;
  reader?: RangeReader;
  /** The part read last: parts are read in order. */
  tail: Promise<unknown>;
}

export async function restoreFile(ctx: FileContext, node: FileNode, dest: string): Promise<RestoredFile> {
  const tmp = tempPathFor(dest);
  const file = await createBlockWriter(tmp, node.size, ctx.writes);
  let renamed = false;
  try {
    const hash = ctx.hasher.start();
    const plan = planFileParts(ctx.index, node);
    // Fetch and open a few steps ahead; write and hash strictly in file order. A fetch keeps its
    // slot of the shared limit until its bytes are written, which bounds memory across files.
    const started: Array<Promise<{ data: Buffer; release: () => void }> | number> = [];
    const start = (step: number | FilePart) => {
      if (typeof step === 'number') return step;
      const p = ctx.fetches.acquire(ctx.signal).then(async (slot) => {
        try {
          const data = await fetchAndOpen(ctx, step);
          // The slot and the plaintext buffer go back together, once the bytes are written.
          const release = () => {
            ctx.buffers.give(data.buffer as SharedArrayBuffer);
            slot();
          };
          return { data, release };
        } catch (err) {
          slot();
          throw err;
        }
      });
      p.catch(() => {});
      return p;
    };
    try {
      for (let i = 0; i < plan.length; i++) {
        throwIfAborted(ctx.signal);
        openPackReads(ctx, plan, i);
        while (started.length < plan.length && started.length - i < READ_AHEAD) started.push(start(plan[started.length]));
        const step = started[i];
        if (typeof step === 'number') {
          // ZEROS never changes, so these are queued without waiting (a failure shows at digest).
          for (let left = step; left > 0; left -= ZEROS.length) hash.update(ZEROS.subarray(0, Math.min(left, ZEROS.length))).catch(() => {});
          file.appendZeros(step);
          ctx.onBytes(step);
          continue;
        }
        const { data, release } = await step;
        started[i] = 0; // drop the reference: written data must not live until the file is done
        // The hash thread and the I/O pool work on the buffer at the same time; it is free once both are done.
        // The writer takes the buffer from the start of the data's block (fetchAndOpen left room there).
        const fromBlock = Buffer.from(data.buffer, data.byteOffset - (file.position % BLOCK));
        const [written, hashed] = await Promise.allSettled([file.append(fromBlock, data.length), hash.update(data)]);
        release();
        if (written.status === 'rejected') throw written.reason;
        if (hashed.status === 'rejected') throw hashed.reason;
        ctx.onBytes(data.length);
      }
    } finally {
      // On failure, wait for fetches already started and give their slots back.
      await Promise.all(started.map((s) => (typeof s === 'number' ? undefined : s.then((r) => r.release(), () => {}))));
      for (const step of plan) if (typeof step !== 'number') step.read.reader?.close();
    }
    const digest = await hash.digest();
    if (file.position !== node.size) throw new IntegrityError(`restored ${file.position} bytes but the snapshot says ${node.size}: not restored`);
    if (digest !== node.sha256) throw new IntegrityError(`SHA-256 of the restored content is ${digest}, the snapshot recorded ${node.sha256}: not restored`);
    await file.finish(node.mode, node.mtimeNs);
    await fs.rename(tmp, dest);
    renamed = true;
    return { path: dest, size: node.size, sha256: digest };
  } finally {
    if (!renamed) {
      await file.abort();
      await fs.rm(tmp, { force: true });
    }
  }
}

/** The steps of a file: zero runs stay numbers; blobs are grouped into parts, consecutive blobs of one pack. */
function planFileParts(index: BlobIndex, node: FileNode): Array<number | FilePart> {
  const steps: Array<number | FilePart> = [];
  let current: FilePart | undefined;
  let position = 0;
  for (const ref of node.content) {
    if (typeof ref === 'number') {
      steps.push(ref);
      position += ref;
      current = undefined;
      continue;
    }
    const id = Buffer.from(ref, 'hex');
    const where = index.get(id);
    if (!where) throw new IntegrityError(`blob ${ref.slice(0, 12)} of ${node.name} is missing from the repository: not restored (run "lifeboat check")`);
    const contiguous =
      current &&
      current.packId === where.packId &&
      current.offset + current.length === where.offset &&
      current.length + where.storedLength <= FETCH_BYTES &&
      current.rawLength + where.rawLength <= FETCH_BYTES;
    if (!contiguous) {
      const previous = steps[steps.length - 1];
      const read =
        typeof previous !== 'number' && previous?.packId === where.packId && previous.offset + previous.length === where.offset
          ? previous.read
          : { key: packKey(where.packId), offset: where.offset, length: 0, tail: Promise.resolve() };
      current = { position, packId: where.packId, offset: where.offset, length: 0, rawLength: 0, blobs: [], read };
      steps.push(current);
    }
    current!.blobs.push({ start: current!.length, length: where.storedLength, codec: where.codec, rawLength: where.rawLength, id });
    current!.length += where.storedLength;
    current!.rawLength += where.rawLength;
    current!.read.length += where.storedLength;
    position += where.rawLength;
  }
  return steps;
}

/**
 * The fetch's plaintext, in a buffer of ctx.buffers (give it back once written), at the
 * offset the block writer wants it: its position in the file modulo a block.
 */
async function fetchAndOpen(ctx: FileContext, fetch: FilePart): Promise<Buffer> {
  const into = await readPart(ctx, fetch);
  // Delta blobs are decoded against their bases, loaded (and verified) first.
  const blobs = await Promise.all(fetch.blobs.map(async (b) => ({ ...b, base: await ctx.loader.baseFor(b.id) })));
  const bases = blobs.flatMap((b) => (b.base ? [b.base] : []));
  const lead = fetch.position % BLOCK;
  // One decode per worker at a time: a fetch holds two buffers while it is decoded, and one
  // queued at a worker would hold them all the while it waits.
  const out = await ctx.decodes.run(async () => {
    // Room for the lead and the padding after the data, so the worker always writes into `out`.
    const out = ctx.buffers.take(fetch.rawLength + 2 * BLOCK);
    await ctx.pool.request<ReplyOf<'opened'>>(ctx.pool.pick(), { op: 'open', buffer: into, blobs, verify: false, out, outOffset: lead }, bases);
    return out;
  });
  ctx.buffers.give(into);
  return Buffer.from(out, lead, fetch.rawLength);
}

/** Opens the pack reads of the next few fetches from step `from` (sending their requests, on S3). */
function openPackReads(ctx: FileContext, plan: Array<number | FilePart>, from: number): void {
  let reads = 0;
  let last: PackRead | undefined;
  for (let j = from; j < plan.length && reads < PACK_READS_AHEAD; j++) {
    const step = plan[j];
    if (typeof step === 'number' || step.read === last) continue;
    last = step.read;
    reads++;
    openPackRead(ctx, last);
  }
}

function openPackRead(ctx: FileContext, read: PackRead): RangeReader {
  return (read.reader ??= openRangeReader(ctx.repo.storage, read.key, { offset: read.offset, length: read.length }));
}

/** The fetch's stored bytes, in a buffer of ctx.buffers taken when its turn in the pack's read comes. */
function readPart(ctx: FileContext, fetch: FilePart): Promise<SharedArrayBuffer> {
  const { read } = fetch;
  openPackRead(ctx, read);
  const part = read.tail.then(async () => {
    const into = ctx.buffers.take(fetch.length);
    await read.reader!.readInto(new Uint8Array(into, 0, fetch.length));
    return into;
  });
  // A failed part fails the ones after it: the reader's position is lost.
  read.tail = part;
  return part;
}
