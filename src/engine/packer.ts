/**
 * Collects sealed blobs into packs and stores them; writes an index file every few packs.
 *
 * Ordering (what makes a crash at any moment safe): a blob enters the in-memory index only
 * after its pack is stored; an index file lists only stored packs; the snapshot is written by
 * the caller after flush(), so it never references data that is not stored and indexed.
 * A crash loses at most the packs not yet listed in an index (about INDEX_EVERY packs).
 * `add` copies the sealed blob: the caller may reuse its buffer as soon as add returns.
 */
import { createHash } from 'node:crypto';
import type { BlobIndex } from '../repo/blob-index.js';
import type { IndexedPack } from '../repo/index-file.js';
import { saveIndex } from '../repo/index-store.js';
import { encodePackHeader, type BlobType, type DeltaRef, type PackEntry } from '../repo/pack.js';
import { packKey, type Repository } from '../repo/repository.js';
import { makeBufferPool } from './buffer-pool.js';
import type { WritePolicy } from './page-cache.js';

const INDEX_EVERY = 8;
const PUTS_IN_FLIGHT = 1;
/** Room past the pack size for the blob that crosses it (up to a 4 MiB piece) and the header. */
const PACK_SLACK = 4 * 1024 * 1024 + 64 * 1024;

export interface PackerStats {
  packs: number;
  blobs: number;
  rawBytes: number;
  storedBytes: number;
}

export interface Packer {
  /** True when the blob is stored, or on its way into a pack of this packer. */
  knows(id: Uint8Array): boolean;
  /** Claims a blob id before its data exists (so two batches do not both seal it). */
  claim(id: Uint8Array): void;
  add(id: Buffer, type: BlobType, codec: number, rawLength: number, sealed: Buffer, delta?: DeltaRef): Promise<void>;
  /** Stores the last pack and the last index; afterwards every added blob is durable and indexed. */
  flush(): Promise<void>;
  /** Resolves once no pack is being stored (after a failure, before the operation lets go of its lock). */
  settled(): Promise<void>;
  readonly stats: PackerStats;
}

/** `writes`: which packs a local repository writes around the page cache (page-cache.ts); by default, all of them. */
export function makePacker(repo: Repository, index: BlobIndex, writes?: WritePolicy): Packer {
  const claimed = new Set<string>();
  // A pack is assembled in a reused buffer and hashed as blobs arrive (still in cache): fresh
  // multi-megabyte buffers cost a page fault per 4 KiB, and a second pass over the pack to hash it.
  // Page-aligned, so that a local repository writes packs from them with O_DIRECT.
  const buffers = makeBufferPool(PUTS_IN_FLIGHT + 1, { size: repo.config.packSize + PACK_SLACK, aligned: true });
  let pack = takeBuffer(repo.config.packSize);
  let hash = createHash('sha256');
  let entries: PackEntry[] = [];
  let size = 0;
  let unindexed: IndexedPack[] = [];
  const inFlight = new Set<Promise<void>>();
  /** Set while a full pack waits for the put before it: adds wait too, so at most two pack buffers exist. */
  let sealing: Promise<void> | undefined;
  let failure: unknown;
  const stats: PackerStats = { packs: 0, blobs: 0, rawBytes: 0, storedBytes: 0 };

  function takeBuffer(capacity: number): Buffer {
    return Buffer.from(buffers.take(capacity));
  }

  /** Appends to the pack being assembled, moving it to a bigger buffer when it does not fit. */
  function append(bytes: Uint8Array): void {
    if (size + bytes.length > pack.length) {
      const bigger = takeBuffer(2 * (size + bytes.length));
      pack.copy(bigger, 0, 0, size);
      pack = bigger;
    }
    pack.set(bytes, size);
    hash.update(bytes);
    size += bytes.length;
  }

  async function storePack(buffer: Buffer, length: number, packId: string, packEntries: PackEntry[]): Promise<void> {
    try {
      await repo.storage.put(packKey(packId), buffer.subarray(0, length), { sha256: packId, direct: writes?.direct(length) });
    } finally {
      buffers.give(buffer.buffer as SharedArrayBuffer);
    }
    index.addPack(packId, packEntries);
    for (const e of packEntries) claimed.delete(e.id.toString('hex'));
    stats.packs++;
    stats.storedBytes += length;
    unindexed.push({ packId, entries: packEntries });
    if (unindexed.length >= INDEX_EVERY) await writeIndex();
  }

  async function writeIndex(): Promise<void> {
    if (unindexed.length === 0) return;
    const packs = unindexed;
    unindexed = [];
    await saveIndex(repo, packs);
  }

  /** Starts storing the pack being assembled once fewer than PUTS_IN_FLIGHT are being stored. */
  function sealPack(): Promise<void> {
    sealing ??= startPut().finally(() => (sealing = undefined));
    return sealing;
  }

  async function startPut(): Promise<void> {
    while (inFlight.size >= PUTS_IN_FLIGHT) await Promise.race(inFlight);
    if (failure) throw failure;
    if (entries.length === 0) return;
    append(encodePackHeader(repo.key.data, entries));
    const job = storePack(pack, size, hash.digest('hex'), entries).catch((err) => {
      failure ??= err;
    });
    pack = takeBuffer(repo.config.packSize);
    hash = createHash('sha256');
    entries = [];
    size = 0;
    inFlight.add(job);
    void job.finally(() => inFlight.delete(job));
  }

  return {
    stats,
    knows: (id) => index.has(id) || claimed.has(Buffer.from(id).toString('hex')),
    claim: (id) => void claimed.add(Buffer.from(id).toString('hex')),
    async add(id, type, codec, rawLength, sealed, delta) {
      // While a full pack waits for the put before it, nothing is added (back-pressure on the workers).
      while (sealing) await sealing;
      if (failure) throw failure;
      entries.push({ id, type, codec, offset: size, storedLength: sealed.length, rawLength, delta });
      append(sealed);
      stats.blobs++;
      stats.rawBytes += rawLength;
      if (size >= repo.config.packSize) await sealPack();
    },
    async flush() {
      await sealPack();
      await Promise.all(inFlight);
      if (failure) throw failure;
      await writeIndex();
    },
    async settled() {
      while (sealing || inFlight.size > 0) await Promise.allSettled([sealing, ...inFlight]);
    },
  };
}
