/**
 * Restore: recreates a snapshot (or a path inside it) under a target directory.
 *
 * Each file is written to a temporary name beside its destination, its holes left as holes,
 * and renamed into place only after its size and whole-file SHA-256 match the snapshot: a file
 * at its final name is always complete and correct. Large files are written around the page
 * cache (block-writer.ts), from page-aligned buffers the workers decode into. Names come from
 * trees that were checked to be single path components, and every destination is checked to
 * stay inside the target.
 */
import { codeOf } from '../base/error-codes.js';
import type { ErrorCode } from '../base/errors.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BlobIndex } from '../repo/blob-index.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { FormatError, IntegrityError, RepoError } from '../repo/errors.js';
import { loadIndex } from '../repo/index-store.js';
import { acquireLock } from '../repo/lock.js';
import { packKey, type Repository } from '../repo/repository.js';
import { checkNodeName, type FileNode, type Node } from '../repo/tree.js';
import { NotFoundError } from '../storage/errors.js';
import { openRangeReader, type RangeReader } from '../storage/storage.js';
import { makeBlobLoader, type BlobLoader } from './blob-loader.js';
import { BLOCK, createBlockWriter } from './block-writer.js';
import { makeBufferPool, type BufferPool } from './buffer-pool.js';
import { startHashThread, type HashThread } from './hash-thread.js';
import { makeLimit, type Limit } from '../storage/limit.js';
import type { BlobSpan, ReplyOf } from './pipeline-protocol.js';
import { removeStaleTempFiles, tempPathFor } from './restore-temp.js';
import { resolveSnapshot } from './snapshots.js';
import { findNode, makeTreeReader, type TreeReader } from './trees.js';
import { startWorkerPool, type WorkerPool } from './worker-pool.js';

export interface RestoreOptions {
  snapshot: string;
  subpath?: string;
  target: string;
  workers?: number;
  onProgress?: (p: { files: number; bytesDone: number; bytesTotal: number }) => void;
  onWarning?: (message: string) => void;
}

export interface RestoredFile {
  path: string;
  size: number;
  sha256: string;
}

export interface RestoreResult {
  snapshotId: string;
  files: RestoredFile[];
  bytes: number;
  /** `code`: why, as the error model names it (INTEGRITY, FORMAT, NOT_FOUND, NO_SPACE). */
  failed: Array<{ path: string; error: string; code: ErrorCode }>;
  /** Temporary files left by an interrupted restore, found in directories restored into and removed. */
  removedTempFiles: string[];
}

export class RestoreFailedError extends RepoError {
  override readonly code: ErrorCode = 'RESTORE_FAILED';
}

/** A fetch (one part of a pack read) covers consecutive blobs up to this size, stored and decoded (a delta is tiny stored, not decoded). */
const FETCH_BYTES = 8 * 1024 * 1024;
/** Zero runs are hashed from here: shared, so the hash thread reads it without a copy. */
const ZEROS = Buffer.from(new SharedArrayBuffer(1024 * 1024));
/** A plaintext buffer holds a fetch after up to a block of the bytes before it, and is padded to a block after it. */
const PLAIN_BYTES = FETCH_BYTES + 2 * BLOCK;
/**
 * Fetches started per file, ahead of the one being written, and in all: each holds a buffer of
 * FETCH_BYTES (two while it is decoded). Eight rather than four: restoring right after a backup,
 * when RGW is still busy with what it wrote, 4 gave 289-297 MB/s and 8 gave 323-333 (bench, two
 * runs each); peak RSS of a 2 GB restore 270 MB, 220 MB with the AES-GCM addon.
 */
const READ_AHEAD = 8;
const FETCHES = 8;
/**
 * Pack reads whose requests are sent ahead of their fetches: one stream from an S3 server runs at
 * a fraction of what several do, and what the server sends early waits in the kernel's socket
 * buffers, not in ours.
 */
const PACK_READS_AHEAD = 3;

