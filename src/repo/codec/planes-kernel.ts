/**
 * The byte-plane WebAssembly module (planes.wat, assembled into planes-wasm.ts), instantiated
 * once per thread on first use: codecs run in worker threads, each with its own instance.
 *
 * Memory layout, fixed at instantiation: page 0 is never written, so its first bytes are the
 * zero block that stands for "no XOR operand"; then one chunk each for the elements, the XOR
 * operand and the planes. The memory never grows afterwards, so the view taken here stays
 * valid (growing would detach it).
 */
import { PLANES_WASM_BASE64 } from './planes-wasm.js';

/** Bytes of elements per kernel call: input, operand and planes (3 × 256 KiB) stay in L2 (1 MiB here) between copy-in, kernel and copy-out. */
export const CHUNK = 256 * 1024;
const PAGE = 64 * 1024;
export const ELEMENTS_AT = PAGE;
export const XOR_AT = ELEMENTS_AT + CHUNK;
export const PLANES_AT = XOR_AT + CHUNK;
const MEMORY_END = PLANES_AT + CHUNK;

/** split: (src, xor or 0, planes, stride, n); merge: (planes, stride, xor or 0, dst, n). Addresses in `memory`. */
type Kernel = (a: number, b: number, c: number, d: number, n: number) => void;

export interface PlaneKernel {
  readonly memory: Uint8Array;
  readonly split2: Kernel;
  readonly merge2: Kernel;
  readonly split4: Kernel;
  readonly merge4: Kernel;
}

let kernel: PlaneKernel | undefined;

/** This thread's instance, made on first use. */
export function planeKernel(): PlaneKernel {
  return (kernel ??= instantiate());
}

function instantiate(): PlaneKernel {
  const module = new WebAssembly.Module(Buffer.from(PLANES_WASM_BASE64, 'base64'));
  const exports = new WebAssembly.Instance(module).exports as unknown as Omit<PlaneKernel, 'memory'> & { memory: WebAssembly.Memory };
  const memory = exports.memory;
  memory.grow(Math.ceil(MEMORY_END / PAGE) - memory.buffer.byteLength / PAGE);
  const { split2, merge2, split4, merge4 } = exports;
  return { memory: new Uint8Array(memory.buffer), split2, merge2, split4, merge4 };
}
