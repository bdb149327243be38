// Streaming safetensors writer: an 8-byte little-endian header length, a JSON header padded
// with spaces to a multiple of 8 (so the data section is aligned, as the Rust writer does),
// then each tensor's bytes in header order. Values are produced chunk by chunk into a few
// reused buffers while earlier chunks are written by the libuv pool — memory stays a few MB
// whatever the model size.
import { open, type FileHandle } from 'node:fs/promises';
import { DTYPES, f32ToBf16, f32ToF16, type Dtype } from './dtype.js';
import type { TensorSpec } from './shape.js';

/** Fills f32[0..n) with the fp32 values of elements [start, start+n) of the tensor it was made for. */
export type ChunkFiller = (f32: Float32Array, start: number, n: number) => void;
export type FillerFactory = (t: TensorSpec) => ChunkFiller;

export interface Entry {
  spec: TensorSpec;
  dtype: Dtype;
}

const CHUNK_ELEMS = 1 << 20;
const SLOTS = 3; // one being filled, up to two being written

interface Slot {
  f32: Float32Array;
  bits: Uint32Array;
  u16: Uint16Array;
}

function makeSlots(): Slot[] {
  return Array.from({ length: SLOTS }, () => {
    const f32 = new Float32Array(CHUNK_ELEMS);
    return { f32, bits: new Uint32Array(f32.buffer), u16: new Uint16Array(CHUNK_ELEMS) };
  });
}

/** Tensors sorted by name, as safetensors' own serializer lays out same-dtype tensors. */
export function sortedEntries(entries: Entry[]): Entry[] {
  return [...entries].sort((x, y) => (x.spec.name < y.spec.name ? -1 : x.spec.name > y.spec.name ? 1 : 0));
}

export function headerBuffer(sorted: Entry[], metadata: Record<string, string>): { header: Buffer; dataBytes: number } {
  const obj: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const e of sorted) {
    const size = e.spec.numel * DTYPES[e.dtype].bytes;
    obj[e.spec.name] = { dtype: DTYPES[e.dtype].tag, shape: e.spec.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = Buffer.from(JSON.stringify(obj), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(header, 8);
  return { header, dataBytes: offset };
}

/** Elements per chunk: whole rows, so fillers that work row by row (merges) never see a split row. */
function chunkStep(t: TensorSpec): number {
  const row = t.shape.length > 1 ? t.shape[t.shape.length - 1] : t.numel;
  return row <= CHUNK_ELEMS ? Math.max(1, Math.floor(CHUNK_ELEMS / row)) * row : CHUNK_ELEMS;
}

async function writeFully(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** Writes one safetensors file; returns its size in bytes. */
export async function writeSafetensors(
  file: string,
  entries: Entry[],
  metadata: Record<string, string>,
  fillerFor: FillerFactory,
): Promise<number> {
  const sorted = sortedEntries(entries);
  const { header, dataBytes } = headerBuffer(sorted, metadata);
  const slots = makeSlots();
  const fh = await open(file, 'w');
  const inFlight: Promise<void>[] = [];
  let position = 0;
  let slotNo = 0;
  const enqueue = async (bytes: Uint8Array): Promise<void> => {
    inFlight.push(writeFully(fh, bytes, position));
    position += bytes.length;
    if (inFlight.length >= SLOTS - 1) await inFlight.shift();
  };
  try {
    await enqueue(header);
    for (const { spec, dtype } of sorted) {
      const fill = fillerFor(spec);
      const step = chunkStep(spec);
      for (let start = 0; start < spec.numel; start += step) {
        const n = Math.min(step, spec.numel - start);
        const slot = slots[slotNo++ % SLOTS];
        fill(slot.f32, start, n);
        await enqueue(encode(slot, n, dtype));
      }
    }
    await Promise.all(inFlight);
  } finally {
    await fh.close();
  }
  return header.length + dataBytes;
}

function encode(slot: Slot, n: number, dtype: Dtype): Uint8Array {
  if (dtype === 'fp32') return new Uint8Array(slot.f32.buffer, 0, n * 4);
  if (dtype === 'bf16') f32ToBf16(slot.bits, slot.u16, n);
  else f32ToF16(slot.bits, slot.u16, n);
  return new Uint8Array(slot.u16.buffer, 0, n * 2);
}
