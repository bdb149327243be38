import type { Storage } from '../../src/storage/storage.js';

/** The storage, counting the reads (whole or ranges) of each key that reach it. */
export function countingReads(storage: Storage): { storage: Storage; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  return {
    reads,
    storage: {
      ...storage,
      get(key, range, into, signal) {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        return storage.get(key, range, into, signal);
      },
    },
  };
}
