// Reading side of safetensors, for tests and for comparing generated versions: header parsing
// and a streaming element-wise comparison of two files' tensors.
import { open } from 'node:fs/promises';

export interface TensorHeader {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  headerLength: number;
  dataStart: number;
  fileSize: number;
  metadata: Record<string, string>;
  tensors: Map<string, TensorHeader>;
}

export const ELEMENT_BYTES: Record<string, number> = { BF16: 2, F16: 2, F32: 4, F64: 8, I8: 1, U8: 1, I16: 2, I32: 4, I64: 8, BOOL: 1 };

export async function readHeader(file: string): Promise<SafetensorsHeader> {
  const fh = await open(file, 'r');
  try {
    const len = Buffer.alloc(8);
    await fh.read(len, 0, 8, 0);
    const headerLength = Number(len.readBigUInt64LE(0));
    const { size } = await fh.stat();
    if (headerLength <= 0 || 8 + headerLength > size) throw new Error(`${file}: header length ${headerLength} does not fit a ${size}-byte file`);
    const json = Buffer.alloc(headerLength);
    await fh.read(json, 0, headerLength, 8);
    const parsed = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    const tensors = new Map<string, TensorHeader>();
    let metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (k === '__metadata__') metadata = v as Record<string, string>;
      else tensors.set(k, v as TensorHeader);
    }
    return { headerLength, dataStart: 8 + headerLength, fileSize: size, metadata, tensors };
  } finally {
    await fh.close();
  }
}

/** Problems with a header: unknown dtypes, sizes that disagree with shapes, gaps, overlaps, trailing bytes. */
export function headerProblems(h: SafetensorsHeader): string[] {
  const problems: string[] = [];
  if (h.headerLength % 8 !== 0) problems.push(`header length ${h.headerLength} is not a multiple of 8`);
  for (const [k, v] of Object.entries(h.metadata)) if (typeof v !== 'string') problems.push(`__metadata__.${k} is not a string`);
  const spans: Array<[number, number, string]> = [];
  for (const [name, t] of h.tensors) {
    const size = ELEMENT_BYTES[t.dtype];
    if (!size) {
      problems.push(`${name}: unknown dtype ${t.dtype}`);
      continue;
    }
    const numel = t.shape.reduce((x, y) => x * y, 1);
    if (t.data_offsets[1] - t.data_offsets[0] !== numel * size) problems.push(`${name}: ${t.data_offsets.join('-')} is not ${numel} x ${size} bytes`);
    spans.push([t.data_offsets[0], t.data_offsets[1], name]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  let pos = 0;
  for (const [b, e, name] of spans) {
    if (b !== pos) problems.push(`${name}: starts at ${b}, expected ${pos}`);
    pos = e;
  }
  if (h.dataStart + pos !== h.fileSize) problems.push(`file is ${h.fileSize} bytes, header describes ${h.dataStart + pos}`);
  return problems;
}

export interface ChangeCount {
  elements: number;
  changed: number;
}

/** Counts stored elements that differ between the same-named tensors of two files (streamed, 4 MiB at a time). */
export async function countChangedElements(fileA: string, fileB: string): Promise<ChangeCount> {
  const [ha, hb] = await Promise.all([readHeader(fileA), readHeader(fileB)]);
  const [fa, fb] = await Promise.all([open(fileA, 'r'), open(fileB, 'r')]);
  const bufA = Buffer.alloc(4 << 20);
  const bufB = Buffer.alloc(4 << 20);
  const total: ChangeCount = { elements: 0, changed: 0 };
  try {
    for (const [name, ta] of ha.tensors) {
      const tb = hb.tensors.get(name);
      if (!tb || tb.dtype !== ta.dtype) continue;
      const size = ELEMENT_BYTES[ta.dtype];
      const len = ta.data_offsets[1] - ta.data_offsets[0];
      for (let off = 0; off < len; off += bufA.length) {
        const n = Math.min(bufA.length, len - off);
        await fa.read(bufA, 0, n, ha.dataStart + ta.data_offsets[0] + off);
        await fb.read(bufB, 0, n, hb.dataStart + tb.data_offsets[0] + off);
        total.changed += countDiffering(bufA, bufB, n, size);
        total.elements += n / size;
      }
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
  return total;
}

function countDiffering(a: Buffer, b: Buffer, bytes: number, size: number): number {
  let changed = 0;
  if (size === 2 || size === 4) {
    const va = size === 2 ? new Uint16Array(a.buffer, a.byteOffset, bytes / 2) : new Uint32Array(a.buffer, a.byteOffset, bytes / 4);
    const vb = size === 2 ? new Uint16Array(b.buffer, b.byteOffset, bytes / 2) : new Uint32Array(b.buffer, b.byteOffset, bytes / 4);
    for (let i = 0; i < va.length; i++) if (va[i] !== vb[i]) changed++;
    return changed;
  }
  for (let i = 0; i < bytes; i += size) if (a.compare(b, i, i + size, i, i + size) !== 0) changed++;
  return changed;
}
