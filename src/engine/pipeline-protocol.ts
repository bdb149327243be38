/** Messages between the main thread and the pipeline workers. */
import type { DType } from '../repo/codec/codec.js';

export interface WorkerInit {
  key: Uint8Array;
  zstdLevel: number;
  /** Copy: the destination repository's key, that 'reseal' seals with. */
  resealKey?: Uint8Array;
}

/** A chunk of a batch buffer: [start, start + length). */
export interface ChunkSpan {
  start: number;
  length: number;
  dtype?: DType;
  /** Stable name of a tensor piece (fixed segments only), to find its delta base in the parent. */
  label?: string;
}

/** A sealed blob inside a fetched byte range, to open. */
export interface BlobSpan {
  start: number;
  length: number;
  codec: number;
  rawLength: number;
  id: Uint8Array;
  /** Plaintext of the delta base, for a codec-3 blob. */
  base?: ArrayBuffer;
}

export type WorkerRequest =
  /** Backup phase 1: hash each chunk (zero chunks get no hash); the worker keeps the (shared) buffer until seal or drop. */
  | { op: 'hash'; batch: number; buffer: SharedArrayBuffer; chunks: ChunkSpan[] }
  /** Backup phase 2: encode and seal the chunks at `select` (into `out` when it is big enough), then forget the batch. */
  | { op: 'seal'; batch: number; select: number[]; bases: Array<ArrayBuffer | null>; out?: ArrayBuffer }
  /** Backup: forget a batch without sealing anything (everything was known). */
  | { op: 'drop'; batch: number }
  /**
   * Restore / check: open, decode and (optionally) verify blobs of a fetched range, writing
   * their plaintexts one after another into `out` from `outOffset` (default 0) when it is big
   * enough (into a new buffer from 0 otherwise).
   */
  | { op: 'open'; buffer: ArrayBuffer | SharedArrayBuffer; blobs: BlobSpan[]; verify: boolean; out?: SharedArrayBuffer; outOffset?: number }
  /** Copy: verify the blobs of a fetched range and re-seal each in place (same length) with the resealKey. */
  | { op: 'reseal'; buffer: SharedArrayBuffer; blobs: BlobSpan[] };

/**
 * What a worker receives: a request with the id its reply carries, or the pool's last message
 * (answer nothing, close the port, and so end once the thread has nothing left to do).
 */
export type WorkerMessage = (WorkerRequest & { requestId: number }) | { op: 'close' };

export type WorkerReply = { requestId: number } & (
  | { op: 'hashed'; ids: ArrayBuffer; zero: Uint8Array }
  | { op: 'sealed'; buffer: ArrayBuffer; lengths: number[]; codecs: number[] }
  | { op: 'dropped' }
  /** `buffer` holds the plaintexts (in `out` from `outOffset`, or from 0). */
  | { op: 'opened'; buffer: ArrayBufferLike; lengths: number[] }
  | { op: 'resealed' }
  | { op: 'error'; name: string; code?: string; message: string; index?: number }
);

/** The reply of one kind. */
export type ReplyOf<K extends WorkerReply['op']> = Extract<WorkerReply, { op: K }>;

/**
 * The buffers of a message that move rather than being shared. Shared memory goes without a
 * transfer, and unlike a transferred ArrayBuffer it is not counted again as new external memory
 * by the isolate that receives it: 8 MiB arriving per request made V8 collect garbage every few.
 */
export function transferable(...buffers: Array<ArrayBufferLike | null | undefined>): ArrayBuffer[] {
  return buffers.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}
