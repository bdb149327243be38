/**
 * A bounded LRU of upstream answers with a TTL. It holds the exact JSON body an upstream returned, so a
 * cached answer is byte-for-byte what a live one was. Time is passed in, so tests need no clock tricks.
 */
import type { Endpoint } from './cache-key.js';

export interface CacheEntry {
  readonly key: string;
  readonly endpoint: Endpoint;
  /** The upstream's JSON response body. */
  readonly body: string;
  /** Which upstream produced it, reported in x-lifeboat-upstream when served. */
  readonly upstream: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface CacheLimits {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export interface ResponseCache {
  get(key: string, now: number): CacheEntry | undefined;
  put(entry: Omit<CacheEntry, 'createdAt' | 'expiresAt'>, now: number): void;
  /** Adds entries read back from disk, skipping expired ones; keeps their original expiry. */
  restore(entries: Iterable<CacheEntry>, now: number): void;
  purge(): number;
  entries(): CacheEntry[];
  stats(): { entries: number; bytes: number };
}

export function createResponseCache(limits: CacheLimits, onChange: () => void = () => {}): ResponseCache {
  const map = new Map<string, CacheEntry>();
  let bytes = 0;

  const remove = (key: string) => {
    const e = map.get(key);
    if (!e) return;
    map.delete(key);
    bytes -= Buffer.byteLength(e.body);
  };
  const insert = (e: CacheEntry) => {
    const size = Buffer.byteLength(e.body);
    if (size > limits.maxBytes) return;
    remove(e.key);
    map.set(e.key, e);
    bytes += size;
    // Map iteration is insertion order, so the first key is the least recently used.
    while (map.size > limits.maxEntries || bytes > limits.maxBytes) remove(map.keys().next().value!);
  };

  return {
    get(key, now) {
      const e = map.get(key);
      if (!e) return undefined;
      if (e.expiresAt <= now) {
        remove(key);
        onChange();
        return undefined;
      }
      map.delete(key);
      map.set(key, e);
      return e;
    },
    put(entry, now) {
      insert({ ...entry, createdAt: now, expiresAt: now + limits.ttlMs });
      onChange();
    },
    restore(entries, now) {
      for (const e of entries) if (e.expiresAt > now) insert(e);
    },
    purge() {
      const n = map.size;
      map.clear();
      bytes = 0;
      onChange();
      return n;
    },
    entries: () => [...map.values()],
    stats: () => ({ entries: map.size, bytes }),
  };
}
