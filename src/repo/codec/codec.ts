/**
 * Codecs turn a blob's plaintext into the bytes that are encrypted and stored, and back.
 *
 * Every stored blob records the numeric id of its codec (pack header and index), so a
 * repository stays readable forever: ids are never reused, retired ids stay reserved.
 * Codecs are pure and synchronous; they run inside worker threads.
 */

/** Element types a splitter can tell a codec about (safetensors / GGUF dtypes, lower-case). */
export type DType = 'bf16' | 'fp16' | 'fp32' | 'fp64' | 'int8' | 'uint8' | 'fp8' | 'int16' | 'int32' | 'int64' | 'bool' | 'other';

/** What the engine knows about a blob when it encodes it. */
export interface EncodeHint {
  /** The element type when the blob is a piece of a tensor. */
  dtype?: DType;
  /** Plaintext of the same piece in the parent snapshot (for delta codecs). */
  base?: Uint8Array;
}

export interface Codec {
  /** Stored in the data; unique; never reused. */
  readonly id: number;
  /** Human name for stats and docs. */
  readonly name: string;
  /**
   * Encoded bytes, or undefined when the codec does not apply to this blob or does not pay.
   * The result may live in the codec's own reusable memory (fresh pages cost a page fault per
   * 4 KiB here): it is valid until this codec instance's next encode call, so seal or copy it first.
   */
  encode(raw: Uint8Array, hint: EncodeHint): Uint8Array | undefined;
  /**
   * Exact inverse of encode. `base` is the plaintext of the delta base, for delta codecs.
   * With `out` (exactly rawLength bytes) the plaintext is written there and `out` returned,
   * so that a restore decodes straight into its reusable output buffer.
   */
  decode(encoded: Uint8Array, rawLength: number, base?: Uint8Array, out?: Uint8Array): Uint8Array;
}

/** Codec ids in use or reserved. A retired id stays here, commented, forever. */
export const CodecId = {
  raw: 0,
  zstd: 1,
  byteGrouped: 2,
  xorDelta: 3,
} as const;
