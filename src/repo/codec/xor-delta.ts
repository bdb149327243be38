/**
 * Codec 3, XOR delta: a tensor piece stored as its XOR against the same piece of the
 * parent snapshot (the "base", same label and length), then byte-grouped (float dtypes) or
 * zstd-compressed (others). Consecutive fine-tune checkpoints share most bytes, so the XOR
 * is mostly zeros: ~50x smaller than the piece on bf16 here.
 *
 * Pure: the codec never looks up a base; the engine passes it (EncodeHint.base at backup,
 * the `base` argument at restore) and records which blob it was (see docs/ai-storage.md).
 * A wrong base cannot go unnoticed: the decoded plaintext would not match the blob's SHA-256.
 *
 * Stored format: u8 version (1) | u8 inner (1 = one zstd frame of the XOR,
 * 2 = a byte-grouped payload of the XOR, codec 2's format) | inner payload.
 */
import { CodecId, type Codec, type EncodeHint } from './codec.js';
import { FormatError } from '../errors.js';
import { MAX_GROUPED_LENGTH, planeWidth, WEIGHT_PLANES } from './byte-grouped.js';
import { decodeGrouped, encodeGrouped, makeGroupedScratch, view } from './grouped-format.js';
import { alignedView, reusableBuffer, type PlaneScratch } from './scratch.js';
import { xorInto } from './xor.js';
import { makeZstdContext, type ZstdContext, type ZstdProfile } from './zstd-context.js';

export const XOR_VERSION = 1;
export const INNER_ZSTD = 1;
export const INNER_GROUPED = 2;

/**
 * Settings for XOR planes: the weight-plane settings measured as good as zstd's level-1
 * defaults on zero runs and better on fp16/fp32 deltas (bench/codec-speed.ts), so float
 * deltas share them; other dtypes get plain level 1, which also suits non-float data.
 */
export const DELTA_PLANES: ZstdProfile = WEIGHT_PLANES;
export const DELTA_OTHER: ZstdProfile = { level: 1 };

/** The stored form of raw XOR base, or undefined when it would not be smaller than the piece. */
function encodeXor(raw: Uint8Array, base: Uint8Array, hint: EncodeHint, ctx: Context): Uint8Array | undefined {
  const width = planeWidth(hint.dtype);
  if (width !== undefined && raw.length >= width) {
    const out = encodeGrouped(raw, width, ctx.zstd, DELTA_PLANES, ctx.scratch, { reserve: 2, base });
    out[0] = XOR_VERSION;
    out[1] = INNER_GROUPED;
    return out.length < raw.length ? out : undefined;
  }
  const diff = ctx.diff(raw.length);
  xorInto(diff, alignedView(raw, ctx.scratch.copy), alignedView(base, ctx.baseCopy));
  // Room for a frame that makes the blob at least one byte smaller than the piece, no more.
  const out = ctx.scratch.output(diff.length);
  out[0] = XOR_VERSION;
  out[1] = INNER_ZSTD;
  const size = diff.length > 3 ? ctx.zstd.compressInto(out.subarray(2, diff.length - 1), diff, DELTA_OTHER) : -1;
  return size >= 0 ? view(out, 0, 2 + size) : undefined;
}

interface Context {
  zstd: ZstdContext;
  scratch: PlaneScratch;
  diff: (length: number) => Uint8Array;
  baseCopy: (length: number) => Uint8Array;
}

/** An XOR delta codec with its own zstd context and scratch memory: one instance per worker thread. */
export function makeXorDeltaCodec(): Codec {
  const zstd = makeZstdContext();
  const ctx: Context = { zstd, scratch: makeGroupedScratch(), diff: reusableBuffer(), baseCopy: reusableBuffer() };
  return {
    id: CodecId.xorDelta,
    name: 'xor-delta',
    encode(raw, hint) {
      const base = hint.base;
      if (!base || base.length !== raw.length || raw.length === 0 || raw.length > MAX_GROUPED_LENGTH) return undefined;
      return encodeXor(raw, base, hint, ctx);
    },
    decode(encoded, rawLength, base, into) {
      if (!base) throw new FormatError('xor-delta blob needs its base blob to decode, and none was given');
      if (base.length !== rawLength) throw new FormatError(`xor-delta blob of ${rawLength} bytes got a base of ${base.length} bytes: wrong base`);
      if (encoded.length < 2) throw new FormatError('xor-delta blob is truncated (no header)');
      if (encoded[0] !== XOR_VERSION) throw new FormatError(`xor-delta blob has format version ${encoded[0]}; this lifeboat reads version ${XOR_VERSION}: upgrade lifeboat`);
      const body = encoded.subarray(2);
      if (encoded[1] === INNER_GROUPED) return decodeGrouped(body, rawLength, zstd, ctx.scratch, { base, out: into });
      if (encoded[1] !== INNER_ZSTD) throw new FormatError(`xor-delta blob has unknown inner method ${encoded[1]}: upgrade lifeboat`);
      const out = into ?? view(Buffer.allocUnsafe(rawLength), 0, rawLength);
      zstd.decompressExact(out, body, 'xor-delta blob');
      xorInto(out, out, alignedView(base, ctx.baseCopy));
      return out;
    },
  };
}
