/**
 * Loads verified blob plaintexts by id, resolving XOR-delta chains: a delta blob is opened with
 * its base's plaintext, loaded first (recursively, at most the chain depth). A small LRU keeps
 * recent bases, since neighbouring pieces of consecutive checkpoints share chains.
 */
import type { BlobIndex } from '../repo/blob-index.js';
import { FormatError } from '../repo/errors.js';
import { packKey, type Repository } from '../repo/repository.js';
import type { ReplyOf } from './pipeline-protocol.js';
import type { WorkerPool } from './worker-pool.js';

export interface BlobLoader {
  /** The plaintext of a blob, verified against its SHA-256. Do not modify or transfer it: it may be cached. */
  load(id: Uint8Array): Promise<Buffer>;
  /** A transferable copy of a delta base's plaintext, for a worker to decode with. */
  baseFor(id: Uint8Array): Promise<ArrayBuffer | undefined>;
}

const CACHE_ENTRIES = 8;

export function makeBlobLoader(repo: Repository, index: BlobIndex, pool: WorkerPool): BlobLoader {
  const cache = new Map<string, Promise<Buffer>>();

  async function fetchAndOpen(id: Uint8Array): Promise<Buffer> {
    const hex = Buffer.from(id).toString('hex');
    const where = index.get(id);
    if (!where) throw new FormatError(`blob ${hex.slice(0, 12)} is not in the index: the repository is missing data (run "lifeboat check")`);
    const base = where.delta ? await copyOf(await load(where.delta.base)) : undefined;
    const sealed = await repo.storage.get(packKey(where.packId), { offset: where.offset, length: where.storedLength });
    const own = new Uint8Array(sealed).buffer;
    const reply = await pool.request<ReplyOf<'opened'>>(
      pool.pick(),
      { op: 'open', buffer: own, blobs: [{ start: 0, length: where.storedLength, codec: where.codec, rawLength: where.rawLength, id, base }], verify: true },
      base ? [own, base] : [own],
    );
    return Buffer.from(reply.buffer);
  }

  function load(id: Uint8Array): Promise<Buffer> {
    const hex = Buffer.from(id).toString('hex');
    let p = cache.get(hex);
    if (p) {
      cache.delete(hex); // re-insert: most recently used last
    } else {
      p = fetchAndOpen(id);
      p.catch(() => cache.delete(hex));
    }
    cache.set(hex, p);
    while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    return p;
  }

  return {
    load,
    async baseFor(id) {
      const delta = index.get(id)?.delta;
      return delta ? copyOf(await load(delta.base)) : undefined;
    },
  };
}

function copyOf(data: Buffer): ArrayBuffer {
  return new Uint8Array(data).buffer;
}
