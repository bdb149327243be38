/**
 * Test data for the tensor splitter and codecs: a seeded PRNG, realistic weights
 * (normal(0, 0.02) rounded to bf16 / fp16 / fp32), special float values, and builders for
 * safetensors and GGUF files held in memory.
 */
import type { DType } from '../../src/repo/codec/codec.js';
import type { FileReader } from '../../src/repo/chunker/chunker.js';

/** mulberry32: small, fast, seeded. */
export { mulberry32 as rng } from '../../src/base/seeded-random.js';

export function randomInt(next: () => number, below: number): number {
  return Math.floor(next() * below);
}

export function randomBytes(next: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = randomInt(next, 256);
  return out;
}

export function normal(next: () => number, std: number): number {
  const u = 1 - next();
  return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function fp32Bits(x: number): number {
  f32[0] = x;
  return u32[0];
}

/** Round-to-nearest-even float32 -> bfloat16, as PyTorch does (NaN stays NaN). */
export function bf16Bits(x: number): number {
  const bits = fp32Bits(x);
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 -> IEEE half (round to nearest, denormals kept, overflow to Inf). */
export function fp16Bits(x: number): number {
  const bits = fp32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - e + 13);
    return sign | m;
  }
  return sign | ((e << 10) + Math.round(mant / 8192));
}

export function elementSize(dtype: DType): number {
  return dtype === 'bf16' || dtype === 'fp16' || dtype === 'int16' ? 2 : dtype === 'fp32' || dtype === 'int32' ? 4 : dtype === 'fp64' || dtype === 'int64' ? 8 : 1;
}

/** `count` weights drawn from normal(0, 0.02), stored little-endian in `dtype`. */
export function realisticWeights(next: () => number, dtype: 'bf16' | 'fp16' | 'fp32', count: number): Uint8Array {
  const out = new Uint8Array(count * elementSize(dtype));
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const x = normal(next, 0.02);
    if (dtype === 'bf16') view.setUint16(i * 2, bf16Bits(x), true);
    else if (dtype === 'fp16') view.setUint16(i * 2, fp16Bits(x), true);
    else view.setFloat32(i * 4, x, true);
  }
  return out;
}

/** A fine-tune step: each element changes in its lowest bit with probability `p`. */
export function perturb(next: () => number, data: Uint8Array, width: number, p: number): Uint8Array {
  const out = data.slice();
  for (let i = 0; i + width <= out.length; i += width) if (next() < p) out[i] ^= 1 + randomInt(next, 3);
  return out;
}

/** Float bit patterns that break naive codecs: ±0, ±Inf, NaNs, denormals, extremes. */
export const SPECIAL_BF16 = [0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc1, 0x7f81, 0x0001, 0x807f, 0x7f7f, 0xff7f, 0x0080];
export const SPECIAL_FP16 = [0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0xfe01, 0x7c01, 0x0001, 0x83ff, 0x7bff, 0xfbff, 0x0400];
export const SPECIAL_FP32 = [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x00800000];

export function memoryReader(data: Uint8Array): FileReader & { reads: number; bytesRead: number } {
  const reader = {
    size: data.length,
    reads: 0,
    bytesRead: 0,
    async read(offset: number, length: number): Promise<Buffer> {
      reader.reads++;
      const part = data.subarray(offset, Math.min(data.length, offset + length));
      reader.bytesRead += part.length;
      return Buffer.from(part);
    },
  };
  return reader;
}

export interface TestTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** A safetensors file: tensors laid out in the given order, header padded to 8 bytes. */
export function buildSafetensors(tensors: TestTensor[], metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  return buildSafetensorsRaw(JSON.stringify(header), tensors.map((t) => t.data));
}

export function buildSafetensorsRaw(json: string, payloads: Uint8Array[]): Uint8Array {
  let text = json;
  while ((8 + Buffer.byteLength(text)) % 8 !== 0) text += ' ';
  const head = Buffer.from(text);
  const lengthField = Buffer.alloc(8);
  lengthField.writeBigUInt64LE(BigInt(head.length));
  return Buffer.concat([lengthField, head, ...payloads]);
}

export interface GgufTensorSpec {
  name: string;
  ggmlType: number;
  dims: number[];
  data: Uint8Array;
}

/** A GGUF v3 file with a few metadata values of several kinds (+ an optional u8 array) and the given tensors, aligned. */
export function buildGguf(tensors: GgufTensorSpec[], alignment = 32, extraMetadata = 0): Uint8Array {
  const parts: Buffer[] = [];
  const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s: string) => { const b = Buffer.from(s); u64(b.length); parts.push(b); };
  parts.push(Buffer.from('GGUF'));
  u32(3);
  u64(tensors.length);
  u64(extraMetadata > 0 ? 5 : 4);
  str('general.architecture'); u32(8); str('llama');
  str('general.alignment'); u32(4); u32(alignment);
  str('tokenizer.ggml.tokens'); u32(9); u32(8); u64(3); str('<s>'); str('</s>'); str('hello');
  str('llama.rope.scale'); u32(9); u32(6); u64(2); u32(0x3f800000); u32(0x40000000);
  if (extraMetadata > 0) { str('test.blob'); u32(9); u32(0); u64(extraMetadata); parts.push(Buffer.alloc(extraMetadata, 7)); }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(offset);
    offset = Math.ceil((offset + t.data.length) / alignment) * alignment;
  }
  tensors.forEach((t, i) => {
    str(t.name); u32(t.dims.length);
    for (const d of t.dims) u64(d);
    u32(t.ggmlType); u64(offsets[i]);
  });
  const head = Buffer.concat(parts);
  const dataStart = Math.ceil(head.length / alignment) * alignment;
  const out = Buffer.alloc(dataStart + offset);
  head.copy(out, 0);
  tensors.forEach((t, i) => out.set(t.data, dataStart + offsets[i]));
  return out;
}
