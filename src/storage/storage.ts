/**
 * The storage layer: one small interface that every backend (local directory, S3) implements.
 *
 * Keys are slash-separated relative names such as `config`, `keys/<id>`, `data/ab/<id>`,
 * `index/<id>`, `snapshots/<id>`, `locks/<id>`. Objects are immutable once written, except
 * `locks/*`, which are deleted. Backends never interpret the bytes.
 *
 * Every request takes an optional AbortSignal (put: in its options): once it fires, the request
 * is given up, is not retried, and fails with the signal's reason (base/errors.ts abortReason).
 * A write given up may or may not have happened, but never half: puts are atomic.
 */
import { StorageError } from './errors.js';

/** A byte range of an object: `length` bytes starting at `offset`. */
export interface ByteRange {
  offset: number;
  length: number;
}

export interface PutOptions {
  /** Fail with AlreadyExistsError instead of replacing an existing object (atomic where the backend can). */
  ifAbsent?: boolean;
  /** Object Lock retention (S3 backends with Object Lock enabled; ignored by the local backend). */
  retainUntil?: Date;
  /** The hex SHA-256 of the data, when the caller has it already (a pack's id): saves a backend that records it a pass. */
  sha256?: string;
  /** Write around the page cache (O_DIRECT) where the backend writes files (local); others ignore it. Default: objects of 1 MiB and more. */
  direct?: boolean;
  signal?: AbortSignal;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** Object Lock retention of the object, from head() on backends that have it (S3); absent otherwise. */
  retainUntil?: Date;
}

export interface Storage {
  /** Where the objects live, for messages: a directory path or an s3:// URL. */
  readonly location: string;
  /** Write a whole object; after it resolves the object is durable and complete (never half-written). */
  put(key: string, data: Uint8Array, options?: PutOptions): Promise<void>;
  /**
   * Read a whole object or a byte range of it. Throws NotFoundError when it does not exist.
   * With `into` (at least range.length bytes), a range is read into it and the result is a view
   * of it: restore recycles its read buffers, because fresh ones cost a page fault per 4 KiB.
   */
  get(key: string, range?: ByteRange, into?: Uint8Array, signal?: AbortSignal): Promise<Buffer>;
  /**
   * Optional: reads a range in consecutive parts with one request (S3 over HTTP), each part into
   * its caller's buffer; the request goes out when the reader is made. Use openRangeReader, which
   * falls back to a get per part.
   */
  readRange?(key: string, range: ByteRange, signal?: AbortSignal): RangeReader;
  /** Size of an object, or undefined when it does not exist. */
  head(key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix` (e.g. `snapshots/`), in no particular order. */
  list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo>;
  /** Remove an object; removing one that does not exist is not an error. */
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** Release connections and handles. */
  close(): Promise<void>;
  /**
   * Optional capability (S3 with Object Lock): make an existing object's retention last at least until
   * `until`; never shortens it. Backends without immutability do not have this method.
   */
  extendRetention?(key: string, until: Date, signal?: AbortSignal): Promise<void>;
  /** Optional capability (S3): whether the bucket has Object Lock enabled, so puts with retainUntil are immutable. */
  objectLock?(): Promise<boolean>;
}

/** A byte range read in consecutive parts, in order. */
export interface RangeReader {
  /** Reads the range's next `dest.length` bytes into `dest`. Calls must not overlap. */
  readInto(dest: Uint8Array): Promise<void>;
  /** Gives up what is left of the range (and the connection reading it). */
  close(): void;
}

/**
 * A reader of `range` in parts. Restore reads a pack's run of blobs this way: on S3 one request
 * instead of one per part saves the server ~4 ms of CPU per request (docs/s3.md).
 */
export function openRangeReader(storage: Storage, key: string, range: ByteRange, signal?: AbortSignal): RangeReader {
  if (storage.readRange) return storage.readRange(key, range, signal);
  let consumed = 0;
  return {
    async readInto(dest) {
      const offset = range.offset + consumed;
      consumed += dest.length;
      await storage.get(key, { offset, length: dest.length }, dest, signal);
    },
    close() {},
  };
}

/** `length` bytes to read into: a view of `into` when given (it must be long enough), else new memory. */
export function destination(length: number, into?: Uint8Array): Buffer {
  if (!into) return Buffer.allocUnsafe(length);
  if (into.length < length) throw new RangeError(`a read buffer of ${into.length} bytes cannot hold ${length}`);
  return Buffer.from(into.buffer, into.byteOffset, length);
}

/** A key every backend accepts: slash-separated, relative, no empty, "." or ".." part. Returns it. */
export function checkKey(key: string): string {
  if (!key || key.startsWith('/') || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new StorageError(`invalid object key ${JSON.stringify(key)}`);
  }
  return key;
}
