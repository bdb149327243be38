/**
 * Buffered or direct: how an operation writes the big files it makes (restored files, and the
 * packs of a local repository).
 *
 * Through the page cache a write returns as soon as its bytes are in memory, and what was just
 * restored is read back from memory when the inference server loads it; on a slow disk that is
 * most of a restore's wall time. Around the cache (O_DIRECT) a write waits for the device, but a
 * 100 GB checkpoint does not evict what the machine serves, and no fresh pages are allocated
 * (less system time: on the bench VM, where fresh pages cost the host a fault each, a buffered
 * restore of the 2 GB base took 5.3-5.6 s with 4.4-4.7 s of system time, direct 2.6-2.7 s).
 *
 * So for restored files `auto` measures rather than guesses: it writes direct while the device
 * keeps up; when a file's writes are what the restore waits for, it tries the page cache for
 * 64 MiB and keeps it (for the rest of that file and the files after it) only where it was
 * clearly faster and the bytes fit in the restore's share of the cache: a quarter of the memory
 * available when it started. Packs are direct in `auto`: a pack is fsynced
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
  /** True to start writing a file of these bytes with O_DIRECT; a buffered choice counts against the operation's share of the cache. */
  direct(bytes: number): boolean;
  /** Watches the writes of one file of `size` bytes and says when to switch. */
  watch(size: number): WriteWatch;
}

/** What one append took: its bytes, the time in its writes, and the time since the append before (waiting for the data). */
export interface WriteSample {
  bytes: number;
  writingMs: number;
  waitingMs: number;
}

export interface WriteWatch {
  /**
   * After an append, written `direct` or not, ending at `position`: true or false to switch to
   * direct or buffered, undefined to go on, 'sync' to make the file durable and say how long that
   * took with `synced`.
   */
  wrote(sample: WriteSample, direct: boolean, position: number): boolean | 'sync' | undefined;
  /** After a 'sync': the datasync's time; answers as `wrote`. */
  synced(ms: number, position: number): boolean | undefined;
}

/** A file's direct writes are judged once it has written this much... */
const JUDGE_FROM = 128 * 1024 * 1024;
/** ...and a buffered trial lasts this long. */
const TRIAL_BYTES = 64 * 1024 * 1024;
/**
 * Direct writes held the restore back when it spent this share of its time in them. On the
 * bench VM a single 1.9 GB file spends 56-84 % (its device writes 1.1 GB/s); with a 240 MB/s
 * disk, over 90 %.
 */
const SLOW_SHARE = 0.8;
/** Buffered writes must be this much faster than direct ones to be kept. */
const BUFFERED_GAIN = 1.5;

const NO_WATCH: WriteWatch = { wrote: () => undefined, synced: () => undefined };

/** Files of `minBytes` and more are written direct as `mode` says, against a share of `availableBytes`. */
export function makeWritePolicy(mode: DirectIo, availableBytes: number, minBytes = DIRECT_MIN_FILE_BYTES): WritePolicy {
  let budget = availableBytes * CACHE_SHARE;
  /** What auto learned: the device's direct rate (bytes/ms) once measured, and whether the page cache beat it. */
  const learned: Learned = { directRate: 0, bufferedPays: false };
  /** Takes `bytes` from the share if they fit. */
  const cache = (bytes: number) => {
    if (bytes > budget) return false;
    budget -= bytes;
    return true;
  };
  return {
    direct(bytes) {
      if (bytes < minBytes || mode === 'never') return false;
      if (mode === 'always' || !learned.bufferedPays) return true;
      return !cache(bytes);
    },
    watch(size) {
      return mode === 'auto' ? watchDevice(size, learned, cache) : NO_WATCH;
    },
  };
}

interface Learned {
  directRate: number;
  bufferedPays: boolean;
}

/**
 * auto's experiment on one file: direct while the device keeps up; when the writes are what the
 * restore waits for, a trial of buffered writes; kept (if the rest fits in the share) only when
 * they were clearly faster, else back to direct for the rest of the file.
 *
 * A buffered write returns once its bytes are in the cache, a direct one once they are on the
 * device: the trial's time includes the datasync that puts its bytes there too. And what a page
 * of the cache costs can change under a file: on a VM whose host takes back the guest's free
 * memory, a fresh page costs a fault in the host, so 64 MiB into recently used memory are fast
 * and the next gigabyte 30x slower (the bench VM: 2 GB buffered in 22 s, 18 s of it in the
 * kernel). Buffered writes are watched in windows of the trial's size, and given up for good
 * once a window is slower than the device was direct.
 */
function watchDevice(size: number, learned: Learned, cache: (bytes: number) => boolean): WriteWatch {
  const direct = { bytes: 0, writingMs: 0, waitingMs: 0 };
  const window = { bytes: 0, writingMs: 0 };
  let phase: 'direct' | 'trial' | 'syncing' | 'buffered' | 'settled' = 'direct';
  let judgedAt = JUDGE_FROM - TRIAL_BYTES;
  const rate = (x: { bytes: number; writingMs: number }) => x.bytes / Math.max(1e-3, x.writingMs);
  const giveUp = () => {
    phase = 'settled';
    learned.bufferedPays = false;
    return true;
  };
  return {
    wrote(sample, isDirect, position) {
      // A file that starts buffered (the page cache paid on an earlier one) is watched from its first write.
      if (phase === 'direct' && !isDirect) phase = 'buffered';
      if (phase === 'direct') {
        direct.bytes += sample.bytes;
        direct.writingMs += sample.writingMs;
        direct.waitingMs += sample.waitingMs;
        if (position - judgedAt < TRIAL_BYTES || size - position < 2 * TRIAL_BYTES) return undefined;
        judgedAt = position;
        if (direct.writingMs < SLOW_SHARE * (direct.writingMs + direct.waitingMs)) return undefined;
        learned.directRate = rate(direct);
        phase = 'trial';
        return false;
      }
      if ((phase !== 'trial' && phase !== 'buffered') || isDirect) return undefined;
      window.bytes += sample.bytes;
      window.writingMs += sample.writingMs;
      if (window.bytes < TRIAL_BYTES) return undefined;
      if (phase === 'trial') {
        phase = 'syncing';
        return 'sync';
      }
      const slower = rate(window) < learned.directRate;
      window.bytes = window.writingMs = 0;
      return slower ? giveUp() : undefined;
    },
    synced(ms, position) {
      if (phase !== 'syncing') return undefined;
      window.writingMs += ms;
      const kept = rate(window) >= BUFFERED_GAIN * learned.directRate && cache(size - position);
      window.bytes = window.writingMs = 0;
      if (!kept) return giveUp();
      phase = 'buffered';
      learned.bufferedPays = true;
      return undefined;
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
