/** Every codec this version knows, by id, and the candidates tried when encoding a blob. */
import type { Codec, DType } from './codec.js';
import { rawCodec } from './raw.js';
import { makeCodecRegistry } from './registry.js';
import { makeZstdCodec } from './zstd.js';

export interface CodecSet {
  byId: (id: number) => Codec;
  /** Codecs to try for a blob, best guess first. */
  candidatesFor: (dtype: DType | undefined) => readonly Codec[];
}

export function makeCodecSet(zstdLevel: number): CodecSet {
  const zstd = makeZstdCodec(zstdLevel);
  const all = [rawCodec, zstd];
  return {
    byId: makeCodecRegistry(all),
    candidatesFor: () => [zstd],
  };
}
