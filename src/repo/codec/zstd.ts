/**
 * Codec 1: a zstd frame (with its content size) of the plaintext.
 * Level 1 by default: on model weights higher levels buy a few percent for several times the
 * CPU, and backup throughput is a promise we make. The level is a repository setting.
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
