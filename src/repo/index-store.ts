/** Loading all index files into one BlobIndex, and writing new ones. */
import { BlobIndex } from './blob-index.js';
import { IndexDamagedError, IntegrityError } from './errors.js';
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
      for (const pack of await loadIndexFile(repo, id)) index.addPack(pack.packId, pack.entries);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, indexIds.length) }, worker));
  return { index, indexIds };
}

/** One index file, decoded; damage of any kind is an IndexDamagedError that names the file, the repository and the way out. */
export async function loadIndexFile(repo: Repository, id: string): Promise<IndexedPack[]> {
  try {
    return decodeIndex(await loadObject(repo, 'index', id), id);
  } catch (err) {
    const why = err instanceof IndexDamagedError ? err.why : err instanceof IntegrityError ? `is damaged (${err.message})` : undefined;
    if (why === undefined) throw err;
    throw new IndexDamagedError(id, why, repo.storage.location, { cause: err });
  }
}

export async function saveIndex(repo: Repository, packs: readonly IndexedPack[]): Promise<string> {
  return saveObject(repo, 'index', encodeIndex(packs));
}

/** Bounds on one index file written by saveIndexFiles: a reader holds a whole file in memory. */
const PACKS_PER_FILE = 4096;
const BLOBS_PER_FILE = 65536;

/** Writes `packs` as as many index files as their size needs; returns their ids. */
export async function saveIndexFiles(repo: Repository, packs: readonly IndexedPack[]): Promise<string[]> {
  const ids: string[] = [];
  let batch: IndexedPack[] = [];
  let blobs = 0;
  for (const pack of packs) {
    if (batch.length > 0 && (batch.length === PACKS_PER_FILE || blobs + pack.entries.length > BLOBS_PER_FILE)) {
      ids.push(await saveIndex(repo, batch));
      batch = [];
      blobs = 0;
    }
    batch.push(pack);
    blobs += pack.entries.length;
  }
  if (batch.length > 0) ids.push(await saveIndex(repo, batch));
  return ids;
}
