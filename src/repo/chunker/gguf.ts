/**
 * GGUF header parser (ggml's docs/gguf.md, versions 2 and 3, little-endian):
 *
 *   "GGUF" | u32 version | u64 tensorCount | u64 kvCount | kvCount × (string key, u32 type, value)
 *   | tensorCount × (string name, u32 nDims, nDims × u64 ne, u32 ggmlType, u64 offset)
 *   | padding to `general.alignment` (default 32) | tensor data
 *
 * The header has no length field, so it is parsed from a window of the file's start that
 * grows (×4) up to MAX_TENSOR_HEADER: memory stays bounded whatever the counts claim, and
 * every loop is bounded by bytes actually present. Metadata values are skipped, except
 * general.alignment. Tensors of ggml types this table does not know (new quantisations
 * appear often) run to the next tensor's start, without a size check.
 */
import type { DType } from '../codec/codec.js';
import type { FileReader } from './chunker.js';
import { elementProduct, MAX_TENSOR_HEADER, readExact, sortAndCheckOverlap, TensorHeaderError, type TensorEntry, type TensorLayout } from './tensor-layout.js';

/** ggml type id -> [elements per block, bytes per block, dtype]. Ids 4, 5 and 31–33 are retired. */
const GGML_TYPES: Record<number, [number, number, DType]> = {
  0: [1, 4, 'fp32'], 1: [1, 2, 'fp16'], 2: [32, 18, 'other'], 3: [32, 20, 'other'],
  6: [32, 22, 'other'], 7: [32, 24, 'other'], 8: [32, 34, 'other'], 9: [32, 36, 'other'],
  10: [256, 84, 'other'], 11: [256, 110, 'other'], 12: [256, 144, 'other'], 13: [256, 176, 'other'],
  14: [256, 210, 'other'], 15: [256, 292, 'other'], 16: [256, 66, 'other'], 17: [256, 74, 'other'],
  18: [256, 98, 'other'], 19: [256, 50, 'other'], 20: [32, 18, 'other'], 21: [256, 110, 'other'],
  22: [256, 82, 'other'], 23: [256, 136, 'other'], 24: [1, 1, 'int8'], 25: [1, 2, 'int16'],
  26: [1, 4, 'int32'], 27: [1, 8, 'int64'], 28: [1, 8, 'fp64'], 29: [256, 56, 'other'],
  30: [1, 2, 'bf16'], 34: [256, 54, 'other'], 35: [256, 66, 'other'], 36: [32, 17, 'other'],
};

/** Byte size of scalar metadata value types; 8 = string and 9 = array are variable. */
const VALUE_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;
const MAX_DIMS = 4;
const MAX_ARRAY_DEPTH = 3;
const FIRST_WINDOW = 1 << 20;

export const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"

export function hasGgufMagic(head: Uint8Array): boolean {
  return head.length >= 4 && GGUF_MAGIC.every((b, i) => head[i] === b);
}

/** parseGgufHeader's `head` ended before the header did: read more of the file and parse again. */
export class GgufHeaderIncomplete extends Error {}

/** Reads and validates a GGUF file's header. Throws TensorHeaderError. */
export async function readGgufLayout(file: FileReader): Promise<TensorLayout> {
  const limit = Math.min(file.size, MAX_TENSOR_HEADER);
  for (let window = Math.min(FIRST_WINDOW, limit); ; window = Math.min(window * 4, limit)) {
    const head = await readExact(file, 0, window);
    try {
      return parseGgufHeader(head, file.size);
    } catch (e) {
      if (!(e instanceof GgufHeaderIncomplete)) throw e;
      if (window === limit) throw new TensorHeaderError(`gguf: header exceeds the ${MAX_TENSOR_HEADER}-byte limit (damaged file?)`);
    }
  }
}

