/**
 * Reading ahead what a command will read first. A command that restores or backs up reads every
 * snapshot and index object right after opening the repository; the key derivation that opening
 * takes (0.2 s) leaves the network idle. `prefetching` starts reading those objects at once and
 * serves the first whole read of each from what arrived.
 *
 * Only for objects that never change once written (snapshots, index files: named by the hash of
 * their content), so an early copy is as good as a late one. Listings always go to the storage,
 * so a command still sees exactly the objects that exist when it lists them (after its lock).
 */
import { makeLimit } from './limit.js';
import type { Storage } from './storage.js';

/** Reads in flight for the read-ahead: the storage's other requests (the key, the lock) still find room. */
const PREFETCH_IN_FLIGHT = 4;

export function prefetching(storage: Storage, prefixes: string[]): Storage {
  const early = new Map<string, Promise<Buffer>>();
  /** Keys the command read itself before the listing reached them: not read again. */
  const asked = new Set<string>();
  const limit = makeLimit(PREFETCH_IN_FLIGHT);
  void (async () => {
    for (const prefix of prefixes) {
      for await (const object of storage.list(prefix)) {
        if (asked.has(object.key)) continue;
        // Queued at once, so a command that asks before its turn waits for it instead of reading it twice.
        const read = limit.run(() => storage.get(object.key));
        read.catch(() => {});
        early.set(object.key, read);
      }
    }
  })().catch(() => {}); // a failed read-ahead only means the command reads for itself

  return {
    ...storage,
    get(key, range, into, signal) {
      if (range) return storage.get(key, range, into, signal);
      const read = early.get(key);
      if (!read) {
        asked.add(key);
        return storage.get(key, undefined, undefined, signal);
      }
      early.delete(key);
      // Read again rather than fail on what went wrong early (the command's own read reports it).
      return read.catch(() => storage.get(key, undefined, undefined, signal));
    },
  };
}
