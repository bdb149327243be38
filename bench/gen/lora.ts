// LoRA factors of adapter version k for one adapted module (PEFT layout: A is [r, in], B is
// [out, r], delta W = (alpha / r) * B @ A). A starts kaiming-like and drifts; B starts at zero
// (as PEFT initialises it) and grows with training, so later versions move the model further.
import { roundInPlace, type Dtype } from './dtype.js';
import { addNormal, fillNormal, normalStream } from './normal.js';

export interface LoraOptions {
  seed: number;
  rank: number;
  alpha: number;
  dtype: Dtype;
}

export interface LoraFactors {
  a: Float32Array; // [rank, inDim] row-major
  b: Float32Array; // [outDim, rank] row-major
  rank: number;
  inDim: number;
  scale: number;
}

const B_GROWTH = 1e-3; // std of B's trained direction per version
const B_NOISE = 3e-4;
const A_DRIFT = 0.05; // relative to A's init std

export function loraFactors(o: LoraOptions, version: number, layer: number, target: 'q' | 'v', inDim: number, outDim: number): LoraFactors {
  const key = `${layer}.${target}`;
  const aStd = 1 / Math.sqrt(3 * inDim);
  const a = new Float32Array(o.rank * inDim);
  fillNormal(normalStream(o.seed, `lora/A/${key}`), a, a.length, 0, aStd);
  addNormal(normalStream(o.seed, `lora/A/${version}/${key}`), a, a.length, A_DRIFT * aStd);
  const b = new Float32Array(outDim * o.rank);
  fillNormal(normalStream(o.seed, `lora/B/${key}`), b, b.length, 0, B_GROWTH * version);
  addNormal(normalStream(o.seed, `lora/B/${version}/${key}`), b, b.length, B_NOISE);
  // the adapter file stores these rounded; merges must use exactly the stored values
  roundInPlace(a, o.dtype);
  roundInPlace(b, o.dtype);
  return { a, b, rank: o.rank, inDim, scale: o.alpha / o.rank };
}

/** w[rows of this chunk] += scale * B[rows] @ A, for a chunk starting at element `start` (whole rows). */
export function addLowRank(w: Float32Array, start: number, n: number, f: LoraFactors): void {
  const firstRow = start / f.inDim;
  const rows = n / f.inDim;
  for (let r = 0; r < rows; r++) {
    const out = (firstRow + r) * f.rank;
    const base = r * f.inDim;
    for (let q = 0; q < f.rank; q++) {
      const coef = f.scale * f.b[out + q];
      if (coef === 0) continue;
      const aRow = q * f.inDim;
      for (let j = 0; j < f.inDim; j++) w[base + j] += coef * f.a[aRow + j];
    }
  }
}
