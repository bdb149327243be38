/**
 * Backup of what a source adapter produces rather than of paths: streams (a dump tool's stdout,
 * the objects of a bucket) and small generated files (a manifest), each stored as a file of one
 * snapshot. Nothing is staged on disk and memory stays bounded (stream-batches.ts).
 *
 * The snapshot is written only when `produce` resolves: a source that fails part way (a dump tool
 * that exits non-zero, a server that goes away, an abort) rejects, and then there is no snapshot
 * at all, never one that looks complete. Packs stored before the failure stay; the next backup
 * deduplicates against the indexed ones and prune removes what no snapshot needs.
 */
import os from 'node:os';
import { hostName, isoNow, systemClock } from '../base/clock.js';
import { abortReason, throwIfAborted } from '../base/errors.js';
import { acquireLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import { SNAPSHOT_VERSION, type Snapshot } from '../repo/snapshot.js';
import type { FileNode } from '../repo/tree.js';
import type { BackupResult } from './backup.js';
import { openContentSession } from './content-session.js';
import { readFileContent } from './file-content.js';
import { anySignal, type OperationOptions } from './operation.js';
import { PROGRAM } from './program.js';
import { storeStream } from './stream-content.js';
import { makeTreeBuilder } from './tree-builder.js';
import { saveNumberedSnapshot } from './versions.js';

export interface StreamBackupOptions extends OperationOptions {
  asset: string;
  /** What the snapshot says it was read from (its `paths`): a URL without credentials, a path, a command. */
  location: string;
  tags?: string[];
  meta?: Record<string, string>;
  tier?: number;
  /** The asset's kind (model, dataset, ...), recorded in the snapshot. */
  kind?: string;
  host?: string;
  /** Recorded in the snapshot as given. */
  record?: Pick<Snapshot, 'source' | 'lineage'>;
  workers?: number;
  /** Bytes stored so far, over all entries. */
  onProgress?: (bytesDone: number) => void;
}

export interface EntryOptions {
  /** Permission bits; default 0600 (a dump holds a database's contents). */
  mode?: number;
  /** Modification time in ms since the epoch; default the backup's start. */
  mtimeMs?: number;
}

export interface StoredEntry {
  path: string;
  size: number;
  sha256: string;
}

/** What an adapter writes into: each call stores one file of the snapshot. Calls may run at once. */
export interface SnapshotSink {
  /** Stores everything `stream` delivers as the file at `path` (slash-separated); resolves once it is stored. */
  addStream(path: string, stream: AsyncIterable<Uint8Array>, options?: EntryOptions): Promise<StoredEntry>;
  /** Stores small generated content (a manifest). */
  addBytes(path: string, bytes: Uint8Array | string, options?: EntryOptions): Promise<StoredEntry>;
  /** Stores a local file, read in place (a private copy an adapter made, such as SQLite's online backup). */
  addFile(path: string, localPath: string, options?: EntryOptions): Promise<StoredEntry>;
  readonly signal?: AbortSignal;
}

export async function backupStreams(repo: Repository, options: StreamBackupOptions, produce: (sink: SnapshotSink) => Promise<void>): Promise<BackupResult> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  throwIfAborted(options.signal);
  const lock = await acquireLock(repo, 'shared', `backup ${options.asset}`, { clock: options.clock, onWarning: options.onWarning });
  // A lock that cannot be kept stops the producer (its dump tool) as an abort would: no snapshot.
  const signal = anySignal(options.signal ? [options.signal, lock.signal] : [lock.signal]);
  let bytesDone = 0;
  try {
    const session = await openContentSession(repo, {
      workers: options.workers,
      directIo: options.directIo,
      warn: (m) => options.onWarning?.(m),
      onBytes: (n) => options.onProgress?.((bytesDone += n)),
    });
    try {
      const { ctx, packer, codecs } = session;
      const tree = makeTreeBuilder();
      const stamp = { mtimeNs: msToNs(started), uid: process.getuid?.(), gid: process.getgid?.() };
      const totals = { files: 0, bytes: 0 };
      const store = async (path: string, options: EntryOptions | undefined, read: () => Promise<{ content: FileNode['content']; sha256: string; size: number }>) => {
        tree.check(path);
        const { content, sha256, size } = await read();
        const mtimeNs = options?.mtimeMs === undefined ? stamp.mtimeNs : msToNs(options.mtimeMs);
        tree.add(path, { type: 'file', mode: options?.mode ?? 0o600, mtimeNs, uid: stamp.uid, gid: stamp.gid, size, sha256, content, inode: 0, ctimeNs: mtimeNs });
        totals.files++;
        totals.bytes += size;
        return { path, size, sha256 };
      };
      const sink: SnapshotSink = {
        signal,
        addStream: (path, stream, o) => store(path, o, () => storeStream(ctx, stream, signal)),
        addBytes: (path, bytes, o) => store(path, o, () => storeStream(ctx, once(typeof bytes === 'string' ? Buffer.from(bytes) : bytes), signal)),
        addFile: (path, localPath, o) => store(path, o, () => readFileContent(ctx, localPath)),
      };
      try {
        await produce(sink);
        // A producer that returned while its source was being aborted did not finish it.
        if (signal.aborted) throw abortReason(signal);
      } catch (err) {
        // No snapshot; but what was stored is flushed and indexed (at most one more pack), so no put
        // outlives the lock and the next backup deduplicates against it.
        await packer.flush().catch(() => {});
        throw err;
      }
      const { tree: root, dirs } = await tree.save(repo, packer, codecs, stamp);
      await packer.flush();
      throwIfAborted(signal); // a lock lost meanwhile: the data is stored, but no snapshot is written without the lock
      const snapshot: Snapshot = {
        version: SNAPSHOT_VERSION,
        time: isoNow(clock),
        asset: options.asset,
        hostname: options.host ?? hostName(),
        username: os.userInfo().username,
        paths: [options.location],
        tree: root,
        tags: options.tags ?? [],
        meta: options.meta ?? {},
        tier: options.tier,
        ...(options.kind ? { kind: options.kind } : {}),
        summary: {
          files: totals.files,
          dirs,
          totalBytes: totals.bytes,
          readBytes: totals.bytes,
          newBlobs: packer.stats.blobs,
          newRawBytes: packer.stats.rawBytes,
          newStoredBytes: packer.stats.storedBytes,
          durationMs: clock.now() - started,
        },
        incomplete: [],
        program: PROGRAM,
        ...options.record,
      };
      return await saveNumberedSnapshot(repo, snapshot);
    } finally {
      await session.close();
    }
  } finally {
    await lock.release();
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function msToNs(ms: number): string {
  return String(BigInt(Math.round(ms)) * 1000000n);
}
