/**
 * Writing a restored file in file order, in whole blocks, with O_DIRECT when the write policy
 * says so (page-cache.ts). It times each append and tells the policy's watch, which may switch
 * the rest of the file between direct and buffered writes (auto's trial of the page cache).
 *
 * Why direct: a buffered write copies every byte into the page cache, and allocating those pages
 * is most of a restore's system time (on a VM each fresh page also costs the host a fault). For a
 * checkpoint of tens of gigabytes the cache cannot keep it anyway; a direct write goes from our
 * buffer to the device and leaves the cache to what the machine is serving.
 *
 * O_DIRECT wants block-aligned file offsets, lengths and memory. The caller decodes each piece of
 * the file into page-aligned memory at `lead = position % BLOCK`, with a block of room after it;
 * the writer fills the lead with the bytes of the file's current block that came before (its
 * carry), pads the end with zeros and writes whole blocks. The padded last block is written again,
 * complete, with the next piece; the file is cut to its size at the end. Blocks that are all zeros
 * are not written, so holes stay holes. Where the filesystem refuses O_DIRECT (EINVAL on open or
 * on a write), the file is reopened and written through the page cache, with the same blocks.
 *
 * Through the page cache, the writer writes behind: every WRITE_BEHIND_BYTES it starts a
 * datasync of what it wrote so far (one at a time, not waited for), so the device writes while
 * the restore decodes, the pages stay cached (clean) for whoever loads the model next, and a
 * `sync` after the restore finds little left to write.
 */
import fs from 'node:fs/promises';
import { monotonicMs } from '../base/clock.js';
import { isZero } from '../repo/chunker/fastcdc.js';
import { setTimes } from './file-times.js';
import type { WritePolicy } from './page-cache.js';

export const BLOCK = 4096;
const WRITE_BEHIND_BYTES = 64 * 1024 * 1024;
const O_DIRECT = fs.constants.O_DIRECT ?? 0;

export interface BlockWriter {
  /** Bytes appended so far (the position in the file of the next piece). */
  readonly position: number;
  /** True while writes bypass the page cache. */
  readonly direct: boolean;
  /**
   * Appends `buffer[lead, lead + length)`, where lead = position % BLOCK. `buffer[0, lead)` is
   * overwritten; `buffer` must reach at least to the block boundary after the piece.
   */
  append(buffer: Buffer, length: number): Promise<void>;
  /** Appends `n` zero bytes, left as a hole. */
  appendZeros(n: number): void;
  /** Sets the file's size, mode and times and closes it. */
  finish(mode: number, mtimeNs: string): Promise<void>;
  /** Closes the file without finishing it. */
  abort(): Promise<void>;
}

