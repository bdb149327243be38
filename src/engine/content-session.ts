/**
 * What storing content needs, set up once per backup: the index, the worker pool, the hash thread,
 * the packer and the bounded buffers (the same context backup.ts builds for files), and closing
 * it all again. Stream backups use it; it holds no lock (the caller takes one first).
 */
import type { FileSplitter } from '../repo/chunker/chunker.js';
import { makeGear } from '../repo/chunker/fastcdc.js';
import type { BlobIndex } from '../repo/blob-index.js';
import { makeCodecSet, type CodecSet } from '../repo/codec/all.js';
import { DEFAULT_MAX_DELTA_DEPTH } from '../repo/config.js';
import { loadIndex } from '../repo/index-store.js';
import type { Repository } from '../repo/repository.js';
import { makeBlobLoader } from './blob-loader.js';
import { makeBufferPool } from './buffer-pool.js';
import { SEALED_BUFFER_BYTES, type ContentContext } from './file-content.js';
import { startHashThread } from './hash-thread.js';
import { makeLimit } from '../storage/limit.js';
import { packWritePolicy, type DirectIo } from './page-cache.js';
import { makePacker, type Packer } from './packer.js';
import { startWorkerPool } from './worker-pool.js';

export interface ContentSession {
  ctx: ContentContext;
  index: BlobIndex;
  packer: Packer;
  codecs: CodecSet;
  close(): Promise<void>;
}

export interface ContentSessionOptions {
  workers?: number;
  splitters?: readonly FileSplitter[];
  onBytes?: (n: number) => void;
  warn?: (message: string) => void;
  /** Packs of a local repository: through the page cache or around it (page-cache.ts). */
  directIo?: DirectIo;
}

export async function openContentSession(repo: Repository, options: ContentSessionOptions = {}): Promise<ContentSession> {
  const pool = startWorkerPool({ key: repo.key.data, zstdLevel: repo.config.zstdLevel }, options.workers);
  const hasher = startHashThread();
  const close = async () => {
    await Promise.all([pool.close(), hasher.close()]);
  };
  try {
    const { index } = await loadIndex(repo);
    const packer = makePacker(repo, index, packWritePolicy(options.directIo));
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
      onBytes: options.onBytes ?? (() => {}),
      warn: options.warn ?? (() => {}),
    };
    return { ctx, index, packer, codecs: makeCodecSet(repo.config.zstdLevel), close };
  } catch (err) {
    await close();
    throw err;
  }
}
