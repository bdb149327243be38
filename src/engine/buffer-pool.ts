/**
 * Reusable buffers. A backup or restore moves gigabytes through a few buffers of the same size;
 * allocating a fresh one each time costs page faults (system time) and leaves garbage the GC
 * frees late (resident memory). ArrayBuffers travel to a worker and come back with its reply;
 * SharedArrayBuffers (for data that the hash thread reads too) are shared, never moved.
 */
export interface BufferPool<B extends ArrayBufferLike = ArrayBuffer> {
  /** A buffer of at least `size` bytes (contents undefined). */
  take(size: number): B;
  /** Hands a buffer back for reuse. */
  give(buffer: B): void;
}

export function makeBufferPool(keep: number): BufferPool<ArrayBuffer>;
export function makeBufferPool(keep: number, kind: 'shared'): BufferPool<SharedArrayBuffer>;
export function makeBufferPool(keep: number, kind?: 'shared'): BufferPool<ArrayBufferLike> {
  const free: ArrayBufferLike[] = [];
  return {
    take(size) {
      const i = free.findIndex((b) => b.byteLength >= size);
      if (i >= 0) return free.splice(i, 1)[0];
      return kind === 'shared' ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
    },
    give(buffer) {
      if (free.length < keep && buffer.byteLength > 0) free.push(buffer);
    },
  };
}
