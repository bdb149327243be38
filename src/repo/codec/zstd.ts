/**
 * Codec 1: a zstd frame (with its content size) of the plaintext, for everything that is not a
 * float tensor (those are byte-grouped). Level 3 by default (a repository setting): on JSONL
 * datasets and configs it is as fast as level 1 here and a few percent smaller.
 */
import { Compressor, decompress } from 'zstd-napi';
import { CodecId, type Codec } from './codec.js';
import { FormatError } from '../errors.js';

export function makeZstdCodec(level = 1): Codec {
  const compressor = new Compressor();
  compressor.setParameters({ compressionLevel: level });
  return {
    id: CodecId.zstd,
    name: 'zstd',
    encode(raw) {
      const out = compressor.compress(raw);
      return out.length < raw.length ? out : undefined; // the Codec contract: undefined when it does not pay
    },
    decode(encoded, rawLength) {
      const out = decompress(encoded);
      if (out.length !== rawLength) throw new FormatError(`zstd blob decoded to ${out.length} bytes, expected ${rawLength}`);
      return out;
    },
  };
}