/** A little-endian reader over the window that throws GgufHeaderIncomplete at its end. */
function cursor(buf: Uint8Array) {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  const need = (n: number) => {
    if (n > buf.length - pos) throw new GgufHeaderIncomplete();
  };
  return {
    get pos() { return pos; },
    u32(): number { need(4); const v = view.getUint32(pos, true); pos += 4; return v; },
    u64(): number { need(8); const v = Number(view.getBigUint64(pos, true)); pos += 8; return v; },
    skip(n: number): void { need(n); pos += n; },
    bytes(n: number): Uint8Array { need(n); const b = buf.subarray(pos, pos + n); pos += n; return b; },
    remaining(): number { return buf.length - pos; },
  };
}
type Cursor = ReturnType<typeof cursor>;

const utf8 = new TextDecoder();

function readString(c: Cursor, what: string): Uint8Array {
  const len = c.u64();
  if (len > MAX_TENSOR_HEADER) throw new TensorHeaderError(`gguf: ${what} claims ${len} bytes`);
  return c.bytes(len);
}

/** Skips one metadata value; returns it as a number when it is an unsigned integer scalar. */
function skipValue(c: Cursor, type: number, depth: number, key: string): number | undefined {
  const size = VALUE_SIZES[type];
  if (size !== undefined) {
    if (type === 4) return c.u32();
    if (type === 10) return c.u64();
    c.skip(size);
    return undefined;
  }
  if (type === STRING) {
    readString(c, `value of "${key}"`);
    return undefined;
  }
  if (type !== ARRAY) throw new TensorHeaderError(`gguf: metadata "${key}" has unknown value type ${type}`);
  if (depth >= MAX_ARRAY_DEPTH) throw new TensorHeaderError(`gguf: metadata "${key}" nests arrays deeper than ${MAX_ARRAY_DEPTH}`);
  const elemType = c.u32();
  const count = c.u64();
  const elemSize = VALUE_SIZES[elemType];
  if (elemSize !== undefined) {
    if (count * elemSize > MAX_TENSOR_HEADER) throw new TensorHeaderError(`gguf: metadata "${key}" claims ${count} elements`);
    c.skip(count * elemSize);
    return undefined;
  }
  // Variable-size elements take at least 8 bytes each: a count beyond what is left is a lie,
  // or a header larger than the window (GgufHeaderIncomplete).
  if (count * 8 > MAX_TENSOR_HEADER) throw new TensorHeaderError(`gguf: metadata "${key}" claims ${count} elements`);
  for (let i = 0; i < count; i++) skipValue(c, elemType, depth + 1, key);
  return undefined;
}

function readMetadata(c: Cursor, kvCount: number): number {
  let alignment = 32;
  for (let i = 0; i < kvCount; i++) {
    const key = utf8.decode(readString(c, 'metadata key'));
    const type = c.u32();
    const value = skipValue(c, type, 0, key.slice(0, 200));
    if (key === 'general.alignment') {
      if (value === undefined || value < 1 || value > 1 << 30 || (value & (value - 1)) !== 0) {
        throw new TensorHeaderError(`gguf: general.alignment must be an unsigned power of two, got ${value ?? `a value of type ${type}`}`);
      }
      alignment = value;
    }
  }
  return alignment;
}

interface RawTensor { name: string; type: number; elements: number; ne0: number; offset: number }

function readTensorInfo(c: Cursor, names: Set<string>): RawTensor {
  const name = utf8.decode(readString(c, 'tensor name'));
  const what = `gguf: tensor "${name.slice(0, 200)}"`;
  if (names.has(name)) throw new TensorHeaderError(`${what} appears twice`);
  names.add(name);
  const nDims = c.u32();
  if (nDims < 1 || nDims > MAX_DIMS) throw new TensorHeaderError(`${what} has ${nDims} dimensions (1 to ${MAX_DIMS} allowed)`);
  const ne: number[] = [];
  for (let d = 0; d < nDims; d++) ne.push(c.u64());
  const type = c.u32();
  const offset = c.u64();
  return { name, type, elements: elementProduct(ne, what), ne0: ne[0], offset };
}