/** Creates `path` (which must not exist) at `size` bytes, all a hole, for appending, direct or not as `writes` says. */
export async function createBlockWriter(path: string, size: number, writes: WritePolicy): Promise<BlockWriter> {
  let direct = O_DIRECT !== 0 && writes.direct(size);
  let file = await openNew(path, direct).catch((err: NodeJS.ErrnoException) => {
    if (!direct || err.code !== 'EINVAL') throw err;
    direct = false;
    return openNew(path, false);
  });
  await file.truncate(size).catch(async (err) => {
    await file.close();
    throw err;
  });
  let position = 0;
  // The bytes of the current block before `position`; past them it holds zeros.
  const carry = Buffer.alloc(BLOCK);
  let flushing: Promise<void> | undefined;
  let flushedTo = 0;
  const watch = writes.watch(size);
  let lastEnd = -1;

  /** Reopens the file direct or buffered; false where the filesystem refuses O_DIRECT. */
  async function reopen(wantDirect: boolean): Promise<boolean> {
    const reopened = await fs.open(path, fs.constants.O_WRONLY | (wantDirect ? O_DIRECT : 0)).catch((err: NodeJS.ErrnoException) => {
      if (wantDirect && err.code === 'EINVAL') return undefined;
      throw err;
    });
    if (!reopened) return false;
    await flushing; // it writes back through the handle about to close
    await file.close();
    file = reopened;
    direct = wantDirect;
    return true;
  }

  /** Buffered: starts writing back what was written so far, unless a datasync is on its way already. */
  function writeBehind(): void {
    if (direct || flushing || position - flushedTo < WRITE_BEHIND_BYTES) return;
    const upTo = position;
    const handle = file;
    flushing = handle.datasync().then(
      () => {
        flushedTo = upTo;
        flushing = undefined;
      },
      () => {
        flushing = undefined; // a failed write-back is not the restore's failure: its writes report their own errors
      },
    );
  }

  /** Makes what was written durable (a write-behind on its way first); how long that took, in ms. */
  async function durable(): Promise<number> {
    const began = monotonicMs();
    await flushing;
    await file.datasync();
    flushedTo = position;
    return monotonicMs() - began;
  }

  async function writeBlocks(data: Buffer, at: number): Promise<void> {
    try {
      await writeAll(file, data, at);
    } catch (err) {
      if (!direct || (err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      // This filesystem (or this memory) does not take direct writes: the page cache then.
      await reopen(false);
      await writeAll(file, data, at);
    }
  }

  return {
    get position() {
      return position;
    },
    get direct() {
      return direct;
    },
    async append(buffer, length) {
      const lead = position % BLOCK;
      const end = lead + length;
      const padded = Math.ceil(end / BLOCK) * BLOCK;
      if (buffer.length < padded) throw new RangeError(`a piece of ${length} bytes at lead ${lead} needs a buffer of ${padded} bytes, not ${buffer.length}`);
      carry.copy(buffer, 0, 0, lead);
      buffer.fill(0, end, padded);
      const start = position - lead;
      const began = monotonicMs();
      const wasDirect = direct;
      for (const [from, to] of nonZeroRuns(buffer, padded)) await writeBlocks(buffer.subarray(from, to), start + from);
      const tail = end % BLOCK;
      carry.fill(0);
      if (tail) buffer.copy(carry, 0, end - tail, end);
      position += length;
      const ended = monotonicMs();
      const sample = { bytes: length, writingMs: ended - began, waitingMs: lastEnd < 0 ? 0 : began - lastEnd };
      lastEnd = ended;
      let switchTo = wasDirect === direct ? watch.wrote(sample, direct, position) : undefined;
      if (switchTo === 'sync') switchTo = watch.synced(await durable(), position);
      if (switchTo !== undefined && switchTo !== direct && O_DIRECT !== 0) await reopen(switchTo);
      writeBehind();
    },
    appendZeros(n) {
      const lead = position % BLOCK;
      // Within the block the carry already reads as zeros past `lead`; a new block starts all zeros.
      if (lead + n >= BLOCK) carry.fill(0);
      position += n;
    },
    async finish(mode, mtimeNs) {
      await flushing;
      await file.truncate(position);
      await file.chmod(mode);
      await setTimes(file, mtimeNs);
      await file.close();
    },
    async abort() {
      await flushing;
      await file.close().catch(() => {});
    },
  };
}

function openNew(path: string, direct: boolean): Promise<fs.FileHandle> {
  const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
  return fs.open(path, O_WRONLY | O_CREAT | O_EXCL | (direct ? O_DIRECT : 0), 0o600);
}

/** Block-aligned [from, to) runs of `data[0, length)` that are not all zeros. */
function* nonZeroRuns(data: Buffer, length: number): Generator<[number, number]> {
  let run = -1;
  for (let at = 0; at < length; at += BLOCK) {
    const end = at + BLOCK;
    // Most blocks of real data fail on the first or last byte, without a full compare.
    const zero = data[at] === 0 && data[end - 1] === 0 && isZero(data, at, end);
    if (!zero && run < 0) run = at;
    if (zero && run >= 0) {
      yield [run, at];
      run = -1;
    }
  }
  if (run >= 0) yield [run, length];
}

async function writeAll(file: fs.FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await file.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}
