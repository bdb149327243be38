/**
 * Scratch memory of one codec instance (one worker thread): reused across calls so that a
 * 4 MiB piece does not allocate its planes, copies and output anew (fresh pages cost a page
 * fault per 4 KiB, which here is as much CPU as compressing them). Only `output` is ever
 * returned to a caller, and only until the instance's next encode (the Codec contract).
 */
import type { PlaneWidth } from './planes.js';

/** `a` itself when 4-byte aligned, else a copy of it in `scratch` (which must be aligned and long enough). */
export function alignedView(a: Uint8Array, scratch: (length: number) => Uint8Array): Uint8Array {
  if ((a.byteOffset & 3) === 0) return a;
  const copy = scratch(a.length);
  copy.set(a);
  return copy;
}

/** A growing, reusable, aligned buffer: one per use per codec instance. */
export function reusableBuffer(): (length: number) => Uint8Array {
  let buf = new Uint8Array(0);
  return (length) => {
    if (buf.length < length) buf = new Uint8Array(length);
    return buf.subarray(0, length);
  };
}

/** Scratch memory reused across calls of one codec instance (one worker thread). */
export interface PlaneScratch {
  planes(width: PlaneWidth, n: number): Uint8Array[];
  /** Room for an aligned copy of an unaligned input. */
  copy(length: number): Uint8Array;
  /** Room for the encoded result, returned to the caller until the next encode. */
  output(length: number): Uint8Array;
  /** Output room for compressing one sample. */
  readonly probe: Uint8Array;
}

/** `probeBytes`: room for one compressed sample. */
export function makePlaneScratch(probeBytes: number): PlaneScratch {
  let buf = new ArrayBuffer(0);
  return {
    copy: reusableBuffer(),
    output: reusableBuffer(),
    probe: new Uint8Array(probeBytes),
    planes(width, n) {
      const stride = (n + 7) & ~7; // each plane 8-byte aligned: cheap, and friendly to the copies in and out of WASM memory
      if (buf.byteLength < stride * width) buf = new ArrayBuffer(stride * width);
      return Array.from({ length: width }, (_, b) => new Uint8Array(buf, b * stride, n));
    },
  };
}
