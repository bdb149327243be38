/**
 * Cuts a stream (a dump tool's stdout, an S3 object's body) into batches of chunks for the
 * workers, as file-batches.ts does for a file, hashing the whole stream on the way. A stream
 * cannot be read again, so the bytes after the last cut of a buffer are copied to the start of the
 * next one: cut points depend on content only, never on how the stream was delivered, and the
 * same bytes give the same blobs whether they came from a file or a pipe.
 *
 * Memory: one read buffer being filled, plus the batches in flight (bounded by the caller's
 * batch limit); the stream is not read while no buffer is free, so a producer blocks on its pipe.
 */
import { throwIfAborted } from '../base/errors.js';
import { nextCut, type Gear } from '../repo/chunker/fastcdc.js';
import type { BufferPool } from './buffer-pool.js';
import type { Batch } from './file-batches.js';
import type { FileHash } from './hash-thread.js';
import type { ChunkSpan } from './pipeline-protocol.js';

/** As file-batches: 8 MiB reads, at least twice the largest chunk. */
const READ_BYTES = 8 * 1024 * 1024;

export async function* streamBatches(stream: AsyncIterable<Uint8Array>, gear: Gear, fileHash: FileHash, buffers: BufferPool<SharedArrayBuffer>, signal?: AbortSignal): AsyncGenerator<Batch> {
  const size = Math.max(READ_BYTES, 2 * gear.params.maxSize);
  const source = stream[Symbol.asyncIterator]();
  const carry = Buffer.alloc(gear.params.maxSize); // the uncut tail of one buffer, for the next
  let carried = 0;
  let pending: Uint8Array | undefined; // the part of the last piece read that did not fit
  let ended = false;
  try {
    while (!ended || carried > 0 || pending) {
      const buf = Buffer.from(buffers.take(size), 0, size);
      carry.copy(buf, 0, 0, carried);
      let got = carried;
      carried = 0;
      while (got < size && !ended) {
        throwIfAborted(signal);
        let piece = pending;
        pending = undefined;
        if (!piece) {
          const next = await source.next();
          if (next.done) {
            ended = true;
            break;
          }
          piece = next.value;
        }
        const n = Math.min(piece.length, size - got);
        buf.set(piece.subarray(0, n), got);
        got += n;
        if (n < piece.length) pending = piece.subarray(n);
      }
      const final = ended && !pending;
      const chunks: ChunkSpan[] = [];
      let at = 0;
      while (at < got) {
        const length = nextCut(gear, buf, at, got, final);
        if (length < 0) break;
        chunks.push({ start: at, length });
        at += length;
      }
      carried = got - at;
      buf.copy(carry, 0, at, got);
      if (chunks.length === 0) {
        buffers.give(buf.buffer as SharedArrayBuffer);
        continue;
      }
      const hashed = fileHash.update(buf.subarray(0, at));
      hashed.catch(() => {}); // awaited by whoever frees the buffer
      yield { buffer: buf.buffer as SharedArrayBuffer, chunks, hashed };
    }
  } finally {
    // Stopped early (an error, an abort): let the source release what it holds (a pipe, a socket).
    if (!ended) await source.return?.();
  }
}
