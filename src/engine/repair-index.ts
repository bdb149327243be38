/**
 * Repair index: rebuilds the index from the packs alone, under an exclusive lock.
 *
 * Every pack's sealed header repeats what the index says about it (docs/format.md §6), so the
 * header of each stored pack is read (a range read of its tail, never the blobs) and authenticated,
 * and new index files are written that list exactly the packs whose header reads. Only then are
 * the old index files deleted (§11: a pack is always listed by some stored index while this
 * runs). A pack whose header cannot be read is reported and left where it is: its blobs may
 * still be recoverable by hand, and deleting data is prune's job, not repair's. Stopped, it leaves
 * the old index files and whatever new ones it wrote: together they list every pack still.
 */
import { throwIfAborted } from '../base/errors.js';
import { IndexDamagedError, IntegrityError, RepoError } from '../repo/errors.js';
import type { IndexedPack } from '../repo/index-file.js';
import { loadIndexFile, saveIndexFiles } from '../repo/index-store.js';
import { decodePackHeader, packHeaderRange, type PackEntry } from '../repo/pack.js';
import { listIds, objectKey, packKey, storedPacks, type Repository } from '../repo/repository.js';
import { deleteUnlessLocked } from './object-lock.js';
import { settleAll, underLock, type OperationOptions } from './operation.js';
import { makeLimit } from '../storage/limit.js';

export interface RepairIndexResult {
  /** Packs now indexed (their headers read and authenticated), and the blobs in them. */
  packs: number;
  blobs: number;
  /** Indexed packs that no readable old index file listed (e.g. left by an interrupted backup). */
  packsAdded: number;
  /** Packs a readable old index file listed that are no longer indexed: missing, or their header is damaged. */
  packsDropped: number;
  /** Packs whose header cannot be read: not indexed, left in place. */
  damagedPacks: Array<{ pack: string; problem: string }>;
  /** Old index files that could not be read (they are replaced like the others). */
  damagedIndexes: Array<{ index: string; problem: string }>;
  indexesWritten: number;
  indexesDeleted: number;
  /** Old index files storage refused to delete (Object Lock), with their retention date. */
  lockedIndexes: Array<{ index: string; until: string }>;
}

/** One range read of this many bytes from a pack's end usually holds its whole header. */
const TAIL_BYTES = 64 * 1024;
const TRAILER_BYTES = 4;
/** Packs whose headers are held in memory at once. */
const PACKS_PER_ROUND = 4096;

export async function repairIndex(repo: Repository, options: OperationOptions = {}): Promise<RepairIndexResult> {
  return underLock(repo, 'exclusive', 'repair index', options, async ({ repo, signal }) => {
    const oldIds = await listIds(repo.storage, 'index');
    const result: RepairIndexResult = { packs: 0, blobs: 0, packsAdded: 0, packsDropped: 0, damagedPacks: [], damagedIndexes: [], indexesWritten: 0, indexesDeleted: 0, lockedIndexes: [] };
    const listedBefore = await readablePacks(repo, oldIds, result.damagedIndexes);

    // A round of packs at a time, its index files written before the next: memory stays bounded
    // however many packs there are, and nothing is deleted until every round is written.
    const stored = await storedPacks(repo);
    const packIds = [...stored.keys()].sort();
    const newIds = new Set<string>();
    let stillListed = 0;
    for (let i = 0; i < packIds.length; i += PACKS_PER_ROUND) {
      const packs = await readHeaders(repo, packIds.slice(i, i + PACKS_PER_ROUND), stored, result.damagedPacks, signal);
      for (const p of packs) {
        result.blobs += p.entries.length;
        if (listedBefore.has(p.packId)) stillListed++;
      }
      result.packs += packs.length;
      for (const id of await saveIndexFiles(repo, packs)) newIds.add(id);
    }
    result.packsAdded = result.packs - stillListed;
    result.packsDropped = listedBefore.size - stillListed;
    result.indexesWritten = newIds.size;
    result.damagedPacks.sort((a, b) => a.pack.localeCompare(b.pack));

    // New index files first, then the old ones go: at no instant is an indexed pack unlisted.
    throwIfAborted(signal);
    for (const id of oldIds.filter((i) => !newIds.has(i))) {
      const refused = await deleteUnlessLocked(repo, objectKey('index', id));
      if (refused) result.lockedIndexes.push({ index: id, until: refused });
      else result.indexesDeleted++;
    }
    return result;
  });
}

/** The headers of `packIds`, in that order; packs whose header does not read are noted in `damaged`. */
async function readHeaders(repo: Repository, packIds: string[], sizes: Map<string, number>, damaged: RepairIndexResult['damagedPacks'], signal: AbortSignal): Promise<IndexedPack[]> {
  const limit = makeLimit(8);
  const read = await settleAll(
    packIds.map((packId) =>
      limit.run(async () => {
        try {
          return { packId, entries: await loadPackHeader(repo, packId, sizes.get(packId)!) };
        } catch (err) {
          // Storage errors (unreachable, permission denied) stop the repair before it deletes
          // anything: a pack that could not be fetched is not known to be damaged.
          if (!(err instanceof RepoError)) throw err;
          damaged.push({ pack: packId, problem: err.message });
          return undefined;
        }
      }, signal),
    ),
  );
  return read.filter((p): p is IndexedPack => p !== undefined);
}

/** The packs the readable old index files list; the unreadable ones are noted in `damaged`. */
async function readablePacks(repo: Repository, indexIds: string[], damaged: RepairIndexResult['damagedIndexes']): Promise<Set<string>> {
  const packs = new Set<string>();
  for (const id of indexIds) {
    try {
      for (const p of await loadIndexFile(repo, id)) packs.add(p.packId);
    } catch (err) {
      // Anything else (a newer format, storage unreachable) stops the repair before it changes anything.
      if (!(err instanceof IndexDamagedError)) throw err;
      damaged.push({ index: id, problem: err.message });
    }
  }
  return packs;
}

/** Reads and authenticates one pack's header from storage without reading its blobs. */
export async function loadPackHeader(repo: Repository, packId: string, size: number): Promise<PackEntry[]> {
  if (size < TRAILER_BYTES) throw new IntegrityError(`pack ${packId.slice(0, 12)} is truncated (${size} bytes)`);
  const tailStart = Math.max(0, size - TAIL_BYTES);
  const tail = await repo.storage.get(packKey(packId), { offset: tailStart, length: size - tailStart });
  const { offset, length } = packHeaderRange(size, tail, packId);
  const sealed = offset >= tailStart ? tail.subarray(offset - tailStart, offset - tailStart + length) : await repo.storage.get(packKey(packId), { offset, length });
  const entries = decodePackHeader(repo.key.data, sealed, packId);
  const end = entries.reduce((n, e) => n + e.storedLength, 0);
  if (end !== offset) throw new IntegrityError(`pack ${packId.slice(0, 12)}: its blobs end at byte ${end} but its header starts at ${offset}, so the pack is damaged`);
  return entries;
}
