/**
 * The index with where it came from: which index files list each pack, and each pack's entries as
 * its index file has them. Prune rewrites the index from it; retention extends the index files a
 * snapshot's packs are listed in.
 */
import { BlobIndex } from '../repo/blob-index.js';
import type { IndexedPack } from '../repo/index-file.js';
import { loadIndexFile } from '../repo/index-store.js';
import { listIds, type Repository } from '../repo/repository.js';

/** Which index files list each pack (with its entries), and where every blob is. */
export interface IndexMap {
  index: BlobIndex;
  indexesOf: Map<string, string[]>;
  /** Every pack's entries as its index file lists them (duplicates across packs included). */
  entriesOf: Map<string, IndexedPack['entries']>;
  indexIds: Set<string>;
}
export async function loadIndexMap(repo: Repository): Promise<IndexMap> {
  const map: IndexMap = { index: new BlobIndex(), indexesOf: new Map(), entriesOf: new Map(), indexIds: new Set() };
  for (const id of await listIds(repo.storage, 'index')) addIndex(map, id, await loadIndexFile(repo, id));
  return map;
}

/** Adds what index file `indexId` lists. */
export function addIndex(map: IndexMap, indexId: string, packs: readonly IndexedPack[]): void {
  map.indexIds.add(indexId);
  for (const p of packs) {
    map.index.addPack(p.packId, p.entries);
    if (!map.entriesOf.has(p.packId)) map.entriesOf.set(p.packId, p.entries);
    const list = map.indexesOf.get(p.packId) ?? [];
    if (!list.includes(indexId)) list.push(indexId);
    map.indexesOf.set(p.packId, list);
  }
}
