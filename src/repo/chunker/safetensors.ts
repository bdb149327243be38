/**
 * safetensors header parser (https://github.com/huggingface/safetensors, "Format"):
 *
 *   u64le N | N bytes of UTF-8 JSON | tensor data
 *
 * The JSON maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative
 * to the data region) plus an optional "__metadata__" object. Validation is strict where a
 * wrong answer could mislead the splitter (sizes, ranges, overlaps) and lenient where it
 * cannot: unknown dtypes (new ones appear often) are accepted as 'other' without a size
 * check, and bytes no tensor claims become their own segments instead of an error.
 */
import type { DType } from '../codec/codec.js';
import type { FileReader } from './chunker.js';
import { elementProduct, MAX_TENSOR_HEADER, readExact, sortAndCheckOverlap, TensorHeaderError, type TensorEntry, type TensorLayout } from './tensor-layout.js';

const DTYPES: Record<string, { dtype: DType; size: number }> = {
  BOOL: { dtype: 'bool', size: 1 },
  U8: { dtype: 'uint8', size: 1 },
  I8: { dtype: 'int8', size: 1 },
  F8_E5M2: { dtype: 'fp8', size: 1 },
  F8_E4M3: { dtype: 'fp8', size: 1 },
  F8_E8M0: { dtype: 'fp8', size: 1 },
  I16: { dtype: 'int16', size: 2 },
  U16: { dtype: 'other', size: 2 },
  F16: { dtype: 'fp16', size: 2 },
  BF16: { dtype: 'bf16', size: 2 },
  I32: { dtype: 'int32', size: 4 },
  U32: { dtype: 'other', size: 4 },
  F32: { dtype: 'fp32', size: 4 },
  F64: { dtype: 'fp64', size: 8 },
  I64: { dtype: 'int64', size: 8 },
  U64: { dtype: 'other', size: 8 },
};

const MAX_RANK = 32;
const UNKNOWN_DTYPE = /^[A-Z][A-Z0-9_]{0,31}$/;

/** Cheap sniff of the first bytes: a plausible header length followed by '{'. */
export function looksLikeSafetensors(head: Uint8Array, fileSize: number): boolean {
  if (head.length < 9 || fileSize < 10) return false;
  const n = readU64(head, 0);
  return n >= 2 && n <= MAX_TENSOR_HEADER && 8 + n <= fileSize && head[8] === 0x7b;
}

/** Reads and validates the header of a safetensors file. Throws TensorHeaderError. */
export async function readSafetensorsLayout(file: FileReader): Promise<TensorLayout> {
  if (file.size < 8) throw new TensorHeaderError(`safetensors: file of ${file.size} bytes is too short for the 8-byte header length`);
  const n = readU64(await readExact(file, 0, 8), 0);
  if (n < 2) throw new TensorHeaderError(`safetensors: header length ${n} is too small for a JSON object`);
  if (n > MAX_TENSOR_HEADER) throw new TensorHeaderError(`safetensors: header length ${n} exceeds the ${MAX_TENSOR_HEADER}-byte limit (damaged file, or not safetensors)`);
  if (8 + n > file.size) throw new TensorHeaderError(`safetensors: header length ${n} runs past the end of the ${file.size}-byte file (truncated?)`);
  const json = await readExact(file, 8, n);
  return parseSafetensorsHeader(json, 8 + n, file.size);
}

/** Validates a header's JSON bytes; `dataStart` = 8 + its length. Pure. Throws TensorHeaderError. */
export function parseSafetensorsHeader(json: Uint8Array, dataStart: number, fileSize: number): TensorLayout {
  const header = parseJson(json);
  const dataLength = fileSize - dataStart;
  const tensors: TensorEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isObject(info)) throw new TensorHeaderError('safetensors: "__metadata__" is not an object');
      continue;
    }
    tensors.push(parseTensor(name, info, dataStart, dataLength));
  }
  return { format: 'safetensors', dataStart, tensors: sortAndCheckOverlap(tensors, 'safetensors') };
}

function parseJson(json: Uint8Array): Record<string, unknown> {
  if (json[0] !== 0x7b) throw new TensorHeaderError('safetensors: header does not start with "{"');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (cause) {
    throw new TensorHeaderError(`safetensors: header is not valid UTF-8 JSON (${(cause as Error).message})`, { cause });
  }
  if (!isObject(value)) throw new TensorHeaderError('safetensors: header is not a JSON object');
  return value;
}

function parseTensor(name: string, info: unknown, dataStart: number, dataLength: number): TensorEntry {
  const what = `safetensors: tensor "${name.slice(0, 200)}"`;
  if (!isObject(info)) throw new TensorHeaderError(`${what} is not an object`);
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string') throw new TensorHeaderError(`${what} has no dtype string`);
  if (!Array.isArray(shape) || shape.length > MAX_RANK) throw new TensorHeaderError(`${what} has no shape array of at most ${MAX_RANK} dimensions`);
  if (!Array.isArray(offsets) || offsets.length !== 2) throw new TensorHeaderError(`${what} has no data_offsets [begin, end]`);
  const [begin, end] = offsets as unknown[];
  if (!isOffset(begin) || !isOffset(end) || begin > end) throw new TensorHeaderError(`${what} has invalid data_offsets [${begin}, ${end}]`);
  if (end > dataLength) throw new TensorHeaderError(`${what} ends at data offset ${end}, past the ${dataLength}-byte data region (truncated?)`);
  const elements = elementProduct(shape as number[], what);
  const known = DTYPES[dtype];
  if (known) {
    if (elements * known.size !== end - begin) {
      throw new TensorHeaderError(`${what}: shape [${shape.join(', ')}] of ${dtype} needs ${elements * known.size} bytes, data_offsets give ${end - begin}`);
    }
  } else if (!UNKNOWN_DTYPE.test(dtype)) {
    throw new TensorHeaderError(`${what} has an invalid dtype "${dtype.slice(0, 40)}"`);
  }
  return { name, dtype: known ? known.dtype : 'other', start: dataStart + begin, length: end - begin };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOffset(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** u64le as a number; values beyond 2^53 become Infinity-like large numbers that fail every range check. */
function readU64(b: Uint8Array, at: number): number {
  let v = 0;
  for (let i = 7; i >= 0; i--) v = v * 256 + b[at + i];
  return v;
}
