/**
 * Codec 1: a zstd frame (with its content size) of the plaintext, for everything that is not a
 * float tensor (those are byte-grouped). Level 3 by default (a repository setting): on JSONL
 * datasets and configs it is as fast as level 1 here and a few percent smaller.
 */
import { CodecId, type Codec } from './codec.js';
import { reusableBuffer } from './scratch.js';
import { makeZstdContext, type ZstdProfile } from './zstd-context.js';

export function makeZstdCodec(level = 1): Codec {
  const zstd = makeZstdContext();
  const profile: ZstdProfile = { level };
  const output = reusableBuffer();
  return {
    id: CodecId.zstd,
    name: 'zstd',
    encode(raw) {
      // Room for a frame at least one byte smaller than the input, no more: -1 means it does
      // not pay, and the Codec contract says undefined then.
      if (raw.length < 2) return undefined;
      const out = output(raw.length - 1);
      const size = zstd.compressInto(out, raw, profile);
      return size >= 0 ? out.subarray(0, size) : undefined;
    },
    decode(encoded, rawLength, _base, out) {
      const dst = out ?? new Uint8Array(rawLength);
      zstd.decompressExact(dst, encoded, 'zstd blob');
      return dst;
    },
  };
}
