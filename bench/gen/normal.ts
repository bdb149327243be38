// Gaussian samples by the ziggurat method (Marsaglia & Tsang 2000, 128 layers), exact tails
// (an inverse-CDF table would clip them, and the tails set the bf16 exponent spread).
// Speed matters (the bench generates 20 GB): the hot loop inlines the sfc32 step and only
// *records* the ~3% of draws that miss the fast path; a second pass resolves those with a
// separate tail stream. A branchy slow path inside the loop costs V8 3-4x.
import { nextU32, nextUnit, rngFor, type RngState } from './rng.js';

const LAYERS = 128;
const R = 3.442619855899; // start of the tail
const V = 9.91256303526217e-3; // area of each layer
const SCALE = 2 ** 24; // magnitudes are signed 25-bit integers: bits 7..31 of a draw; bits 0..6 pick the layer

const kn = new Int32Array(LAYERS); // fast-path acceptance thresholds
const wn = new Float64Array(LAYERS); // integer -> x scale per layer
const fn = new Float64Array(LAYERS); // exp(-x^2/2) at layer edges

(function buildTables(): void {
  let dn = R;
  let tn = dn;
  const q = V / Math.exp(-0.5 * dn * dn);
  kn[0] = Math.floor((dn / q) * SCALE);
  kn[1] = 0;
  wn[0] = q / SCALE;
  wn[LAYERS - 1] = dn / SCALE;
  fn[0] = 1;
  fn[LAYERS - 1] = Math.exp(-0.5 * dn * dn);
  for (let i = LAYERS - 2; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(V / dn + Math.exp(-0.5 * dn * dn)));
    kn[i + 1] = Math.floor((dn / tn) * SCALE);
    tn = dn;
    fn[i] = Math.exp(-0.5 * dn * dn);
    wn[i] = dn / SCALE;
  }
})();

/** A Gaussian stream: the main sfc32 state and the tail stream that resolves rejected draws. */
export interface NormalStream {
  main: RngState;
  tail: RngState;
}

export function normalStream(seed: number, label: string): NormalStream {
  return { main: rngFor(seed, label), tail: rngFor(seed, `${label}#tail`) };
}

/** Rejected draw (index into the chunk, raw bits) lists; reused across calls (single-threaded, synchronous use). */
let rejIndex = new Int32Array(1 << 16);
let rejBits = new Int32Array(1 << 16);
function reserve(n: number): void {
  if (rejIndex.length < n) {
    rejIndex = new Int32Array(n);
    rejBits = new Int32Array(n);
  }
}

/** Slow path of one rejected draw, continuing with fresh draws from the tail stream. */
function slowNormal(s: RngState, bits: number): number {
  let j = bits >> 7;
  let iz = bits & 127;
  for (;;) {
    const x = j * wn[iz];
    if (iz === 0) {
      let xt: number;
      let yt: number;
      do {
        xt = -Math.log(nextUnit(s)) / R;
        yt = -Math.log(nextUnit(s));
      } while (yt + yt < xt * xt);
      return j > 0 ? R + xt : -R - xt;
    }
    if (fn[iz] + nextUnit(s) * (fn[iz - 1] - fn[iz]) < Math.exp(-0.5 * x * x)) return x;
    const u = nextU32(s) | 0;
    j = u >> 7;
    iz = u & 127;
    if (j < kn[iz] && -j < kn[iz]) return j * wn[iz];
  }
}

function fastFill(s: RngState, out: Float32Array, n: number, mean: number, std: number, idx: Int32Array, raw: Int32Array): number {
  let a = s.a, b = s.b, c = s.c, d = s.d, rejected = 0;
  for (let i = 0; i < n; i++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    const iz = t & 127;
    const j = t >> 7;
    out[i] = mean + std * (j * wn[iz]);
    if (j >= kn[iz] || -j >= kn[iz]) {
      idx[rejected] = i;
      raw[rejected] = t;
      rejected++;
    }
  }
  s.a = a; s.b = b; s.c = c; s.d = d;
  return rejected;
}

function fastAdd(s: RngState, w: Float32Array, n: number, std: number, idx: Int32Array, raw: Int32Array): number {
  let a = s.a, b = s.b, c = s.c, d = s.d, rejected = 0;
  for (let i = 0; i < n; i++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    const iz = t & 127;
    const j = t >> 7;
    if (j >= kn[iz] || -j >= kn[iz]) {
      idx[rejected] = i;
      raw[rejected] = t;
      rejected++;
    } else {
      w[i] += std * (j * wn[iz]);
    }
  }
  s.a = a; s.b = b; s.c = c; s.d = d;
  return rejected;
}

/** out[i] = mean + std * N(0,1) for i in [0, n). */
export function fillNormal(s: NormalStream, out: Float32Array, n: number, mean: number, std: number): void {
  reserve(n);
  const rejected = fastFill(s.main, out, n, mean, std, rejIndex, rejBits);
  for (let r = 0; r < rejected; r++) out[rejIndex[r]] = mean + std * slowNormal(s.tail, rejBits[r]);
}

/** w[i] += std * N(0,1): one optimiser step's drift on fp32 master weights (each sum rounds to fp32). */
export function addNormal(s: NormalStream, w: Float32Array, n: number, std: number): void {
  reserve(n);
  const rejected = fastAdd(s.main, w, n, std, rejIndex, rejBits);
  for (let r = 0; r < rejected; r++) w[rejIndex[r]] += std * slowNormal(s.tail, rejBits[r]);
}
