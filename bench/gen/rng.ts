// Seeded pseudo-random streams for the test-data generator.
// sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG): 128-bit state, passes PractRand to
// many TB, and is a handful of 32-bit ops per draw — cheap enough to generate weights at
// hundreds of MB/s in plain JS. Every stream is keyed by (seed, label), so any tensor of any
// version can be regenerated on its own, in any order, without reading other files.

export interface RngState {
  a: number;
  b: number;
  c: number;
  d: number;
}

/** 32-bit FNV-1a over the label, mixed with the seed and finalised (murmur3 fmix). */
function hashLabel(label: string, salt: number): number {
  let h = (0x811c9dc5 ^ Math.imul(salt, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A fresh stream for (seed, label); 12 warm-up draws decorrelate similar labels. */
export function rngFor(seed: number, label: string): RngState {
  const s: RngState = {
    a: hashLabel(label, seed),
    b: hashLabel(label, seed + 1),
    c: hashLabel(label, seed + 2),
    d: 1,
  };
  for (let i = 0; i < 12; i++) nextU32(s);
  return s;
}

export function nextU32(s: RngState): number {
  const t = (((s.a + s.b) | 0) + s.d) | 0;
  s.d = (s.d + 1) | 0;
  s.a = s.b ^ (s.b >>> 9);
  s.b = (s.c + (s.c << 3)) | 0;
  s.c = (s.c << 21) | (s.c >>> 11);
  s.c = (s.c + t) | 0;
  return t >>> 0;
}

/** Uniform in (0, 1), never 0 (safe under log). */
export function nextUnit(s: RngState): number {
  return (nextU32(s) + 0.5) / 4294967296;
}

/** A stable 32-bit hash of (seed, label), for per-record decisions that must not consume a stream. */
export function hash32(seed: number, label: string): number {
  return hashLabel(label, seed);
}