/**
 * Validates a GGUF header from `head`, the first bytes of a file of `fileSize` bytes. Pure.
 * Throws TensorHeaderError, or GgufHeaderIncomplete when `head` is too short to tell.
 */
export function parseGgufHeader(head: Uint8Array, fileSize: number): TensorLayout {
  try {
    return parseHeader(head, fileSize);
  } catch (e) {
    if (e instanceof GgufHeaderIncomplete && head.length >= fileSize) {
      throw new TensorHeaderError(`gguf: header runs past the end of the ${fileSize}-byte file (truncated?)`);
    }
    throw e;
  }
}

function parseHeader(head: Uint8Array, fileSize: number): TensorLayout {
  const c = cursor(head);
  if (!hasGgufMagic(c.bytes(4))) throw new TensorHeaderError('gguf: no "GGUF" magic');
  const version = c.u32();
  if (version !== 2 && version !== 3) {
    throw new TensorHeaderError(`gguf: version ${version} is not supported (2 and 3 are${version > 0xffff ? '; big-endian files are not' : ''})`);
  }
  const tensorCount = c.u64();
  const kvCount = c.u64();
  // Each tensor info takes at least 32 bytes and each key/value pair at least 13.
  if (tensorCount * 32 > MAX_TENSOR_HEADER) throw new TensorHeaderError(`gguf: absurd tensor count ${tensorCount}`);
  if (kvCount * 13 > MAX_TENSOR_HEADER) throw new TensorHeaderError(`gguf: absurd metadata count ${kvCount}`);
  if (tensorCount * 32 + kvCount * 13 > fileSize) {
    throw new TensorHeaderError(`gguf: ${tensorCount} tensors and ${kvCount} metadata values cannot fit in ${fileSize} bytes (truncated?)`);
  }
  const alignment = readMetadata(c, kvCount);
  const names = new Set<string>();
  const raw: RawTensor[] = [];
  for (let i = 0; i < tensorCount; i++) raw.push(readTensorInfo(c, names));
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  if (dataStart > fileSize) throw new TensorHeaderError(`gguf: data region starts at ${dataStart}, past the end of the ${fileSize}-byte file (truncated?)`);
  return { format: 'gguf', dataStart, tensors: placeTensors(raw, dataStart, alignment, fileSize) };
}

function placeTensors(raw: RawTensor[], dataStart: number, alignment: number, fileSize: number): TensorEntry[] {
  const entries = raw.map((t): TensorEntry & { known: boolean } => {
    const what = `gguf: tensor "${t.name.slice(0, 200)}"`;
    if (t.offset % alignment !== 0) throw new TensorHeaderError(`${what} starts at data offset ${t.offset}, not a multiple of the alignment ${alignment}`);
    const start = dataStart + t.offset;
    if (start > fileSize) throw new TensorHeaderError(`${what} starts at ${start}, past the end of the ${fileSize}-byte file (truncated?)`);
    const info = GGML_TYPES[t.type];
    if (!info) return { name: t.name, dtype: 'other', start, length: 0, known: false };
    const [block, bytes, dtype] = info;
    if (t.ne0 % block !== 0) throw new TensorHeaderError(`${what}: row of ${t.ne0} elements is not a whole number of ${block}-element blocks`);
    const length = (t.elements / block) * bytes;
    if (start + length > fileSize) throw new TensorHeaderError(`${what} ends at ${start + length}, past the end of the ${fileSize}-byte file (truncated?)`);
    return { name: t.name, dtype, start, length, known: true };
  });
  // Unknown types: the tensor runs to the next tensor's start (or the end of the file).
  const byStart = [...entries].sort((a, b) => a.start - b.start);
  byStart.forEach((t, i) => {
    if (!t.known) t.length = (i + 1 < byStart.length ? byStart[i + 1].start : fileSize) - t.start;
  });
  return sortAndCheckOverlap(entries.map(({ known: _known, ...t }) => t), 'gguf');
}
