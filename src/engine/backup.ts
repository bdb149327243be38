/**
 * Backup: walks a source path, stores what changed since the parent snapshot of the same asset,
 * and writes a snapshot last. Unchanged files (same size, mtime, ctime, inode as in the parent)
 * are not read at all (archiver.ts, fileChanged).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Stats } from 'node:fs';
import { hostName, isoNow, systemClock, type Clock } from '../base/clock.js';
import { throwIfAborted } from '../base/errors.js';
import type { BlobIndex } from '../repo/blob-index.js';
import type { FileSplitter } from '../repo/chunker/chunker.js';
import { makeGear } from '../repo/chunker/fastcdc.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { DEFAULT_MAX_DELTA_DEPTH } from '../repo/config.js';
import { loadIndex } from '../repo/index-store.js';
import type { Repository } from '../repo/repository.js';
import { SNAPSHOT_VERSION, type Snapshot } from '../repo/snapshot.js';
import { makeLimit } from '../storage/limit.js';
import { excluder } from './exclude.js';
import { saveDir, saveSources, saveTreeOf, type Archive } from './archiver.js';
import { makeBlobLoader } from './blob-loader.js';
import { makeBufferPool } from './buffer-pool.js';
import { SEALED_BUFFER_BYTES, type ContentContext } from './file-content.js';
import { startHashThread, type HashThread } from './hash-thread.js';
import { failFast, underLock, type FailFast, type OperationOptions } from './operation.js';
import { packWritePolicy } from './page-cache.js';
import { makePacker, type Packer } from './packer.js';
import { PROGRAM } from './program.js';
import { latestOf, listSnapshots, resolveSnapshot, type StoredSnapshot } from './snapshots.js';
import { saveNumberedSnapshot } from './versions.js';
import { makeTreeReader } from './trees.js';
import { startWorkerPool, type WorkerPool } from './worker-pool.js';

export interface BackupOptions extends OperationOptions {
  asset: string;
  /** One directory (its contents become the snapshot root) or files and directories (each by name). */
  paths: string[];
  tags?: string[];
  meta?: Record<string, string>;
  tier?: number;
  /** The asset's kind (model, dataset, ...), recorded in the snapshot. */
  kind?: string;
  /** Glob patterns of paths to leave out (picomatch; a pattern without a slash matches a base name anywhere), relative to the source root. */
  exclude?: readonly string[];
  /** Parent snapshot id; default: the latest snapshot of the asset. `null`: none (read everything). */
  parent?: string | null;
  splitters?: readonly FileSplitter[];
  workers?: number;
  onProgress?: (progress: BackupProgress) => void;
  /** The host the snapshot records (lifeboat serve --host); default this machine's name. */
  host?: string;
  /** Recorded in the snapshot as given: the source adapter's facts, the lineage (sources/, control/lineage.ts). */
  record?: Pick<Snapshot, 'source' | 'lineage'>;
}

export interface BackupProgress {
  files: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface BackupResult {
  snapshotId: string;
  snapshot: Snapshot;
}

interface Source {
  abs: string;
  stat: Stats;
}

/**
 * The pipeline: lock, index and parent; walk the sources through the savers (archiver.ts), whose
 * file contents go through the workers into the packer; flush the packs and the index; and only
 * then, at the last safe point, write the snapshot. Stopped before that, it leaves valid packs and
 * index files (reused by the next run) and no snapshot.
 */
export async function backup(repo: Repository, options: BackupOptions): Promise<BackupResult> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const sources = await Promise.all(options.paths.map(async (p) => ({ abs: path.resolve(p), stat: await fs.lstat(p) })));
  return underLock(repo, 'shared', `backup ${options.asset}`, options, async ({ repo: bound, signal }) => {
    const pool = startWorkerPool({ key: repo.key.data, zstdLevel: repo.config.zstdLevel }, options.workers);
    const hasher = startHashThread();
    let packer: Packer | undefined;
    try {
      const { index } = await loadIndex(bound);
      const parent = await findParent(bound, options);
      packer = makePacker(bound, index, packWritePolicy(options.directIo));
      const stops = failFast(signal);
      const archive = await openArchive(bound, index, packer, pool, hasher, stops, sources, options);
      const rootTree = await stops.run(() => saveRoot(archive, sources, parent?.snapshot.tree));
      await packer.flush();
      const snapshot = snapshotOf(options, sources, rootTree, parent?.id, archive, clock.now() - started, clock);
      // The last safe point: past it the snapshot is written whole (never half), so a stop that
      // comes during the write finds the backup done.
      throwIfAborted(signal);
      return await saveNumberedSnapshot(repo, snapshot);
    } finally {
      await packer?.settled(); // no pack still being stored once the lock goes
      await Promise.all([pool.close(), hasher.close()]);
    }
  });
}

