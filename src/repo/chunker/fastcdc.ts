/**
 * FastCDC content-defined chunking (Xia et al., 2016/2020): a gear rolling hash with
 * normalized chunking (a stricter mask before the average size, a looser one after) and
 * cut-point skipping (no cut before minSize).
 *
 * Defaults: min 512 KiB, average 1 MiB, max 8 MiB. Why: AI artifacts are large (GBs), so 1 MiB
 * blobs keep the index at ~1 M entries per TiB (tens of MB of RAM) and pack headers small, while
 * still localising a change to about a megabyte; restic's 512 KiB / 1 MiB / 8 MiB bounds have
 * proven themselves on general data. Model weights are cut by the tensor-aware splitter instead.
 *
 * The gear table is derived from a per-repository seed, so cut points (and thus blob sizes)
 * do not reveal content to someone who knows the chunker.
 */
import type { CdcParams } from './chunker.js';

export const DEFAULT_CDC: Omit<CdcParams, 'seed'> = { minSize: 512 * 1024, avgSize: 1024 * 1024, maxSize: 4 * 1024 * 1024 };

export interface Gear {
  table: Int32Array;
  maskS: number;
  maskL: number;
  params: CdcParams;
}

/** splitmix32: a small, well-mixed PRNG for deriving the gear table from the seed. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) | 0;
  };
}

/** A mask of `bits` ones in the high bits: the gear hash's high bits depend on the most recent 32 bytes. */
function highMask(bits: number): number {
  return (((1 << bits) - 1) << (32 - bits)) | 0;
}

export function makeGear(params: CdcParams): Gear {
  const next = splitmix32(params.seed);
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) table[i] = next();
  const bits = Math.round(Math.log2(params.avgSize));
  return { table, maskS: highMask(bits + 2), maskL: highMask(bits - 2), params };
}

const ZEROS = new Uint8Array(8 * 1024 * 1024);

/** True when `data[start, end)` is all zero bytes (a hole or zero padding). Uses memcmp-speed compares. */
export function isZero(data: Uint8Array, start: number, end: number): boolean {
  for (let at = start; at < end; at += ZEROS.length) {
    const n = Math.min(ZEROS.length, end - at);
    if (Buffer.compare(data.subarray(at, at + n), ZEROS.subarray(0, n)) !== 0) return false;
  }
  return true;
}

/**
 * Length of the next chunk of `data[start, end)`, or -1 when more data is needed to decide
 * (fewer than maxSize bytes available and `final` is false).
 */
export function nextCut(gear: Gear, data: Uint8Array, start: number, end: number, final: boolean): number {
  const { minSize, avgSize, maxSize } = gear.params;
  const available = end - start;
  if (available < maxSize && !final) return -1;
  if (available <= minSize) return available;
  const limit = Math.min(available, maxSize);
  // Runs of zeros (sparse files, padding) are cut at maxSize without hashing.
  if (limit === maxSize && data[start] === 0 && data[start + limit - 1] === 0 && isZero(data, start, start + limit)) return limit;
  const cut = scan(gear.table, gear.maskS, gear.maskL, data, start + minSize, start + Math.min(avgSize, limit), start + limit);
  return cut - start;
}

/** The hot loop, kept tiny so V8 optimises it once and keeps it optimised. */
function scan(table: Int32Array, maskS: number, maskL: number, data: Uint8Array, from: number, normal: number, limit: number): number {
  let h = 0;
  let i = from;
  for (; i < normal; i++) {
    h = ((h << 1) + table[data[i]]) | 0;
    if ((h & maskS) === 0) return i + 1;
  }
  for (; i < limit; i++) {
    h = ((h << 1) + table[data[i]]) | 0;
    if ((h & maskL) === 0) return i + 1;
  }
  return limit;
}
