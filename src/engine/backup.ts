/**
 * Backup: walks a source path, stores what changed since the parent snapshot of the same asset,
 * and writes a snapshot last. Unchanged files (same size, mtime, ctime, inode as in the parent)
 * are not read at all.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import { hostName, isoNow, systemClock, type Clock } from '../base/clock.js';
import path from 'node:path';
import type { BigIntStats } from 'node:fs';
import type { FileSplitter } from '../repo/chunker/chunker.js';
import { makeGear } from '../repo/chunker/fastcdc.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { loadIndex } from '../repo/index-store.js';
import { acquireLock } from '../repo/lock.js';
import { DEFAULT_MAX_DELTA_DEPTH } from '../repo/config.js';
import type { Repository } from '../repo/repository.js';
import { SNAPSHOT_VERSION, type Snapshot } from '../repo/snapshot.js';
import type { FileNode, Node, Tree } from '../repo/tree.js';
import { makeBlobLoader } from './blob-loader.js';
import { makeBufferPool } from './buffer-pool.js';
import { startHashThread } from './hash-thread.js';
import { readFileContent, SEALED_BUFFER_BYTES, type ContentContext } from './file-content.js';
import { makeLimit } from '../storage/limit.js';
import { makePacker } from './packer.js';
import { PROGRAM } from './program.js';
import { latestOf, listSnapshots, resolveSnapshot, saveSnapshot, type StoredSnapshot } from './snapshots.js';
import { makeTreeReader, saveTree, type TreeReader } from './trees.js';
import { startWorkerPool } from './worker-pool.js';

export interface BackupOptions {
  asset: string;
  /** One directory (its contents become the snapshot root) or files and directories (each by name). */
  paths: string[];
  tags?: string[];
  meta?: Record<string, string>;
  tier?: number;
  /** Parent snapshot id; default: the latest snapshot of the asset. `null`: none (read everything). */
  parent?: string | null;
  splitters?: readonly FileSplitter[];
  workers?: number;
  onProgress?: (progress: BackupProgress) => void;
  onWarning?: (message: string) => void;
  clock?: Clock;
  /** The host the snapshot records (lifeboat serve --host); default this machine's name. */
  host?: string;
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

type NodeBase = Pick<FileNode, 'name' | 'mode' | 'mtimeNs' | 'uid' | 'gid'>;

/** How many times a file that changes while read is read again before it is stored as it was read. */
const CHANGED_RETRIES = 2;

