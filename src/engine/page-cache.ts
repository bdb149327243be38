/**
 * Buffered or direct: how an operation writes the big files it makes (restored files, and the
 * packs of a local repository).
 *
 * Through the page cache a write returns as soon as its bytes are in memory, and what was just
 * restored is read back from memory when the inference server loads it; on a slow disk that is
 * most of a restore's wall time. Around the cache (O_DIRECT) a write waits for the device, but a
 * 100 GB checkpoint does not evict what the machine serves, and no fresh pages are allocated
 * (less system time). For restored files `auto` keeps the cache for what fits in it comfortably:
 * a restore writes buffered until the bytes it has written so would pass a quarter of the memory
 * available when it started, and direct after that. Packs are direct in `auto`: a pack is fsynced
 * as soon as it is written, so its write waits for the device either way, and it is read again
 * only by a restore; through the cache it would only cost page allocations (on the bench VM a
 * backup of the 2 GB base took 9.5-10.2 s with buffered packs against 6.1-7.6 s direct).
 */
import os from 'node:os';

export type DirectIo = 'auto' | 'always' | 'never';
export const DIRECT_IO_MODES: readonly DirectIo[] = ['auto', 'always', 'never'];

/** Restored files smaller than this always go through the page cache: a direct write waits for the device, which many small files would feel. */
export const DIRECT_MIN_FILE_BYTES = 16 * 1024 * 1024;
/** Smaller packs (the last of a backup, tree packs) go through the page cache. */
const DIRECT_MIN_PACK_BYTES = 1024 * 1024;

/** The share of available memory an operation may fill with the pages it writes, in auto mode. */
const CACHE_SHARE = 0.25;

/** Decides, file by file, whether one operation writes around the page cache. */
export interface WritePolicy {
  /** True to write these bytes with O_DIRECT; a buffered choice counts against the operation's share of the cache. */
  direct(bytes: number): boolean;
}

/** Files of `minBytes` and more are written direct as `mode` says, against a share of `availableBytes`. */
export function makeWritePolicy(mode: DirectIo, availableBytes: number, minBytes = DIRECT_MIN_FILE_BYTES): WritePolicy {
  let budget = availableBytes * CACHE_SHARE;
  return {
    direct(bytes) {
      if (bytes < minBytes || mode === 'never') return false;
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

/** How a restore starting now writes its files. */
export function fileWritePolicy(mode: DirectIo = 'auto'): WritePolicy {
  return makeWritePolicy(mode, mode === 'auto' ? availableMemory() : 0);
}

/** How an operation writes the packs of a local repository: in auto, as in always. */
export function packWritePolicy(mode: DirectIo = 'auto'): WritePolicy {
  return makeWritePolicy(mode === 'never' ? 'never' : 'always', 0, DIRECT_MIN_PACK_BYTES);
}
