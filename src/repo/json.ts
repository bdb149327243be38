/** Decoding the JSON every small object of the repository is (snapshots, trees, keys, locks, config). */
import { FormatError } from './errors.js';

/** The JSON value in `plain`, or a FormatError naming `what` (e.g. "tree 1a2b3c4d5e6f") and, optionally, what to do. */
export function parseJson<T>(plain: Uint8Array, what: string, advice?: string): T {
  try {
    return JSON.parse(Buffer.from(plain.buffer, plain.byteOffset, plain.length).toString('utf8')) as T;
  } catch {
    throw new FormatError(`${what} is not valid JSON${advice ? `: ${advice}` : ''}`);
  }
}
