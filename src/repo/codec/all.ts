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
  candidatesFor: (dtype: DType | undefined) => readonly Codec[];
}

const FLOATS: ReadonlySet<DType> = new Set(['bf16', 'fp16', 'fp32']);

export function makeCodecSet(zstdLevel: number): CodecSet {
  const zstd = makeZstdCodec(zstdLevel);
  const grouped = makeByteGroupedCodec();
  const all = [rawCodec, zstd, grouped, makeXorDeltaCodec()];
  return {
    byId: makeCodecRegistry(all),
    // Float tensor pieces: byte grouping picks per plane between zstd and raw, so it is never
    // worse than raw and, on weights, better than whole-blob zstd at the same speed.
    candidatesFor: (dtype) => (dtype && FLOATS.has(dtype) ? [grouped] : [zstd]),
  };
}