async function openArchive(repo: Repository, index: BlobIndex, packer: Packer, pool: WorkerPool, hasher: HashThread, stops: FailFast, sources: Source[], options: BackupOptions): Promise<Archive> {
  const codecs = makeCodecSet(repo.config.zstdLevel);
  // The pre-walk for a total (progress, ETA) stats every file a second time: only when someone watches.
  const progress: BackupProgress = { files: 0, bytesDone: 0, bytesTotal: options.onProgress ? await totalBytes(sources.map((s) => s.abs)) : 0 };
  const warn = (message: string) => options.onWarning?.(message);
  let batchId = 0;
  const content: ContentContext = {
    pool,
    packer,
    index,
    loader: makeBlobLoader(repo, index, pool),
    maxDeltaDepth: repo.config.maxDeltaDepth ?? DEFAULT_MAX_DELTA_DEPTH,
    gear: makeGear(repo.config.chunker),
    splitters: options.splitters ?? [],
    batches: makeLimit(pool.size + 2),
    buffers: makeBufferPool(pool.size + 3, { shared: true }),
    hasher,
    sealedBuffers: makeBufferPool(pool.size + 3, { size: SEALED_BUFFER_BYTES }),
    nextBatchId: () => ++batchId,
    onBytes: (n) => {
      progress.bytesDone += n;
      options.onProgress?.(progress);
    },
    warn,
    signal: stops.signal,
  };
  return {
    repo,
    packer,
    codecs,
    trees: makeTreeReader(repo, index, codecs),
    content,
    files: makeLimit(4),
    // The first failure stops the rest of the walk; the walk then settles before the backup fails.
    signal: stops.signal,
    fail: stops.fail,
    counts: { files: 0, dirs: 0, totalBytes: 0, readBytes: 0 },
    filesDone: () => void progress.files++,
    incomplete: [],
    warn,
    excluded: excluder(options.exclude ?? [], sources.length === 1 && sources[0].stat.isDirectory() ? sources[0].abs : undefined),
  };
}

/** One directory: its contents are the root. Files and directories: each by its name in the root. */
async function saveRoot(a: Archive, sources: Source[], parentTree: string | undefined): Promise<string> {
  if (sources.length === 1 && sources[0].stat.isDirectory()) {
    a.counts.dirs++;
    return (await saveDir(a, sources[0].abs, parentTree)) ?? (await saveTreeOf(a, []));
  }
  return saveSources(a, sources.map((s) => s.abs), parentTree);
}

function snapshotOf(options: BackupOptions, sources: Source[], tree: string, parent: string | undefined, a: Archive, durationMs: number, clock: Clock): Snapshot {
  return {
    version: SNAPSHOT_VERSION,
    time: isoNow(clock),
    asset: options.asset,
    hostname: options.host ?? hostName(),
    username: os.userInfo().username,
    paths: sources.map((s) => s.abs),
    tree,
    parent,
    tags: options.tags ?? [],
    meta: options.meta ?? {},
    tier: options.tier,
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.exclude?.length ? { exclude: [...options.exclude] } : {}),
    ...options.record,
    summary: {
      ...a.counts,
      newBlobs: a.packer.stats.blobs,
      newRawBytes: a.packer.stats.rawBytes,
      newStoredBytes: a.packer.stats.storedBytes,
      durationMs,
    },
    incomplete: a.incomplete,
    program: PROGRAM,
  };
}

/**
 * The snapshot to compare against: the one named (any spec resolveSnapshot takes), none, or the
 * asset's latest. Damaged snapshot objects are skipped here, unlike for a restore: the parent is
 * only the base whose unchanged files (same size, mtime, ctime, inode) are not read again, and is
 * recorded as what the backup was compared with; an older one costs reading more, never correctness.
 */
async function findParent(repo: Repository, options: BackupOptions): Promise<StoredSnapshot | undefined> {
  if (options.parent === null) return undefined;
  if (options.parent) return resolveSnapshot(repo, options.parent, { skipDamaged: true });
  return latestOf(await listSnapshots(repo), options.asset);
}

/** Sum of regular file sizes below the paths, for progress and ETA. */
async function totalBytes(paths: string[]): Promise<number> {
  let total = 0;
  async function visit(p: string): Promise<void> {
    const st = await fs.lstat(p).catch(() => undefined);
    if (!st) return;
    if (st.isFile()) total += st.size;
    else if (st.isDirectory()) await Promise.all((await fs.readdir(p).catch(() => [])).map((n) => visit(path.join(p, n))));
  }
  await Promise.all(paths.map(visit));
  return total;
}
