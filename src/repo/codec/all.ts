/** Every codec this version knows, by id, and the candidates tried when encoding a blob. */
import { makeByteGroupedCodec } from './byte-grouped.js';
import type { Codec, DType } from './codec.js';
import { rawCodec } from './raw.js';
import { makeCodecRegistry } from './registry.js';
import { makeXorDeltaCodec } from './xor-delta.js';
import { makeZstdCodec } from './zstd.js';

export interface CodecSet {
  byId: (id: number) => Codec;
  /** Codecs to try for a blob, best guess first. */
  candidatesFor: (dtype: DType | undefined, hasBase?: boolean) => readonly Codec[];
}

const FLOATS: ReadonlySet<DType> = new Set(['bf16', 'fp16', 'fp32']);

export function makeCodecSet(zstdLevel: number): CodecSet {
  const zstd = makeZstdCodec(zstdLevel);
  const grouped = makeByteGroupedCodec();
  const delta = makeXorDeltaCodec();
  const all = [rawCodec, zstd, grouped, delta];
  return {
    byId: makeCodecRegistry(all),
    // Float tensor pieces: byte grouping picks per plane between zstd and raw, so it is never
    // worse than raw and, on weights, better than whole-blob zstd at the same speed. With a
    // delta base, the XOR delta comes first; chooseEncoding stops early when it is tiny.
    candidatesFor: (dtype, hasBase) => {
      const plain = dtype && FLOATS.has(dtype) ? [grouped] : [zstd];
      return hasBase ? [delta, ...plain] : plain;
    },
  };
}
