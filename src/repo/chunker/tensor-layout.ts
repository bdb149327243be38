/**
 * What the tensor-file parsers (safetensors.ts, gguf.ts) find in a file, and the typed error
 * they throw when a file is not what it claims to be.
 */
import type { ErrorCode } from '../../base/errors.js';
import type { DType } from '../codec/codec.js';
import { RepoError } from '../errors.js';
import type { FileReader } from './chunker.js';

export interface TensorEntry {
  name: string;
  dtype: DType;
  /** Absolute byte offset in the file. */
  start: number;
  length: number;
}

export interface TensorLayout {
  format: 'safetensors' | 'gguf';
  /** Where the tensor data region begins: header, metadata and alignment padding lie before it. */
  dataStart: number;
  /** Sorted by start; no two overlap; all inside the file. */
  tensors: TensorEntry[];
}

/**
 * A file that looked like a tensor file has a header we cannot trust (truncated, out of range,
 * overlapping, inconsistent or absurd). The engine backs the file up with FastCDC instead,
 * which is lossless for any bytes, and reports the message as a warning.
 */
export class TensorHeaderError extends RepoError {
  override readonly code: ErrorCode = 'TENSOR_HEADER';
}

/** Largest header (safetensors JSON, GGUF metadata + tensor infos) we read: safetensors' own limit. */
export const MAX_TENSOR_HEADER = 100_000_000;

/** Sorts tensors by start and rejects any two that overlap. */
export function sortAndCheckOverlap(tensors: TensorEntry[], what: string): TensorEntry[] {
  const sorted = [...tensors].sort((a, b) => a.start - b.start || a.length - b.length);
  let reach = sorted[0];
  for (const cur of sorted) {
    if (reach !== cur && cur.length > 0 && cur.start < reach.start + reach.length) {
      throw new TensorHeaderError(`${what}: tensors "${reach.name}" and "${cur.name}" overlap (bytes ${cur.start}..${reach.start + reach.length})`);
    }
    if (cur.start + cur.length > reach.start + reach.length) reach = cur;
  }
  return sorted;
}

/** Product of dimensions as a safe integer, or a TensorHeaderError when absurd. */
export function elementProduct(dims: readonly number[], what: string): number {
  let product = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new TensorHeaderError(`${what}: dimension ${d} is not a non-negative integer`);
    product *= d;
    if (!Number.isSafeInteger(product)) throw new TensorHeaderError(`${what}: shape [${dims.join(', ')}] has more elements than any file can hold`);
  }
  return product;
}

/** Reads exactly `length` bytes or throws TensorHeaderError (the file shrank under us). */
export async function readExact(file: FileReader, offset: number, length: number): Promise<Buffer> {
  const buf = await file.read(offset, length);
  if (buf.length < length) throw new TensorHeaderError(`short read: ${buf.length} of ${length} bytes at offset ${offset} (file changed while being read?)`);
  return buf.length === length ? buf : buf.subarray(0, length);
}