export async function restore(repo: Repository, options: RestoreOptions): Promise<RestoreResult> {
  const pool = startWorkerPool({ key: repo.key.data, zstdLevel: repo.config.zstdLevel }, options.workers);
  const hasher = startHashThread();
  // Threads take ~0.1 s to start: let that overlap the lock and reading the snapshot, the index and the trees.
  pool.warmUp();
  hasher.warmUp();
  // The snapshot, the index and the trees are read while the lock is written and checked (two
  // round trips): safe, because no data is read and nothing is written before the lock is held,
  // and a conflicting exclusive lock (a prune) fails the restore with the lock's error.
  const locking = acquireLock(repo, 'shared', 'restore');
  try {
    const [locked, plan] = await Promise.allSettled([locking, readPlan(repo, options)]);
    if (locked.status === 'rejected') throw locked.reason;
    if (plan.status === 'rejected') throw plan.reason;
    const { snapshotId, index, trees, top, bytesTotal } = plan.value;
    const target = path.resolve(options.target);
    const result: RestoreResult = { snapshotId, files: [], bytes: 0, failed: [], removedTempFiles: [] };
    const progress = { files: 0, bytesDone: 0, bytesTotal };
    const ctx: FileContext = {
      repo,
      index,
      pool,
      loader: makeBlobLoader(repo, index, pool),
      fetches: makeLimit(FETCHES),
      decodes: makeLimit(pool.size),
      // Every buffer holds a whole fetch, stored or decoded, so any recycled one fits the next (a
      // bigger one only for a blob larger than a fetch). One pool for both: a fetch holds one or
      // the other (both only while it is decoded), so the buffers made are about one per fetch.
      buffers: makeBufferPool(FETCHES + pool.size, { size: PLAIN_BYTES, aligned: true }),
      hasher,
      onBytes: (n) => {
        progress.bytesDone += n;
        options.onProgress?.(progress);
      },
    };
    const files = makeLimit(4);
    const dirTimes: Array<{ dest: string; node: Node }> = [];
    // Called on a directory before this restore writes into it, so only earlier runs' files match.
    const removeStale = async (dir: string) => result.removedTempFiles.push(...(await removeStaleTempFiles(dir)));

    async function restoreNode(node: Node, dest: string): Promise<void> {
      if (!isInside(target, dest)) throw new FormatError(`refusing to write ${dest}: outside the target ${target}`);
      if (node.type === 'dir') {
        await makeDir(dest);
        await removeStale(dest);
        const children = (await trees.load(node.subtree)).nodes;
        await Promise.all(children.map((c) => restoreNode(c, path.join(dest, checkNodeName(c.name, dest)))));
        dirTimes.push({ dest, node });
      } else if (node.type === 'symlink') {
        await fs.rm(dest, { force: true });
        await fs.symlink(node.target, dest);
        const t = nsToDate(node.mtimeNs);
        await fs.lutimes(dest, t, t).catch(() => {});
      } else {
        await files.run(async () => {
          try {
            result.files.push(await restoreFile(ctx, node, dest));
            result.bytes += node.size;
          } catch (err) {
            // Damaged or missing data, or no space: this file fails, the others are still restored.
            if (!(err instanceof IntegrityError || err instanceof FormatError || err instanceof NotFoundError || (err as NodeJS.ErrnoException).code === 'ENOSPC')) throw err;
            result.failed.push({ path: dest, error: (err as Error).message, code: codeOf(err) });
            options.onWarning?.(`${dest}: ${(err as Error).message}`);
          }
          progress.files++;
        });
      }
    }

    await fs.mkdir(target, { recursive: true });
    await removeStale(target);
    if (top.type === 'dir') {
      const children = (await trees.load(top.subtree)).nodes;
      await Promise.all(children.map((c) => restoreNode(c, path.join(target, checkNodeName(c.name, 'snapshot root')))));
    } else {
      await restoreNode(top, path.join(target, checkNodeName(top.name, 'snapshot')));
    }
    // Directory times last: writing files inside a directory changes its mtime.
    for (const { dest, node } of dirTimes.reverse()) {
      await fs.chmod(dest, node.mode).catch(() => {});
      const t = nsToDate(node.mtimeNs);
      await fs.utimes(dest, t, t).catch(() => {});
    }
    result.files.sort((a, b) => a.path.localeCompare(b.path));
    return result;
  } finally {
    await Promise.all([pool.close(), hasher.close(), locking.then((lock) => lock.release(), () => {})]);
  }
}

