/**
 * Collects sealed blobs into packs and stores them; writes an index file every few packs.
 *
 * Ordering (what makes a crash at any moment safe): a blob enters the in-memory index only
 * after its pack is stored; an index file lists only stored packs; the snapshot is written by
 * the caller after flush(), so it never references data that is not stored and indexed.
 * A crash loses at most the packs not yet listed in an index (about INDEX_EVERY packs).
 */
import { sha256Hex } from '../repo/crypto.js';
import type { BlobIndex } from '../repo/blob-index.js';
import type { IndexedPack } from '../repo/index-file.js';
import { saveIndex } from '../repo/index-store.js';
import { encodePackHeader, type BlobType, type DeltaRef, type PackEntry } from '../repo/pack.js';
import { packKey, type Repository } from '../repo/repository.js';

const INDEX_EVERY = 8;
const PUTS_IN_FLIGHT = 1;

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
  readonly stats: PackerStats;
}

export function makePacker(repo: Repository, index: BlobIndex): Packer {
  const claimed = new Set<string>();
  let parts: Buffer[] = [];
  let entries: PackEntry[] = [];
  let size = 0;
  let unindexed: IndexedPack[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const stats: PackerStats = { packs: 0, blobs: 0, rawBytes: 0, storedBytes: 0 };

  async function storePack(packParts: Buffer[], packEntries: PackEntry[]): Promise<void> {
    const bytes = Buffer.concat([...packParts, encodePackHeader(repo.key.data, packEntries)]);
    packParts.length = 0; // the worker buffers the parts point into can go now, not after the upload
    const packId = sha256Hex(bytes);
    await repo.storage.put(packKey(packId), bytes);
    index.addPack(packId, packEntries);
    for (const e of packEntries) claimed.delete(e.id.toString('hex'));
    stats.packs++;
    stats.storedBytes += bytes.length;
    unindexed.push({ packId, entries: packEntries });
    if (unindexed.length >= INDEX_EVERY) await writeIndex();
  }

  async function writeIndex(): Promise<void> {
    if (unindexed.length === 0) return;
    const packs = unindexed;
    unindexed = [];
    await saveIndex(repo, packs);
  }

  async function sealPack(): Promise<void> {
    if (entries.length === 0) return;
    const job = storePack(parts, entries).catch((err) => {
      failure ??= err;
    });
    parts = [];
    entries = [];
    size = 0;
    inFlight.add(job);
    void job.finally(() => inFlight.delete(job));
    while (inFlight.size >= PUTS_IN_FLIGHT) await Promise.race(inFlight);
    if (failure) throw failure;
  }

  return {
    stats,
    knows: (id) => index.has(id) || claimed.has(Buffer.from(id).toString('hex')),
    claim: (id) => void claimed.add(Buffer.from(id).toString('hex')),
    async add(id, type, codec, rawLength, sealed, delta) {
      if (failure) throw failure;
      entries.push({ id, type, codec, offset: size, storedLength: sealed.length, rawLength, delta });
      parts.push(sealed);
      size += sealed.length;
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
  };
}
