/**
 * Reading the files of a snapshot as streams, for a consumer that is not a directory: pg_restore's
 * stdin, a MariaDB client, an S3 upload. Every blob is verified (GCM tag and its SHA-256) before
 * any of its bytes are handed on, and the whole file's SHA-256 is compared with the snapshot's at
 * the end: a stream that does not match throws instead of finishing, so the consumer's input
 * never simply ends on damaged data. The caller closes its consumer's input only once the stream
 * finished (and kills it when the stream throws).
 *
 * Memory: a few fetches of at most 8 MiB in flight, whatever the size of the file.
 */
import { createHash } from 'node:crypto';
import { throwIfAborted } from '../base/errors.js';
import type { BlobIndex } from '../repo/blob-index.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { FormatError, IntegrityError } from '../repo/errors.js';
import { loadIndex } from '../repo/index-store.js';
import { acquireLock } from '../repo/lock.js';
import { packKey, type Repository } from '../repo/repository.js';
import type { Snapshot } from '../repo/snapshot.js';
import type { FileNode } from '../repo/tree.js';
import { makeBlobLoader, type BlobLoader } from './blob-loader.js';
import type { BlobSpan, ReplyOf } from './pipeline-protocol.js';
import { resolveSnapshot } from './snapshots.js';
import { findNode, makeTreeReader, walkTree, type TreeReader } from './trees.js';
import { startWorkerPool, type WorkerPool } from './worker-pool.js';

export interface SnapshotFile {
  /** Slash-separated, relative to the snapshot root. */
  path: string;
  node: FileNode;
}

export interface SnapshotReader {
  id: string;
  snapshot: Snapshot;
  /** Every file of the snapshot, depth first. */
  files(): Promise<SnapshotFile[]>;
  /** The file at `path`; throws FormatError when there is none. */
  file(path: string): Promise<FileNode>;
  /** The file's bytes in order, verified; throws IntegrityError at the end when the whole file's SHA-256 differs. */
  stream(file: string | FileNode, signal?: AbortSignal): AsyncGenerator<Buffer>;
  /** A small file whole (a manifest). */
  readBytes(path: string): Promise<Buffer>;
  close(): Promise<void>;
}

/** Consecutive blobs of one pack, read with one range request. */
interface Fetch {
  packId: string;
  offset: number;
  length: number;
  rawLength: number;
  blobs: BlobSpan[];
}

const FETCH_BYTES = 8 * 1024 * 1024;
const AHEAD = 4;
const ZEROS = Buffer.alloc(1024 * 1024);

export interface ReaderOptions {
  workers?: number;
}

/** Opens a snapshot for reading under a shared lock, held until close(). */
export async function openSnapshotReader(repo: Repository, spec: string, options: ReaderOptions = {}): Promise<SnapshotReader> {
  const lock = await acquireLock(repo, 'shared', `read ${spec}`);
  let pool: WorkerPool | undefined;
  try {
    const [{ id, snapshot }, { index }] = await Promise.all([resolveSnapshot(repo, spec), loadIndex(repo)]);
    const trees = makeTreeReader(repo, index, makeCodecSet(repo.config.zstdLevel));
    pool = startWorkerPool({ key: repo.key.data, zstdLevel: repo.config.zstdLevel }, options.workers);
    const ctx = { repo, index, pool, loader: makeBlobLoader(repo, index, pool) };
    const file = (path: string) => fileAt(trees, snapshot.tree, path);
    const reader: SnapshotReader = {
      id,
      snapshot,
      files: () => listFiles(trees, snapshot.tree),
      file,
      stream: async function* (f, signal) {
        yield* streamFile(ctx, typeof f === 'string' ? await file(f) : f, signal);
      },
      async readBytes(path) {
        const parts: Buffer[] = [];
        for await (const part of reader.stream(path)) parts.push(part);
        return Buffer.concat(parts);
      },
      async close() {
        await Promise.allSettled([pool?.close(), lock.release()]);
      },
    };
    return reader;
  } catch (err) {
    await Promise.allSettled([pool?.close(), lock.release()]);
    throw err;
  }
}

