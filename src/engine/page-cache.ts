/**
 * Buffered or direct: how an operation writes the big files it makes (restored files, and the
 * packs of a local repository).
 *
 * Through the page cache a write returns as soon as its bytes are in memory, and what was just
 * restored is read back from memory when the inference server loads it; on a slow disk that is
 * most of a restore's wall time. Around the cache (O_DIRECT) a write waits for the device, but a
 * 100 GB checkpoint does not evict what the machine serves, and no fresh pages are allocated
 * (less system time). `auto` keeps the cache for what fits in it comfortably: an operation writes
 * buffered until the bytes it has written so would pass a quarter of the memory available when
 * it started, and direct after that.
 */
import os from 'node:os';

export type DirectIo = 'auto' | 'always' | 'never';
export const DIRECT_IO_MODES: readonly DirectIo[] = ['auto', 'always', 'never'];

/** Files smaller than this always go through the page cache: a direct write waits for the device, which many small files would feel. */
export const DIRECT_MIN_BYTES = 16 * 1024 * 1024;

/** The share of available memory an operation may fill with the pages it writes, in auto mode. */
const CACHE_SHARE = 0.25;

/** Decides, file by file, whether one operation writes around the page cache. */
export interface WritePolicy {
  /** True to write these bytes with O_DIRECT; a buffered choice counts against the operation's share of the cache. */
  direct(bytes: number): boolean;
}

export function makeWritePolicy(mode: DirectIo, availableBytes: number): WritePolicy {
  let budget = availableBytes * CACHE_SHARE;
  return {
    direct(bytes) {
      if (bytes < DIRECT_MIN_BYTES || mode === 'never') return false;
      if (mode === 'always' || bytes > budget) return true;
      budget -= bytes;
      return false;
    },
  };
}

/** The memory the kernel can give the page cache now: MemAvailable (what os.freemem reads), or less under a cgroup limit. */
export function availableMemory(): number {
  const limit = process.constrainedMemory?.() ?? 0;
  const inCgroup = limit > 0 && limit < os.totalmem() ? Math.max(0, limit - process.memoryUsage.rss()) : Infinity;
  return Math.min(os.freemem(), inCgroup);
}

/** The write policy of an operation starting now. */
export function writePolicyFor(mode: DirectIo = 'auto'): WritePolicy {
  return makeWritePolicy(mode, mode === 'auto' ? availableMemory() : 0);
}
