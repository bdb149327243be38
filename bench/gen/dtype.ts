// Storage dtypes and fp32 -> stored-dtype rounding (round to nearest, ties to even), as
// PyTorch's .to(torch.bfloat16) / .half() do. Inputs are finite by construction.

export type Dtype = 'bf16' | 'fp16' | 'fp32';

export interface DtypeInfo {
  /** safetensors dtype tag */
  tag: 'BF16' | 'F16' | 'F32';
  bytes: 2 | 4;
  /** config.json torch_dtype */
  torch: string;
}

export const DTYPES: Record<Dtype, DtypeInfo> = {
  bf16: { tag: 'BF16', bytes: 2, torch: 'bfloat16' },
  fp16: { tag: 'F16', bytes: 2, torch: 'float16' },
  fp32: { tag: 'F32', bytes: 4, torch: 'float32' },
};

export function isDtype(s: string): s is Dtype {
  return s === 'bf16' || s === 'fp16' || s === 'fp32';
}

export function f32ToBf16(bits: Uint32Array, out: Uint16Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = bits[i];
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
}

/** One fp32 bit pattern to fp16 bits: subnormals, overflow to infinity. */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign; // below half the smallest subnormal
    const m = mant | 0x800000;
    const shift = 14 - exp;
    return sign | roundShift(m, shift);
  }
  // normal: carry out of the mantissa correctly bumps the exponent (and may reach infinity)
  return (sign | (exp << 10)) + roundShift(mant, 13);
}

function roundShift(m: number, shift: number): number {
  const q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}

export function f32ToF16(bits: Uint32Array, out: Uint16Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = f32BitsToF16(bits[i]);
}

function f16BitsToF32(h: number, scratch: Float32Array): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  scratch[0] = sign * (1 + m / 1024) * 2 ** (e - 15);
  return scratch[0];
}

/** Round an fp32 array in place to the values the dtype can hold (used for LoRA factors and merges). */
export function roundInPlace(values: Float32Array, dtype: Dtype): void {
  if (dtype === 'fp32') return;
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  if (dtype === 'bf16') {
    for (let i = 0; i < bits.length; i++) {
      const x = bits[i];
      bits[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) << 16;
    }
    return;
  }
  const scratch = new Float32Array(1);
  for (let i = 0; i < bits.length; i++) values[i] = f16BitsToF32(f32BitsToF16(bits[i]), scratch);
}
