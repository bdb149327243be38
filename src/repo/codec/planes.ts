/**
 * Byte planes: element i of a little-endian array of `width`-byte numbers contributes its
 * byte b to plane b at position i. For bf16 plane 1 holds sign + 7 exponent bits (which
 * compresses) and plane 0 the low exponent bit + mantissa (which mostly does not).
 *
 * Only whole elements are split: a trailing partial element (length not a multiple of
 * `width`) is the caller's to keep. Both directions can XOR with a second array on the fly,
 * which saves the delta codec a pass over the piece. Views at any byte offset are fine.
 *
 * Two implementations of the same function: the addon's loops (native/planes.c), one pass
 * over memory where it is; and, where the addon is not built, WebAssembly SIMD (planes.wat, 16
 * elements per step) on chunks copied into the module's memory and out again. Decoding a
 * restore's planes, the copies cost more than the kernel (docs/ai-storage.md, "Byte-plane kernels").
 */
import { loadNative } from '../native.js';
import { CHUNK, ELEMENTS_AT, PLANES_AT, XOR_AT, planeKernel } from './planes-kernel.js';

export type PlaneWidth = 2 | 4;

/** Number of whole elements in `length` bytes. */
export function elementCount(length: number, width: PlaneWidth): number {
  return Math.floor(length / width);
}

export interface PlaneFunctions {
  /** Splits the whole elements of `src` (XORed with `xor` when given, same length) into `planes` (each at least elementCount bytes long). */
  split(src: Uint8Array, width: PlaneWidth, planes: readonly Uint8Array[], xor?: Uint8Array): void;
  /** Inverse of split: writes the whole elements of `dst` from `planes` (XORed with `xor` when given). */
  merge(planes: readonly Uint8Array[], width: PlaneWidth, dst: Uint8Array, xor?: Uint8Array): void;
}

export const WASM_PLANES: PlaneFunctions = {
  split(src, width, planes, xor) {
    const kernel = planeKernel();
    const split = width === 2 ? kernel.split2 : kernel.split4;
    const { memory } = kernel;
    const n = elementCount(src.length, width);
    const stride = CHUNK / width;
    for (let i = 0; i < n; i += stride) {
      const m = Math.min(stride, n - i);
      memory.set(src.subarray(i * width, (i + m) * width), ELEMENTS_AT);
      if (xor) memory.set(xor.subarray(i * width, (i + m) * width), XOR_AT);
      split(ELEMENTS_AT, xor ? XOR_AT : 0, PLANES_AT, stride, m);
      for (let b = 0; b < width; b++) planes[b].set(memory.subarray(PLANES_AT + b * stride, PLANES_AT + b * stride + m), i);
    }
  },
  merge(planes, width, dst, xor) {
    const kernel = planeKernel();
    const merge = width === 2 ? kernel.merge2 : kernel.merge4;
    const { memory } = kernel;
    const n = elementCount(dst.length, width);
    const stride = CHUNK / width;
    for (let i = 0; i < n; i += stride) {
      const m = Math.min(stride, n - i);
      for (let b = 0; b < width; b++) memory.set(planes[b].subarray(i, i + m), PLANES_AT + b * stride);
      if (xor) memory.set(xor.subarray(i * width, (i + m) * width), XOR_AT);
      merge(PLANES_AT, stride, xor ? XOR_AT : 0, ELEMENTS_AT, m);
      dst.set(memory.subarray(ELEMENTS_AT, ELEMENTS_AT + m * width), i * width);
    }
  },
};

const native = loadNative();

/** The addon's planes, when it is built. */
export const NATIVE_PLANES: PlaneFunctions | undefined = native && {
  split: (src, width, planes, xor) => native.split(src, xor ?? null, ...planes.slice(0, width)),
  merge: (planes, width, dst, xor) => native.merge(dst, xor ?? null, ...planes.slice(0, width)),
};

/** Which this process uses: "native" (the addon) or "wasm". */
export const PLANES_IMPLEMENTATION = NATIVE_PLANES ? 'native' : 'wasm';

export const { split: splitPlanes, merge: mergePlanes } = NATIVE_PLANES ?? WASM_PLANES;