export async function backup(repo: Repository, options: BackupOptions): Promise<BackupResult> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const sources = await Promise.all(options.paths.map(async (p) => ({ abs: path.resolve(p), stat: await fs.lstat(p) })));
  const lock = await acquireLock(repo, 'shared', `backup ${options.asset}`);
  const pool = startWorkerPool({ key: repo.key.data, zstdLevel: repo.config.zstdLevel }, options.workers);
  const hasher = startHashThread();
  try {
    const { index } = await loadIndex(repo);
    const codecs = makeCodecSet(repo.config.zstdLevel);
    const trees = makeTreeReader(repo, index, codecs);
    const parent = await findParent(repo, options);
    const parentSnap = parent?.snapshot;
    const packer = makePacker(repo, index);
    // The pre-walk for a total (progress, ETA) stats every file a second time: only when someone watches.
    const progress: BackupProgress = { files: 0, bytesDone: 0, bytesTotal: options.onProgress ? await totalBytes(sources.map((s) => s.abs)) : 0 };
    const incomplete: Snapshot['incomplete'] = [];
    const warn = (message: string) => options.onWarning?.(message);
    let batchId = 0;
    const ctx: ContentContext = {
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
    };
    const counts = { files: 0, dirs: 0, totalBytes: 0, readBytes: 0 };
    const files = makeLimit(4);

    async function fileNode(abs: string, base: NodeBase, st: BigIntStats, old: Node | undefined): Promise<FileNode | undefined> {
      const size = Number(st.size);
      counts.files++;
      counts.totalBytes += size;
      const stamp = { size, inode: Number(st.ino), ctimeNs: String(st.ctimeNs) };
      if (old?.type === 'file' && !old.incomplete && old.size === stamp.size && old.inode === stamp.inode && old.mtimeNs === base.mtimeNs && old.ctimeNs === stamp.ctimeNs && contentKnown(old)) {
        ctx.onBytes(size);
        progress.files++;
        return { ...old, ...base };
      }
      return files.run(async () => {
        try {
          for (let attempt = 0; ; attempt++) {
            const read = await readFileContent(ctx, abs, parentPieces(old));
            counts.readBytes += read.size;
            if (read.changed && attempt < CHANGED_RETRIES) continue;
            const now = await fs.lstat(abs, { bigint: true });
            const node: FileNode = { type: 'file', ...base, mtimeNs: String(now.mtimeNs), size: read.size, sha256: read.sha256, content: read.content, inode: Number(now.ino), ctimeNs: String(now.ctimeNs) };
            if (read.labels) node.labels = read.labels;
            if (read.changed) {
              node.incomplete = 'changed while being read; stored as read';
              incomplete.push({ path: abs, reason: node.incomplete });
              warn(`${abs}: changed while being read ${CHANGED_RETRIES + 1} times; stored as last read and marked incomplete`);
            }
            return node;
          }
        } catch (err) {
          // Only a failing system call on the file makes it unreadable; a repository write or
          // pipeline failure must fail the backup, not leave files out of an "incomplete" snapshot.
          if (typeof (err as NodeJS.ErrnoException).syscall !== 'string') throw err;
          const reason = (err as Error).message;
          incomplete.push({ path: abs, reason });
          warn(`${abs}: cannot read (${reason}); left out of the snapshot`);
          return undefined;
        } finally {
          progress.files++;
        }
      });
    }

    function contentKnown(node: FileNode): boolean {
      return node.content.every((ref) => typeof ref === 'number' || index.has(Buffer.from(ref, 'hex')));
    }

    async function nodeFor(abs: string, name: string, old: Node | undefined): Promise<Node | undefined> {
      let st: BigIntStats;
      try {
        st = await fs.lstat(abs, { bigint: true });
      } catch (err) {
        incomplete.push({ path: abs, reason: (err as Error).message });
        warn(`${abs}: cannot stat (${(err as Error).message}); left out`);
        return undefined;
      }
      const base: NodeBase = { name, mode: Number(st.mode) & 0o7777, mtimeNs: String(st.mtimeNs), uid: Number(st.uid), gid: Number(st.gid) };
      if (st.isFile()) return fileNode(abs, base, st, old);
      if (st.isSymbolicLink()) return { type: 'symlink', ...base, target: await fs.readlink(abs) };
      if (st.isDirectory()) {
        counts.dirs++;
        const subtree = await dirTree(abs, old?.type === 'dir' ? old.subtree : undefined);
        return subtree === undefined ? undefined : { type: 'dir', ...base, subtree };
      }
      warn(`${abs}: skipped (not a regular file, directory or symlink)`);
      return undefined;
    }

    async function dirTree(abs: string, oldTreeId: string | undefined): Promise<string | undefined> {
      let names: string[];
      try {
        names = (await fs.readdir(abs)).sort();
      } catch (err) {
        incomplete.push({ path: abs, reason: (err as Error).message });
        warn(`${abs}: cannot list (${(err as Error).message}); left out`);
        return undefined;
      }
      const old = await oldNodes(trees, oldTreeId);
      const nodes = await Promise.all(names.map((n) => nodeFor(path.join(abs, n), n, old.get(n))));
      return saveTree(repo, packer, codecs, { nodes: nodes.filter((n): n is Node => n !== undefined) });
    }

    let rootTree: string;
    const parentRoot = parentSnap ? await oldNodes(trees, parentSnap.tree) : new Map<string, Node>();
    if (sources.length === 1 && sources[0].stat.isDirectory()) {
      counts.dirs++;
      rootTree = (await dirTree(sources[0].abs, parentSnap?.tree)) ?? (await saveTree(repo, packer, codecs, { nodes: [] }));
    } else {
      const nodes = await Promise.all(sources.map((s) => nodeFor(s.abs, path.basename(s.abs), parentRoot.get(path.basename(s.abs)))));
      const tree: Tree = { nodes: nodes.filter((n): n is Node => n !== undefined).sort((a, b) => (a.name < b.name ? -1 : 1)) };
      rootTree = await saveTree(repo, packer, codecs, tree);
    }
    await packer.flush();

    const snapshot: Snapshot = {
      version: SNAPSHOT_VERSION,
      time: isoNow(clock),
      asset: options.asset,
      hostname: options.host ?? hostName(),
      username: os.userInfo().username,
      paths: sources.map((s) => s.abs),
      tree: rootTree,
      parent: parent?.id,
      tags: options.tags ?? [],
      meta: options.meta ?? {},
      tier: options.tier,
      summary: {
        ...counts,
        newBlobs: packer.stats.blobs,
        newRawBytes: packer.stats.rawBytes,
        newStoredBytes: packer.stats.storedBytes,
        durationMs: clock.now() - started,
      },
      incomplete,
      program: PROGRAM,
    };
    const snapshotId = await saveSnapshot(repo, snapshot);
    return { snapshotId, snapshot };
  } finally {
    await Promise.all([pool.close(), hasher.close()]);
    await lock.release();
  }
}

/** The snapshot to compare against: the one named (any spec resolveSnapshot takes), none, or the asset's latest. */
async function findParent(repo: Repository, options: BackupOptions): Promise<StoredSnapshot | undefined> {
  if (options.parent === null) return undefined;
  if (options.parent) return resolveSnapshot(repo, options.parent);
  return latestOf(await listSnapshots(repo), options.asset);
}

/** The parent's tensor pieces of a file, by label, for delta encoding. */
function parentPieces(old: Node | undefined): Map<string, string> {
  const pieces = new Map<string, string>();
  if (old?.type !== 'file' || !old.labels) return pieces;
  old.labels.forEach((label, i) => {
    const ref = old.content[i];
    if (label !== null && typeof ref === 'string') pieces.set(label, ref);
  });
  return pieces;
}

async function oldNodes(trees: TreeReader, treeId: string | undefined): Promise<Map<string, Node>> {
  if (!treeId) return new Map();
  try {
    return new Map((await trees.load(treeId)).nodes.map((n) => [n.name, n]));
  } catch {
    return new Map(); // an unreadable parent only costs re-reading
  }
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