async function fileAt(trees: TreeReader, root: string, path: string): Promise<FileNode> {
  const node = await findNode(trees, root, path);
  if (node.type !== 'file') throw new FormatError(`${path} in the snapshot is a ${node.type}, not a file`);
  return node;
}

async function listFiles(trees: TreeReader, root: string): Promise<SnapshotFile[]> {
  const out: SnapshotFile[] = [];
  for await (const { path, node } of walkTree(trees, root)) if (node.type === 'file') out.push({ path, node });
  return out;
}

interface StreamContext {
  repo: Repository;
  index: BlobIndex;
  pool: WorkerPool;
  loader: BlobLoader;
}

async function* streamFile(ctx: StreamContext, node: FileNode, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const steps = planSteps(ctx.index, node);
  const hash = createHash('sha256');
  const started: Array<Promise<Buffer> | number> = [];
  const start = (step: number | Fetch) => {
    if (typeof step === 'number') return step;
    const p = fetchVerified(ctx, step);
    p.catch(() => {}); // awaited in order below
    return p;
  };
  let size = 0;
  for (let i = 0; i < steps.length; i++) {
    throwIfAborted(signal);
    while (started.length < steps.length && started.length - i < AHEAD) started.push(start(steps[started.length]));
    const step = started[i];
    started[i] = 0; // yielded data must not live until the file ends
    if (typeof step === 'number') {
      for (let left = step; left > 0; left -= ZEROS.length) {
        const zeros = ZEROS.subarray(0, Math.min(left, ZEROS.length));
        hash.update(zeros);
        size += zeros.length;
        yield zeros;
      }
      continue;
    }
    const data = await step;
    hash.update(data);
    size += data.length;
    yield data;
  }
  const digest = hash.digest('hex');
  if (size !== node.size) throw new IntegrityError(`${node.name}: read ${size} bytes but the snapshot says ${node.size}`);
  if (digest !== node.sha256) throw new IntegrityError(`${node.name}: SHA-256 of the content read is ${digest}, the snapshot recorded ${node.sha256}`);
}

/** Zero runs stay numbers; consecutive blobs of one pack become one fetch of at most FETCH_BYTES. */
function planSteps(index: BlobIndex, node: FileNode): Array<number | Fetch> {
  const steps: Array<number | Fetch> = [];
  let current: Fetch | undefined;
  for (const ref of node.content) {
    if (typeof ref === 'number') {
      steps.push(ref);
      current = undefined;
      continue;
    }
    const id = Buffer.from(ref, 'hex');
    const where = index.get(id);
    if (!where) throw new IntegrityError(`blob ${ref.slice(0, 12)} of ${node.name} is missing from the repository (run "lifeboat check")`);
    const joins = current && current.packId === where.packId && current.offset + current.length === where.offset && current.length + where.storedLength <= FETCH_BYTES && current.rawLength + where.rawLength <= FETCH_BYTES;
    if (!joins) {
      current = { packId: where.packId, offset: where.offset, length: 0, rawLength: 0, blobs: [] };
      steps.push(current);
    }
    current!.blobs.push({ start: current!.length, length: where.storedLength, codec: where.codec, rawLength: where.rawLength, id });
    current!.length += where.storedLength;
    current!.rawLength += where.rawLength;
  }
  return steps;
}

/** One range read, opened and verified blob by blob (SHA-256 against the id) in a worker. */
async function fetchVerified(ctx: StreamContext, fetch: Fetch): Promise<Buffer> {
  const sealed = await ctx.repo.storage.get(packKey(fetch.packId), { offset: fetch.offset, length: fetch.length });
  const blobs = await Promise.all(fetch.blobs.map(async (b) => ({ ...b, base: await ctx.loader.baseFor(b.id) })));
  const own = new Uint8Array(sealed).buffer;
  const bases = blobs.flatMap((b) => (b.base ? [b.base] : []));
  const reply = await ctx.pool.request<ReplyOf<'opened'>>(ctx.pool.pick(), { op: 'open', buffer: own, blobs, verify: true }, [own, ...bases]);
  return Buffer.from(reply.buffer, 0, fetch.rawLength);
}