/** The snapshot, the index, and the tree of what to restore with its size. */
async function readPlan(repo: Repository, options: RestoreOptions) {
  const [{ id: snapshotId, snapshot }, { index }] = await Promise.all([resolveSnapshot(repo, options.snapshot), loadIndex(repo)]);
  const trees = makeTreeReader(repo, index, makeCodecSet(repo.config.zstdLevel));
  const top = await findNode(trees, snapshot.tree, options.subpath ?? '');
  return { snapshotId, index, trees, top, bytesTotal: await sizeBelow(trees, top) };
}

interface FileContext {
  repo: Repository;
  index: BlobIndex;
  pool: WorkerPool;
  loader: BlobLoader;
  fetches: Limit;
  decodes: Limit;
  /** Recycled buffers for range reads and for the workers' plaintext output (shared with the hash thread). */
  buffers: BufferPool<SharedArrayBuffer>;
  /** Whole-file SHA-256s, off the main thread. */
  hasher: HashThread;
  onBytes: (n: number) => void;
}

/** A run of consecutive blobs in one pack, decoded in one piece: one part of a pack read. */
interface Fetch {
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

async function restoreFile(ctx: FileContext, node: FileNode, dest: string): Promise<RestoredFile> {
  const tmp = tempPathFor(dest);
  const file = await createBlockWriter(tmp, node.size);
  let renamed = false;
  try {
    const hash = ctx.hasher.start();
    const plan = planFetches(ctx.index, node);
    // Fetch and open a few steps ahead; write and hash strictly in file order. A fetch keeps its
    // slot of the shared limit until its bytes are written, which bounds memory across files.
    const started: Array<Promise<{ data: Buffer; release: () => void }> | number> = [];
    const start = (step: number | Fetch) => {
      if (typeof step === 'number') return step;
      const p = ctx.fetches.acquire().then(async (slot) => {
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
    await file.finish(node.mode, nsToDate(node.mtimeNs));
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

/** Zero runs stay numbers; blobs are grouped into range reads of consecutive blobs of one pack. */
function planFetches(index: BlobIndex, node: FileNode): Array<number | Fetch> {
  const steps: Array<number | Fetch> = [];
  let current: Fetch | undefined;
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
async function fetchAndOpen(ctx: FileContext, fetch: Fetch): Promise<Buffer> {
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
function openPackReads(ctx: FileContext, plan: Array<number | Fetch>, from: number): void {
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
function readPart(ctx: FileContext, fetch: Fetch): Promise<SharedArrayBuffer> {
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

/**
 * Creates a directory, or accepts one that exists; never a symlink or anything else in its place:
 * following a link the target already had (or one the snapshot put there) could write outside it.
 */
async function makeDir(dest: string): Promise<void> {
  await fs.mkdir(dest).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  if (!(await fs.lstat(dest)).isDirectory()) throw new FormatError(`refusing to restore into ${dest}: it exists and is not a directory (symlinks are never followed)`);
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function nsToDate(ns: string): Date {
  return new Date(Number(BigInt(ns) / 1000000n));
}

async function sizeBelow(trees: TreeReader, node: Node): Promise<number> {
  if (node.type === 'file') return node.size;
  if (node.type !== 'dir') return 0;
  const sizes = await Promise.all((await trees.load(node.subtree)).nodes.map((n) => sizeBelow(trees, n)));
  return sizes.reduce((a, b) => a + b, 0);
}
