/**
 * Backs up one file's bytes: batches from file-batches, hashed in the workers, new chunks
 * sealed and packed. Returns the content list and the whole-file SHA-256. Detects a file that
 * changes while it is read (size, mtime or ctime differ before and after) and reports it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Gear } from '../repo/chunker/fastcdc.js';
import type { FileSplitter, Segment } from '../repo/chunker/chunker.js';
import { BlobType } from '../repo/pack.js';
import type { ContentRef } from '../repo/tree.js';
import { fileBatches, type Batch } from './file-batches.js';
import type { BufferPool } from './buffer-pool.js';
import type { Limit } from './limit.js';
import type { Packer } from './packer.js';
import type { ReplyOf } from './pipeline-protocol.js';
import type { WorkerPool } from './worker-pool.js';

export interface ContentContext {
  pool: WorkerPool;
  packer: Packer;
  gear: Gear;
  splitters: readonly FileSplitter[];
  /** Bounds the batches in memory at once (each 8 MiB or so). */
  batches: Limit;
  buffers: BufferPool;
  nextBatchId: () => number;
  onBytes: (n: number) => void;
  warn: (message: string) => void;
}

export interface FileContent {
  content: ContentRef[];
  sha256: string;
  size: number;
  /** The file changed while it was read (size, mtime or ctime moved). */
  changed: boolean;
}

export async function readFileContent(ctx: ContentContext, path: string): Promise<FileContent> {
  const file = await fs.open(path, 'r');
  try {
    const before = await file.stat({ bigint: true });
    const size = Number(before.size);
    const plan = await planFile(ctx, file, size, path);
    const hash = createHash('sha256');
    const pending: Array<Promise<ContentRef[]>> = [];
    let changed = false;
    const batches = fileBatches(file, size, plan, ctx.gear, hash, ctx.buffers);
    try {
      // Read ahead while earlier batches are in the workers, but only as far as the batch limit allows.
      for (;;) {
        const release = await ctx.batches.acquire();
        const next = await batches.next().catch((err) => {
          release();
          throw err;
        });
        if (next.done) {
          release();
          break;
        }
        const stored = storeBatch(ctx, next.value).finally(release);
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
    const content = mergeZeroRuns((await Promise.all(pending)).flat());
    const after = await file.stat({ bigint: true });
    changed ||= after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs;
    return { content, sha256: hash.digest('hex'), size, changed };
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

/** Phase 1 in a worker (hash), dedup here, phase 2 in the same worker (seal) for new chunks only. */
async function storeBatch(ctx: ContentContext, batch: Batch): Promise<ContentRef[]> {
  const worker = ctx.pool.pick();
  const batchId = ctx.nextBatchId();
  const bytes = batch.chunks.reduce((n, c) => n + c.length, 0);
  const hashed = await ctx.pool.request<ReplyOf<'hashed'>>(
    worker,
    { op: 'hash', batch: batchId, buffer: batch.buffer, chunks: batch.chunks },
    [batch.buffer],
  );
  const ids = Buffer.from(hashed.ids);
  const refs: ContentRef[] = [];
  const select: number[] = [];
  batch.chunks.forEach((c, i) => {
    if (hashed.zero[i]) return void refs.push(c.length);
    const id = ids.subarray(i * 32, i * 32 + 32);
    refs.push(id.toString('hex'));
    if (!ctx.packer.knows(id)) {
      ctx.packer.claim(id);
      select.push(i);
    }
  });
  if (select.length === 0) {
    const dropped = await ctx.pool.request<ReplyOf<'dropped'>>(worker, { op: 'drop', batch: batchId });
    ctx.buffers.give(dropped.input);
  } else {
    const sealed = await ctx.pool.request<ReplyOf<'sealed'>>(worker, {
      op: 'seal',
      batch: batchId,
      select,
    });
    ctx.buffers.give(sealed.input);
    const out = Buffer.from(sealed.buffer);
    let at = 0;
    for (let k = 0; k < select.length; k++) {
      const i = select[k];
      const id = Buffer.from(ids.subarray(i * 32, i * 32 + 32));
      await ctx.packer.add(id, BlobType.data, sealed.codecs[k], batch.chunks[i].length, out.subarray(at, at + sealed.lengths[k]));
      at += sealed.lengths[k];
    }
  }
  ctx.onBytes(bytes);
  return refs;
}

function mergeZeroRuns(refs: ContentRef[]): ContentRef[] {
  const out: ContentRef[] = [];
  for (const r of refs) {
    const last = out[out.length - 1];
    if (typeof r === 'number' && typeof last === 'number') out[out.length - 1] = last + r;
    else out.push(r);
  }
  return out;
}
