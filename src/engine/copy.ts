/**
 * Copy (replication): brings snapshots of one repository into another that has its own master
 * key, moving exactly the blobs the destination lacks (by blob id, the SHA-256 of the plaintext).
 *
 * Per snapshot, in time order: collect its blobs from the source trees; read the ones the
 * destination lacks, verify them (GCM, SHA-256) and re-seal them with the destination key into
 * new packs (data first, then trees, children before parents); flush (packs, then index); and
 * only then write the snapshot (docs/format.md §11). The destination's packer writes index files
 * as it goes, so a copy that dies resumes without sending again what was indexed. Stopped, it has
 * copied whole snapshots only; what it sent of the next one is reused by a rerun.
 */
import { systemClock, type Clock } from '../base/clock.js';
import { throwIfAborted } from '../base/errors.js';
import type { BlobIndex } from '../repo/blob-index.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { loadIndex } from '../repo/index-store.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot } from '../repo/snapshot.js';
import { makeBlobLoader } from './blob-loader.js';
import { makeTransfer, type Transfer } from './copy-blobs.js';
import { blobBytesOf, partitionByPresence, planPackRanges, selectSnapshots, type Selection } from './copy-plan.js';
import { withDeltaBases } from './delta-bases.js';
import { bindSignal, underLock, type OperationOptions } from './operation.js';
import { makePacker, type Packer } from './packer.js';
import { collectBlobs, type SnapshotBlobs } from './reachable.js';
import { listSnapshots, saveSnapshot } from './snapshots.js';
import { makeTreeReader } from './trees.js';
import { startWorkerPool } from './worker-pool.js';

export interface CopyOptions extends Selection, OperationOptions {
  workers?: number;
  /** Bytes of blobs moved so far, and the total known so far (it grows as snapshots are planned). */
  onProgress?: (p: CopyProgress) => void;
  /** After each snapshot is written (or found present) at the destination. */
  onSnapshot?: (s: CopiedSnapshot) => void;
}

export interface CopyProgress {
  snapshotsDone: number;
  snapshotsTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface CopiedSnapshot {
  sourceId: string;
  destinationId: string;
  asset: string;
  time: string;
  status: 'copied' | 'present';
  /** Blobs this snapshot sent, and their stored bytes at the source (0 for present ones). */
  blobs: number;
  bytes: number;
}

export interface CopyResult {
  snapshots: CopiedSnapshot[];
  copied: number;
  present: number;
  /** Blobs sent and the stored bytes read for them at the source. */
  blobs: number;
  bytesRead: number;
  /** What the destination stored: new packs and their bytes (headers included). */
  packs: number;
  bytesWritten: number;
  durationMs: number;
}

export async function copy(source: Repository, destination: Repository, options: CopyOptions): Promise<CopyResult> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  // The destination's lock is held inside the source's: one signal stops both (either lock lost, or the caller's).
  return underLock(source, 'shared', 'copy (source)', options, (from) =>
    underLock(destination, 'shared', 'copy (destination)', { ...options, signal: from.signal }, (to) =>
      copyLocked({ source: bindSignal(source, to.signal), destination: to.repo, unbound: destination, signal: to.signal }, options, clock, started),
    ),
  );
}

interface Ends {
  source: Repository;
  destination: Repository;
  /** The destination without the signal: snapshots are written by it, whole, past the last safe point. */
  unbound: Repository;
  signal: AbortSignal;
}

