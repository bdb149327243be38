/** Loading all index files into one BlobIndex, and writing new ones. */
import { BlobIndex } from './blob-index.js';
import { decodeIndex, encodeIndex, type IndexedPack } from './index-file.js';
import { listIds, loadObject, saveObject, type Repository } from './repository.js';

export interface LoadedIndex {
  index: BlobIndex;
  indexIds: string[];
}

export async function loadIndex(repo: Repository, concurrency = 8): Promise<LoadedIndex> {
  const indexIds = await listIds(repo.storage, 'index');
  const index = new BlobIndex();
  let next = 0;
  async function worker() {
    while (next < indexIds.length) {
      const id = indexIds[next++];
      for (const pack of decodeIndex(await loadObject(repo, 'index', id), id)) index.addPack(pack.packId, pack.entries);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, indexIds.length) }, worker));
  return { index, indexIds };
}

export async function saveIndex(repo: Repository, packs: readonly IndexedPack[]): Promise<string> {
  return saveObject(repo, 'index', encodeIndex(packs));
}
