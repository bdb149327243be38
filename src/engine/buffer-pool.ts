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

export interface BufferPoolOptions {
  /**
   * A new buffer has at least this many bytes: when every buffer is as big as the largest usual
   * request, any recycled one fits the next request, and the pool never keeps one too small.
   */
  size?: number;
  /** SharedArrayBuffers rather than ArrayBuffers. */
  shared?: boolean;
  /** Shared and starting on a page boundary, as O_DIRECT needs (implies `shared`). */
  aligned?: boolean;
}

export function makeBufferPool(keep: number, options: BufferPoolOptions & ({ shared: true } | { aligned: true })): BufferPool<SharedArrayBuffer>;
export function makeBufferPool(keep: number, options?: BufferPoolOptions & { shared?: false }): BufferPool<ArrayBuffer>;
export function makeBufferPool(keep: number, options: BufferPoolOptions = {}): BufferPool<ArrayBufferLike> {
  const free: ArrayBufferLike[] = [];
  return {
    take(size) {
      const i = free.findIndex((b) => b.byteLength >= size);
      if (i >= 0) return free.splice(i, 1)[0];
      const bytes = Math.max(size, options.size ?? 0);
      if (options.aligned) return alignedShared(bytes);
      return options.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    },
    give(buffer) {
      if (free.length < keep && buffer.byteLength > 0) free.push(buffer);
    },
  };
}

const WASM_PAGE = 65536;

/**
 * Page-aligned shared memory. A SharedArrayBuffer's memory comes from malloc, 16 bytes past a
 * page boundary; a WebAssembly memory is mapped on its own pages. Where V8 cannot map another
 * (it limits their total address space), an ordinary one serves: a direct write from it fails
 * with EINVAL and the writer falls back to buffered writes.
 */
function alignedShared(bytes: number): SharedArrayBuffer {
  const pages = Math.ceil(bytes / WASM_PAGE);
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer as unknown as SharedArrayBuffer;
  } catch {
    return new SharedArrayBuffer(bytes);
  }
}
