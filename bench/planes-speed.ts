/**
 * Single-thread speed of the byte-plane loops alone (src/repo/codec/planes.ts), without zstd:
 *
 *   node dist/bench/planes-speed.js [--mb 256] [--runs 3]
 *
 * Splits and merges one 4 MiB piece (the tensor splitter's piece size) over and over, with
 * planes from the codecs' own scratch, for widths 2 and 4, with and without the XOR operand.
 * MB/s are element bytes per second of CPU time of this process, median of --runs after a
 * warm-up run (CPU time, so that other jobs on a shared machine do not skew them).
 */
import { mergePlanes, splitPlanes, type PlaneWidth } from '../src/repo/codec/planes.js';
import { makePlaneScratch } from '../src/repo/codec/scratch.js';

const PIECE = 4 << 20;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** MB/s of `step` (which moves PIECE bytes), median over `runs` runs of `mb` MB each. */
function rate(step: () => void, mb: number, runs: number): number {
  const steps = Math.max(1, Math.round((mb * 1e6) / PIECE));
  const rates: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t0 = cpuMs();
    for (let i = 0; i < steps; i++) step();
    const ms = cpuMs() - t0;
    if (r > 0) rates.push((steps * PIECE) / 1e3 / ms); // run 0 warms up the JIT
  }
  return median(rates);
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : Number(dflt); };
  const mb = opt('--mb', '256');
  const runs = opt('--runs', '3');
  const src = new Uint8Array(PIECE).map((_, i) => (i * 2654435761) >>> 24);
  const base = new Uint8Array(PIECE).map((_, i) => (i * 40503) >>> 8);
  const dst = new Uint8Array(PIECE);
  for (const width of [2, 4] as PlaneWidth[]) {
    const planes = makePlaneScratch(0).planes(width, PIECE / width);
    for (const xor of [undefined, base]) {
      const split = rate(() => splitPlanes(src, width, planes, xor), mb, runs);
      const merge = rate(() => mergePlanes(planes, width, dst, xor), mb, runs);
      if (Buffer.compare(dst, src) !== 0) throw new Error(`width ${width}: merge did not invert split`);
      console.log(`width ${width}${xor ? ' xor' : '    '}  split ${split.toFixed(0).padStart(6)} MB/s  merge ${merge.toFixed(0).padStart(6)} MB/s`);
    }
  }
}

main();
