/**
 * Prune: deletes packs that no snapshot needs any more, under an exclusive lock.
 *
 * Mark: every blob the remaining snapshots reach (trees and data). Sweep, in the order of
 * docs/format.md §11.4: a new index listing the packs that stay is written, then the old index
 * files are deleted, then the packs. A pack goes only when none of its blobs is needed, it is
 * not under Object Lock retention, and no locked index file lists it; everything left for a lock
 * is reported with its date. Packs that are partly needed stay whole (no repacking yet): their
 * unneeded bytes are reported as reclaimable. Packs that no index lists (left by an interrupted
 * backup or copy) are deleted too: the exclusive lock guarantees no writer is adding them now.
 */
import { systemClock } from '../base/clock.js';
import { throwIfAborted } from '../base/errors.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { IntegrityError } from '../repo/errors.js';
import type { IndexedPack } from '../repo/index-file.js';
import { saveIndex } from '../repo/index-store.js';
import { objectKey, packKey, storedPacks, type Repository } from '../repo/repository.js';
import { makeLimit } from '../storage/limit.js';
import { withDeltaBases } from './delta-bases.js';
import { loadIndexMap, type IndexMap } from './index-map.js';
import { deleteUnlessLocked, lockedUntil } from './object-lock.js';
import { underLock, type OperationOptions } from './operation.js';
import { collectBlobs } from './reachable.js';
import { listSnapshots } from './snapshots.js';
import { makeTreeReader } from './trees.js';

export interface PruneOptions extends OperationOptions {
  dryRun?: boolean;
}

export interface PruneResult {
  dryRun: boolean;
  packsDeleted: number;
  bytesFreed: number;
  /** Packs left because they are locked, or listed by a locked index file, until `until`. */
  lockedPacks: Array<{ pack: string; bytes: number; until: string }>;
  /** Index files that could not be deleted (locked); they list only packs that stay. */
  lockedIndexes: Array<{ index: string; until: string }>;
  /** Packs that are partly needed, and the stored bytes of their unneeded blobs. */
  partlyUsedPacks: number;
  reclaimableBytes: number;
  indexesWritten: number;
  indexesDeleted: number;
}

const PACKS_PER_INDEX = 4096;

export async function prune(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  const now = new Date((options.clock ?? systemClock).now());
  return underLock(repo, 'exclusive', 'prune', options, async ({ repo, signal }) => {
    const map = await loadIndexMap(repo);
    // A kept delta keeps its base, and the base's base: they are needed to decode it.
    const used = new Set(withDeltaBases(map.index, await usedBlobs(repo, map)));
    const stored = await storedPacks(repo);
    const result: PruneResult = { dryRun: !!options.dryRun, packsDeleted: 0, bytesFreed: 0, lockedPacks: [], lockedIndexes: [], partlyUsedPacks: 0, reclaimableBytes: 0, indexesWritten: 0, indexesDeleted: 0 };

    // Unneeded packs: every blob unused (a pack whose blobs are all listed first elsewhere counts too).
    const candidates: string[] = [];
    for (const [packId, entries] of map.entriesOf) {
      const needed = entries.filter((e) => used.has(e.id.toString('hex')) && map.index.get(e.id)?.packId === packId);
      if (needed.length === entries.length && entries.length > 0) continue;
      if (needed.length > 0) {
        result.partlyUsedPacks++;
        result.reclaimableBytes += entries.filter((e) => !needed.includes(e)).reduce((n, e) => n + e.storedLength, 0);
      } else candidates.push(packId);
    }
    const unindexed = [...stored.keys()].filter((p) => !map.entriesOf.has(p));

    const indexLocks = new Map<string, Date | undefined>();
    const indexLock = async (id: string) => {
      if (!indexLocks.has(id)) indexLocks.set(id, await lockedUntil(repo, objectKey('index', id), now));
      return indexLocks.get(id);
    };
    const doomed = new Set<string>();
    for (const packId of [...candidates, ...unindexed]) {
      if (!stored.has(packId)) {
        doomed.add(packId); // indexed but already gone: only its index entries remain to drop
        continue;
      }
      let until = await lockedUntil(repo, packKey(packId), now);
      for (const i of map.indexesOf.get(packId) ?? []) {
        const u = await indexLock(i);
        if (u && (!until || u > until)) until = u;
      }
      if (until) result.lockedPacks.push({ pack: packId, bytes: stored.get(packId)!, until: until.toISOString() });
      else doomed.add(packId);
    }
    const indexedDoomed = [...doomed].filter((p) => map.entriesOf.has(p));
    // Safe points are between the steps of §11.4 (and between objects): each order holds for what is done.
    throwIfAborted(signal);
    if (indexedDoomed.length > 0) await rewriteIndex(repo, map, doomed, indexLock, result, !!options.dryRun);

    const limit = makeLimit(8);
    await Promise.all(
      [...doomed].filter((p) => stored.has(p)).map((packId) =>
        limit.run(async () => {
          const refused = options.dryRun ? undefined : await deleteUnlessLocked(repo, packKey(packId));
          if (refused) result.lockedPacks.push({ pack: packId, bytes: stored.get(packId)!, until: refused });
          else {
            result.packsDeleted++;
            result.bytesFreed += stored.get(packId)!;
          }
        }, signal),
      ),
    );
    return result;
  });
}

/** A new index of the packs that stay, then the old index files go (locked ones stay; they list only packs that stay). */
async function rewriteIndex(repo: Repository, map: IndexMap, doomed: Set<string>, indexLock: (id: string) => Promise<Date | undefined>, result: PruneResult, dryRun: boolean): Promise<void> {
  const keep: IndexedPack[] = [...map.entriesOf].filter(([packId]) => !doomed.has(packId)).map(([packId, entries]) => ({ packId, entries }));
  for (let i = 0; i < keep.length; i += PACKS_PER_INDEX) {
    if (!dryRun) await saveIndex(repo, keep.slice(i, i + PACKS_PER_INDEX));
    result.indexesWritten++;
  }
  for (const id of map.indexIds) {
    const until = await indexLock(id);
    const refused = until ? until.toISOString() : dryRun ? undefined : await deleteUnlessLocked(repo, objectKey('index', id));
    if (refused) result.lockedIndexes.push({ index: id, until: refused });
    else result.indexesDeleted++;
  }
}

async function usedBlobs(repo: Repository, map: IndexMap): Promise<Set<string>> {
  const trees = makeTreeReader(repo, map.index, makeCodecSet(repo.config.zstdLevel));
  const visited = new Set<string>();
  const used = new Set<string>();
  const damaged: string[] = [];
  const snapshots = await listSnapshots(repo, (id) => damaged.push(id));
  if (damaged.length > 0) {
    // An unreadable snapshot may still need data that nothing else references: never guess.
    throw new IntegrityError(`snapshot ${damaged[0].slice(0, 12)}${damaged.length > 1 ? ` (and ${damaged.length - 1} more)` : ''} cannot be read, so prune cannot tell which data it needs: nothing was deleted. Run "lifeboat check", then restore the snapshot object or remove it`);
  }
  for (const s of snapshots) {
    const blobs = await collectBlobs(trees, s.snapshot.tree, visited, used);
    for (const t of blobs.trees) used.add(t);
  }
  return used;
}

