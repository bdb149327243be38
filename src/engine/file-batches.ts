/**
 * Reads a file once, in order, and cuts it into batches of chunks for the workers, hashing the
 * whole file on the way. Content-defined cut points continue across reads: the bytes after the
 * last cut of a read are read again at the start of the next one (from the page cache), so cut
 * points depend on content only, never on read sizes.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Segment } from '../repo/chunker/chunker.js';
import { nextCut, type Gear } from '../repo/chunker/fastcdc.js';
import type { BufferPool } from './buffer-pool.js';
import type { FileHash } from './hash-thread.js';
import type { ChunkSpan } from './pipeline-protocol.js';

export interface Batch {
  buffer: SharedArrayBuffer;
  chunks: ChunkSpan[];
  /** Resolves when the whole-file hash has taken this batch's bytes: the buffer is free after that. */
  hashed: Promise<void>;
}

/** Reads of 8 MiB (at least twice the largest chunk or piece, so every read yields whole chunks): small enough that the few batches in flight stay well under 100 MB. */
const READ_BYTES = 8 * 1024 * 1024;

export async function* fileBatches(file: FileHandle, size: number, plan: readonly Segment[], gear: Gear, fileHash: FileHash, buffers: BufferPool<SharedArrayBuffer>): AsyncGenerator<Batch> {
  let readBytes = Math.max(READ_BYTES, 2 * gear.params.maxSize);
  for (const s of plan) readBytes = Math.max(readBytes, 2 * (s.pieceSize ?? 0)); // a loop: a huge plan must not overflow the stack
  let pos = 0;
  let seg = 0;
  while (pos < size) {
    const want = Math.min(readBytes, size - pos);
    const buf = Buffer.from(buffers.take(readBytes), 0, want);
    const got = await readFully(file, buf, pos);
    if (got < want) throw Object.assign(new Error(`file shrank while being read (at byte ${pos + got} of ${size})`), { code: 'CHANGED' });
    const chunks: ChunkSpan[] = [];
    let at = 0; // offset in buf of the next chunk
    while (at < got) {
      while (seg < plan.length && plan[seg].offset + plan[seg].length <= pos + at) seg++;
      const s = plan[seg];
      const segEnd = s.offset + s.length - pos; // in buf coordinates
      const end = Math.min(segEnd, got);
      const final = segEnd <= got; // the segment ends inside this read
      const length = s.cut === 'fixed' ? fixedCut(s, pos + at, end - at, final) : nextCut(gear, buf, at, end, final);
      if (length < 0) break;
      chunks.push({ start: at, length, dtype: s.dtype, label: s.cut === 'fixed' ? s.label : undefined });
      at += length;
    }
    const hashed = fileHash.update(buf.subarray(0, at));
    hashed.catch(() => {}); // awaited by whoever frees the buffer
    yield { buffer: buf.buffer as SharedArrayBuffer, chunks, hashed };
    pos += at;
  }
}

function fixedCut(s: Segment, fileOffset: number, available: number, final: boolean): number {
  const piece = s.pieceSize ?? s.length;
  const intoPiece = (fileOffset - s.offset) % piece;
  const want = piece - intoPiece;
  if (available >= want) return want;
  return final ? available : -1;
}

async function readFully(file: FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await file.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
