/**
 * Reusable read buffers. A backup reads gigabytes through a few buffers of the same size;
 * allocating a fresh one per read costs page faults (system time) and leaves garbage the GC
 * frees late (resident memory). Buffers travel to a worker and come back with its reply.
 */
export interface BufferPool {
  /** A buffer of at least `size` bytes (contents undefined). */
  take(size: number): ArrayBuffer;
  /** Hands a buffer back for reuse. */
  give(buffer: ArrayBuffer): void;
}

export function makeBufferPool(keep: number): BufferPool {
  const free: ArrayBuffer[] = [];
  return {
    take(size) {
      const i = free.findIndex((b) => b.byteLength >= size);
      return i >= 0 ? free.splice(i, 1)[0] : new ArrayBuffer(size);
    },
    give(buffer) {
      if (free.length < keep && buffer.byteLength > 0) free.push(buffer);
    },
  };
}