async function copyLocked({ source, destination, unbound, signal }: Ends, options: CopyOptions, clock: Clock, started: number): Promise<CopyResult> {
  const pool = startWorkerPool({ key: source.key.data, zstdLevel: source.config.zstdLevel, resealKey: destination.key.data }, options.workers);
  let packer: Packer | undefined;
  try {
    const warn = (where: string, consequence: string) => (id: string, err: Error) => options.onWarning?.(`${where} snapshot ${id.slice(0, 12)} cannot be read (${err.message}): ${consequence}`);
    const selected = selectSnapshots(await listSnapshots(source, warn('source', 'not copied')), options);
    const { missing, present } = partitionByPresence(selected, await listSnapshots(destination, warn('destination', 'treated as absent, so its source is copied again')));
    const [{ index: sourceIndex }, { index: destinationIndex }] = await Promise.all([loadIndex(source), loadIndex(destination)]);
    const trees = makeTreeReader(source, sourceIndex, makeCodecSet(source.config.zstdLevel));
    packer = makePacker(destination, destinationIndex);
    const progress: CopyProgress = { snapshotsDone: present.length, snapshotsTotal: selected.length, bytesDone: 0, bytesTotal: 0 };
    const result: CopyResult = { snapshots: [], copied: 0, present: present.length, blobs: 0, bytesRead: 0, packs: 0, bytesWritten: 0, durationMs: 0 };
    // Copied snapshots point at their parent's copy when it is there; ids differ between repositories.
    const idAtDestination = new Map(present.map((p) => [p.source.id, p.destinationId]));
    for (const p of present) {
      const done: CopiedSnapshot = { sourceId: p.source.id, destinationId: p.destinationId, asset: p.source.snapshot.asset, time: p.source.snapshot.time, status: 'present', blobs: 0, bytes: 0 };
      result.snapshots.push(done);
      options.onSnapshot?.(done);
    }
    const walked = { trees: new Set<string>(), data: new Set<string>() };
    const transfer = makeTransfer({ source, packer, pool, loader: makeBlobLoader(source, sourceIndex, pool), signal });
    for (const s of missing) {
      const blobs = await collectBlobs(trees, s.snapshot.tree, walked.trees, walked.data);
      const sent = await copyBlobs({ packer, sourceIndex, transfer, progress, onProgress: options.onProgress }, blobs);
      await packer.flush();
      throwIfAborted(signal); // the safe point: this snapshot's data is stored and indexed, the snapshot not yet written
      const destinationId = await saveSnapshot(unbound, rewriteParent(s.snapshot, idAtDestination));
      idAtDestination.set(s.id, destinationId);
      const done: CopiedSnapshot = { sourceId: s.id, destinationId, asset: s.snapshot.asset, time: s.snapshot.time, status: 'copied', ...sent };
      result.snapshots.push(done);
      result.copied++;
      result.blobs += sent.blobs;
      result.bytesRead += sent.bytes;
      progress.snapshotsDone++;
      options.onProgress?.(progress);
      options.onSnapshot?.(done);
    }
    result.packs = packer.stats.packs;
    result.bytesWritten = packer.stats.storedBytes;
    result.durationMs = clock.now() - started;
    return result;
  } finally {
    await packer?.settled();
    await pool.close();
  }
}

interface BlobCopyContext {
  packer: Packer;
  sourceIndex: BlobIndex;
  transfer: Transfer;
  progress: CopyProgress;
  onProgress?: (p: CopyProgress) => void;
}

/** Sends the blobs of one snapshot that the destination lacks: data first, then trees. */
async function copyBlobs(ctx: BlobCopyContext, blobs: SnapshotBlobs): Promise<{ blobs: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  // Delta blobs travel with their bases (bases first), so the copy decodes on its own.
  for (const ids of [withDeltaBases(ctx.sourceIndex, blobs.data), blobs.trees]) {
    const lacking = ids.filter((id) => !ctx.packer.knows(Buffer.from(id, 'hex')));
    const ranges = planPackRanges(ctx.sourceIndex, lacking);
    const total = blobBytesOf(ranges);
    ctx.progress.bytesTotal += total;
    const onBytes = (n: number) => {
      ctx.progress.bytesDone += n;
      ctx.onProgress?.(ctx.progress);
    };
    await ctx.transfer(ranges, onBytes);
    count += lacking.length;
    bytes += total;
  }
  return { blobs: count, bytes };
}

function rewriteParent(snapshot: Snapshot, idAtDestination: ReadonlyMap<string, string>): Snapshot {
  const copied: Snapshot = { ...snapshot };
  const parent = snapshot.parent && idAtDestination.get(snapshot.parent);
  if (parent) copied.parent = parent;
  else delete copied.parent;
  return copied;
}
