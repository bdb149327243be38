/**
 * The byte-grouped payload (stored format in docs/ai-storage.md, "Codec 2"):
 *
 *   u8 version (1) | u8 width (2|4) | width × (u8 method, u32le storedLength) |
 *   plane 0 … plane width-1 | tail
 *
 * Plane b holds byte b of every whole element; method 0 stores it raw, method 1 as one
 * zstd frame. The tail is the last rawLength mod width bytes, stored raw. Each plane gets
 * the method that pays for it, decided per blob: zstd is tried on a sample first, and a
 * plane whose sample does not shrink is stored raw without compressing the rest, which
 * keeps near-random mantissa planes at memcpy speed.
 */
import { FormatError } from '../errors.js';
import { elementCount, mergePlanes, splitPlanes, type PlaneWidth } from './planes.js';
import { makePlaneScratch, type PlaneScratch } from './scratch.js';
import type { ZstdContext, ZstdProfile } from './zstd-context.js';

export const GROUPED_VERSION = 1;
export const PLANE_RAW = 0;
export const PLANE_ZSTD = 1;

const SAMPLE = 64 * 1024;
/** A plane is compressed only when zstd saves at least this fraction (else decode time is wasted). */
const MIN_SAVING = 0.02;

export function groupedHeaderLength(width: PlaneWidth): number {
  return 2 + 5 * width;
}

/** Largest stored size at which compressing `length` bytes pays. */
function payingSize(length: number): number {
  return Math.floor(length * (1 - MIN_SAVING));
}

/** Scratch memory for encodeGrouped / decodeGrouped: one per codec instance. */
export function makeGroupedScratch(): PlaneScratch {
  return makePlaneScratch(payingSize(SAMPLE));
}

/** True when compressing a sample of `plane` pays; planes up to two samples long skip the probe. */
function worthTrying(plane: Uint8Array, zstd: ZstdContext, profile: ZstdProfile, probe: Uint8Array): boolean {
  if (plane.length <= 2 * SAMPLE) return true;
  const mid = Math.floor(plane.length / 2) - SAMPLE / 2;
  return zstd.compressInto(probe, plane.subarray(mid, mid + SAMPLE), profile) >= 0;
}

/** Optional arguments of encodeGrouped / decodeGrouped. */
export interface GroupedOptions {
  /** Bytes left free at the start of the encoded output for the caller's own header. */
  reserve?: number;
  /** The payload holds `raw XOR base` (same length as raw); XOR is fused into the plane loops. */
  base?: Uint8Array;
  /** decodeGrouped writes the plaintext here (exactly rawLength bytes) instead of a new array. */
  out?: Uint8Array;
}

/**
 * Encodes `raw` (or raw XOR base) as a byte-grouped payload. Always succeeds (all planes raw at
 * worst); the caller decides whether it pays. The result lives in `scratch.output` (valid until
 * the next encode with this scratch) and is at most reserve + header + raw.length long: a plane
 * is compressed straight into its place with no more room than would pay.
 */
export function encodeGrouped(raw: Uint8Array, width: PlaneWidth, zstd: ZstdContext, profile: ZstdProfile, scratch: PlaneScratch, options: GroupedOptions = {}): Uint8Array {
  const reserve = options.reserve ?? 0;
  const base = options.base;
  const n = elementCount(raw.length, width);
  const tail = raw.length - n * width;
  const planes = scratch.planes(width, n);
  splitPlanes(raw, width, planes, base);
  // Every byte of the returned range is written below (the reserve by the caller).
  const all = scratch.output(reserve + groupedHeaderLength(width) + raw.length);
  const out = all.subarray(reserve);
  out[0] = GROUPED_VERSION;
  out[1] = width;
  let pos = groupedHeaderLength(width);
  for (let b = 0; b < width; b++) {
    const plane = planes[b];
    let method = PLANE_RAW;
    let stored = n;
    if (n > 0 && worthTrying(plane, zstd, profile, scratch.probe)) {
      const size = zstd.compressInto(out.subarray(pos, pos + payingSize(n)), plane, profile);
      if (size >= 0) {
        method = PLANE_ZSTD;
        stored = size;
      }
    }
    if (method === PLANE_RAW) out.set(plane, pos);
    out[2 + 5 * b] = method;
    writeU32(out, 3 + 5 * b, stored);
    pos += stored;
  }
  for (let i = n * width; i < raw.length; i++) out[pos++] = raw[i] ^ (base ? base[i] : 0);
  return view(all, 0, reserve + pos);
}

/** Decodes a byte-grouped payload that must expand to exactly `rawLength` bytes (XORed with `base` when given). */
export function decodeGrouped(payload: Uint8Array, rawLength: number, zstd: ZstdContext, scratch: PlaneScratch, options: GroupedOptions = {}): Uint8Array {
  const base = options.base;
  if (payload.length < 2) throw new FormatError('byte-grouped blob is truncated (no header)');
  const version = payload[0];
  const width = payload[1];
  if (version !== GROUPED_VERSION) throw new FormatError(`byte-grouped blob has format version ${version}; this lifeboat reads version ${GROUPED_VERSION}: upgrade lifeboat`);
  if (width !== 2 && width !== 4) throw new FormatError(`byte-grouped blob has element width ${width}; only 2 and 4 exist`);
  const head = groupedHeaderLength(width);
  if (payload.length < head) throw new FormatError('byte-grouped blob is truncated (plane table)');
  const n = elementCount(rawLength, width);
  const tail = rawLength - n * width;
  // allocUnsafe: merge and tail write every byte, and nothing is returned on error.
  const out = options.out ?? Buffer.allocUnsafe(rawLength);
  // A raw plane is merged from where it lies in the payload; a compressed one is decompressed into scratch.
  const planes = scratch.planes(width, n);
  let pos = head;
  for (let b = 0; b < width; b++) {
    const method = payload[2 + 5 * b];
    const stored = readU32(payload, 3 + 5 * b);
    if (pos + stored > payload.length) throw new FormatError(`byte-grouped blob is truncated (plane ${b})`);
    const body = payload.subarray(pos, pos + stored);
    if (method === PLANE_RAW) {
      if (stored !== n) throw new FormatError(`byte-grouped blob: raw plane ${b} holds ${stored} bytes, expected ${n}`);
      planes[b] = body;
    } else if (method === PLANE_ZSTD) {
      zstd.decompressExact(planes[b], body, `byte-grouped blob, plane ${b}`);
    } else {
      throw new FormatError(`byte-grouped blob: plane ${b} has unknown method ${method}: upgrade lifeboat`);
    }
    pos += stored;
  }
  if (payload.length - pos !== tail) throw new FormatError(`byte-grouped blob: ${payload.length - pos} trailing bytes, expected ${tail}`);
  mergePlanes(planes, width, out, base);
  for (let i = n * width; i < rawLength; i++) out[i] = payload[pos++] ^ (base ? base[i] : 0);
  return view(out, 0, rawLength);
}

/**
 * A plain Uint8Array over part of `b`: codecs return plain arrays, never Buffers, because
 * Buffer#slice shares memory where Uint8Array#slice copies, a trap for callers.
 */
export function view(b: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + start, end - start);
}

function writeU32(a: Uint8Array, at: number, v: number): void {
  a[at] = v & 0xff;
  a[at + 1] = (v >>> 8) & 0xff;
  a[at + 2] = (v >>> 16) & 0xff;
  a[at + 3] = (v >>> 24) & 0xff;
}

function readU32(a: Uint8Array, at: number): number {
  return (a[at] | (a[at + 1] << 8) | (a[at + 2] << 16) | (a[at + 3] << 24)) >>> 0;
}
