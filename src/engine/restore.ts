/**
 * Restore: recreates a snapshot (or a path inside it) under a target directory.
 *
 * Each file is written to a temporary name beside its destination, its holes left as holes,
 * and renamed into place only after its size and whole-file SHA-256 match the snapshot: a file
 * at its final name is always complete and correct. Large files are written around the page
 * cache when they would not fit in it (page-cache.ts, block-writer.ts), from page-aligned buffers the workers decode into. Names come from
 * trees that were checked to be single path components, and every destination is checked to
 * stay inside the target. Stopped (its signal, its lock lost), it waits for the files it was
 * writing to remove their temporary names, and leaves only complete, verified files.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { codeOf } from '../base/error-codes.js';
import { throwIfAborted, type ErrorCode } from '../base/errors.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { FormatError, IntegrityError, RepoError } from '../repo/errors.js';
import { loadIndex } from '../repo/index-store.js';
import { acquireLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import { checkNodeName, type Node } from '../repo/tree.js';
import { NotFoundError } from '../storage/errors.js';
import { makeLimit } from '../storage/limit.js';
import { makeBlobLoader } from './blob-loader.js';
import { makeBufferPool } from './buffer-pool.js';
import { setTimes } from './file-times.js';
import { startHashThread } from './hash-thread.js';
import { anySignal, bindSignal, failFast, releaseLock, settleAll, stoppable, type FailFast, type OperationOptions } from './operation.js';
import { fileWritePolicy } from './page-cache.js';
import { FETCHES, PLAIN_BYTES, restoreFile, type FileContext, type RestoredFile } from './restore-file.js';
import { removeStaleTempFiles } from './restore-temp.js';
import { resolveSnapshot } from './snapshots.js';
import { findNode, makeTreeReader, type TreeReader } from './trees.js';
import { startWorkerPool } from './worker-pool.js';

export type { RestoredFile } from './restore-file.js';

export interface RestoreOptions extends OperationOptions {
  snapshot: string;
  /** `latest`, `ASSET@latest`: the newest readable snapshot even while some cannot be read (resolveSnapshot). */
  skipDamaged?: boolean;
  subpath?: string;
  target: string;
  workers?: number;
  onProgress?: (p: { files: number; bytesDone: number; bytesTotal: number }) => void;
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

export async function restore(repo: Repository, options: RestoreOptions): Promise<RestoreResult> {
  throwIfAborted(options.signal);
  const pool = startWorkerPool({ key: repo.key.data, zstdLevel: repo.config.zstdLevel }, options.workers);
  const hasher = startHashThread();
  // Threads take ~0.1 s to start: let that overlap the lock and reading the snapshot, the index and the trees.
  pool.warmUp();
  hasher.warmUp();
  // Stops: the caller's signal, the lock's (once it is held), and the restore's own first failure.
  const lockLost = new AbortController();
  const signal = anySignal([...(options.signal ? [options.signal] : []), lockLost.signal]);
  const stops = failFast(signal);
  const bound = bindSignal(repo, stops.signal);
  // The snapshot, the index and the trees are read while the lock is written and checked (two
  // round trips): safe, because no data is read and nothing is written before the lock is held,
  // and a conflicting exclusive lock (a prune) fails the restore with the lock's error.
  const locking = acquireLock(repo, 'shared', 'restore', { clock: options.clock, onWarning: options.onWarning });
  locking.then((lock) => lock.signal.addEventListener('abort', () => lockLost.abort(lock.signal.reason), { once: true }), () => {});
  try {
    return await stoppable(signal, async () => {
      const [locked, plan] = await Promise.allSettled([locking, readPlan(bound, options)]);
      if (locked.status === 'rejected') throw locked.reason;
      if (plan.status === 'rejected') throw plan.reason;
      return stops.run(() => restoreTree(bound, plan.value, options, { pool, hasher, stops }));
    });
  } finally {
    await Promise.all([pool.close(), hasher.close(), locking.then((lock) => releaseLock(lock, options.onWarning), () => {})]);
  }
}

type Plan = Awaited<ReturnType<typeof readPlan>>;

interface Machinery {
  pool: FileContext['pool'];
  hasher: FileContext['hasher'];
  /** The first failure stops the other files; the restore fails with it once they have settled. */
  stops: FailFast;
}

/** Restores the plan's tree under the target: directories, symlinks, files (four at a time), then directory times. */
async function restoreTree(repo: Repository, plan: Plan, options: RestoreOptions, { pool, hasher, stops }: Machinery): Promise<RestoreResult> {
  const stop = stops.signal;
  const { snapshotId, index, trees, top, bytesTotal } = plan;
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
    writes: fileWritePolicy(options.directIo),
    onBytes: (n) => {
      progress.bytesDone += n;
      options.onProgress?.(progress);
    },
    signal: stop,
  };
  const files = makeLimit(4);
  const dirTimes: Array<{ dest: string; node: Node }> = [];
  // Called on a directory before this restore writes into it, so only earlier runs' files match.
  const removeStale = async (dir: string) => result.removedTempFiles.push(...(await removeStaleTempFiles(dir)));
  const restoreChildren = async (subtree: string, dest: string, where: string) => {
    const children = (await trees.load(subtree)).nodes;
    await settleAll(children.map((c) => restoreNode(c, path.join(dest, checkNodeName(c.name, where)))), stops.fail);
  };

  async function restoreNode(node: Node, dest: string): Promise<void> {
    throwIfAborted(stop);
    if (!isInside(target, dest)) throw new FormatError(`refusing to write ${dest}: outside the target ${target}`);
    if (node.type === 'dir') {
      await makeDir(dest);
      await removeStale(dest);
      await restoreChildren(node.subtree, dest, dest);
      dirTimes.push({ dest, node });
    } else if (node.type === 'symlink') {
      await fs.rm(dest, { force: true });
      await fs.symlink(node.target, dest);
      await setTimes(dest, node.mtimeNs, { noFollow: true }).catch(() => {});
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
      }, stop);
    }
  }

  await fs.mkdir(target, { recursive: true });
  await removeStale(target);
  if (top.type === 'dir') await restoreChildren(top.subtree, target, 'snapshot root');
  else await restoreNode(top, path.join(target, checkNodeName(top.name, 'snapshot')));
  // Directory times last: writing files inside a directory changes its mtime.
  for (const { dest, node } of dirTimes.reverse()) {
    await fs.chmod(dest, node.mode).catch(() => {});
    await setTimes(dest, node.mtimeNs).catch(() => {});
  }
  result.files.sort((a, b) => a.path.localeCompare(b.path));
  return result;
}

/** The snapshot, the index, and the tree of what to restore with its size. */
async function readPlan(repo: Repository, options: RestoreOptions) {
  const [{ id: snapshotId, snapshot }, { index }] = await Promise.all([resolveSnapshot(repo, options.snapshot, { skipDamaged: options.skipDamaged, onWarning: options.onWarning }), loadIndex(repo)]);
  const trees = makeTreeReader(repo, index, makeCodecSet(repo.config.zstdLevel));
  const top = await findNode(trees, snapshot.tree, options.subpath ?? '');
  return { snapshotId, index, trees, top, bytesTotal: await sizeBelow(trees, top) };
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

async function sizeBelow(trees: TreeReader, node: Node): Promise<number> {
  if (node.type === 'file') return node.size;
  if (node.type !== 'dir') return 0;
  const sizes = await Promise.all((await trees.load(node.subtree)).nodes.map((n) => sizeBelow(trees, n)));
  return sizes.reduce((a, b) => a + b, 0);
}
