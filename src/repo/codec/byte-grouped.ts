/**
 * Codec 2, byte-grouped: splits bf16/fp16 (2 planes) and fp32 (4 planes) tensor pieces into
 * byte planes and compresses each plane with what pays (see grouped-format.ts).
 *
 * Why it wins on weights: a float's high byte (sign + exponent) takes few values, its low
 * bytes are near-random mantissa. Interleaved, zstd sees noise; grouped, the exponent plane
 * compresses ~2.5x by entropy coding alone and the mantissa plane is stored raw at memcpy
 * speed. Matches are rare in weights, so a tiny hash table (hashLog 6) and long minimum
 * match (7) make zstd a fast Huffman coder for the exponent plane (~1 GB/s, ratio 1.49 on
 * bf16 here, entropy bound ~1.53).
 *
 * Other dtypes (int8, fp8, fp64, integers, unknown) return undefined: the engine then uses
 * plain zstd or raw. The result is also undefined when grouping saves nothing.
 */
import { CodecId, type Codec, type DType } from './codec.js';
import { decodeGrouped, encodeGrouped, makeGroupedScratch } from './grouped-format.js';
import type { PlaneWidth } from './planes.js';
import { makeZstdContext, type ZstdProfile } from './zstd-context.js';

/** zstd settings for planes of dense weights (measured in bench/codec-speed.ts). */
export const WEIGHT_PLANES: ZstdProfile = { level: 1, minMatch: 7, hashLog: 6 };

/** Largest blob the format can describe (plane lengths are u32). */
export const MAX_GROUPED_LENGTH = 0xffff_ffff;

/** Element width of the dtypes that are worth grouping; undefined for the rest. */
export function planeWidth(dtype: DType | undefined): PlaneWidth | undefined {
  if (dtype === 'bf16' || dtype === 'fp16') return 2;
  if (dtype === 'fp32') return 4;
  return undefined;
}

/** A byte-grouped codec with its own zstd context and scratch memory: one instance per worker thread. */
export function makeByteGroupedCodec(): Codec {
  const zstd = makeZstdContext();
  const scratch = makeGroupedScratch();
  return {
    id: CodecId.byteGrouped,
    name: 'byte-grouped',
    encode(raw, hint) {
      const width = planeWidth(hint.dtype);
      if (width === undefined || raw.length < width || raw.length > MAX_GROUPED_LENGTH) return undefined;
      const encoded = encodeGrouped(raw, width, zstd, WEIGHT_PLANES, scratch);
      // Only when some plane shrank: an all-raw result is the input plus a header.
      return encoded.length < raw.length ? encoded : undefined;
    },
    decode(encoded, rawLength, _base, out) {
      return decodeGrouped(encoded, rawLength, zstd, scratch, { out });
    },
  };
}
