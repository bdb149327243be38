/**
 * Single-thread speed and ratio of the tensor codecs on real checkpoints.
 *
 *   node dist/bench/codec-speed.js FILE.safetensors [PARENT.safetensors] [--runs 3]
 *   node dist/bench/codec-speed.js --synthetic bf16|fp16|fp32 [--mb 256]
 *
 * FILE is planned by the tensor splitter; every tensor piece is encoded with byte-grouped
 * (codec 2), plain zstd-1 for comparison, and, given PARENT, XOR delta (codec 3) against the
 * parent's piece of the same label. Encode/decode MB/s are over raw bytes, median of --runs,
 * by CPU time of this process (so that other jobs on a shared machine do not skew them;
 * zstd runs in this thread) and, in brackets, by wall-clock time.
 * Files come from /work/shared/bench/gen-checkpoints.mjs (e.g. --params 125M --series base,ft-full).
 */
import { openSync, readSync, fstatSync, closeSync } from 'node:fs';
import binding from 'zstd-napi/binding.js';
import type { FileReader, Segment } from '../src/repo/chunker/chunker.js';
import { planTensorFile } from '../src/repo/chunker/tensor-splitter.js';
import { makeByteGroupedCodec } from '../src/repo/codec/byte-grouped.js';
import type { Codec, DType, EncodeHint } from '../src/repo/codec/codec.js';
import { makeXorDeltaCodec } from '../src/repo/codec/xor-delta.js';

interface Piece { label: string; dtype?: DType; data: Uint8Array }

function fileReader(path: string): FileReader & { close(): void } {
  const fd = openSync(path, 'r');
  return {
    size: fstatSync(fd).size,
    async read(offset, length) {
      const b = Buffer.allocUnsafe(length);
      return b.subarray(0, readSync(fd, b, 0, length, offset));
    },
    close: () => closeSync(fd),
  };
}

async function tensorPieces(path: string): Promise<Piece[]> {
  const reader = fileReader(path);
  const { segments, warning } = await planTensorFile(reader, path);
  if (!segments) throw new Error(`${path}: not planned as a tensor file (${warning ?? 'not a tensor file'})`);
  const tensors = segments.filter((s): s is Segment & { label: string } => s.cut === 'fixed' && s.label !== undefined);
  const pieces: Piece[] = [];
  for (const s of tensors) pieces.push({ label: s.label, dtype: s.dtype, data: new Uint8Array(await reader.read(s.offset, s.length)) });
  reader.close();
  return pieces;
}

/** normal(0, 0.02) weights in `dtype` plus a fine-tuned copy (1.5% of values change in low bits). */
function synthetic(dtype: 'bf16' | 'fp16' | 'fp32', mb: number): { pieces: Piece[]; parent: Piece[] } {
  let s = 42;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const width = dtype === 'fp32' ? 4 : 2;
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const pieces: Piece[] = [];
  const parent: Piece[] = [];
  for (let p = 0; p < mb / 4; p++) {
    const data = new Uint8Array(4 << 20);
    const view = new DataView(data.buffer);
    for (let i = 0; i < data.length; i += width) {
      f[0] = 0.02 * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
      if (dtype === 'fp32') view.setUint32(i, u[0], true);
      else if (dtype === 'bf16') view.setUint16(i, (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16, true);
      else view.setUint16(i, halfBits(u[0]), true);
    }
    const tuned = data.slice();
    for (let i = 0; i < tuned.length; i += width) if (next() < 0.015) tuned[i] ^= 1;
    parent.push({ label: `t#${p}`, dtype, data });
    pieces.push({ label: `t#${p}`, dtype, data: tuned });
  }
  return { pieces, parent };
}

function halfBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const e = ((x >>> 23) & 0xff) - 112;
  if (e <= 0) return sign;
  return e >= 31 ? sign | 0x7c00 : sign | ((e << 10) + Math.round((x & 0x7fffff) / 8192));
}

const plainZstd: Codec = {
  id: 1,
  name: 'zstd-1 (plain)',
  encode(raw) {
    const out = Buffer.allocUnsafe(binding.compressBound(raw.length));
    return out.subarray(0, binding.compress(out, raw, 1));
  },
  decode(encoded, rawLength) {
    const out = Buffer.allocUnsafe(rawLength);
    binding.decompress(out, encoded);
    return out;
  },
};

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** Milliseconds of CPU this process used (user + system). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function measure(codec: Codec, pieces: Piece[], hint: (p: Piece) => EncodeHint, runs: number): string {
  const enc: number[] = [];
  const dec: number[] = [];
  const encWall: number[] = [];
  const decWall: number[] = [];
  let raw = 0;
  let stored = 0;
  let used = 0;
  for (let r = 0; r < runs + 1; r++) {
    let te = 0, td = 0, we = 0, wd = 0;
    raw = stored = used = 0;
    for (const p of pieces) {
      const h = hint(p);
      const [c0, t0] = [cpuMs(), performance.now()];
      const e = codec.encode(p.data, h);
      const [c1, t1] = [cpuMs(), performance.now()];
      raw += p.data.length;
      stored += e ? e.length : p.data.length;
      te += c1 - c0;
      we += t1 - t0;
      if (e) {
        used++;
        const d = codec.decode(e, p.data.length, h.base);
        td += cpuMs() - c1;
        wd += performance.now() - t1;
        if (r === 0 && Buffer.compare(d, p.data) !== 0) throw new Error(`${codec.name}: ${p.label} does not round-trip`);
      }
    }
    if (r > 0) { // run 0 warms up the JIT and checks losslessness
      enc.push(raw / 1e3 / te);
      dec.push(raw / 1e3 / td);
      encWall.push(raw / 1e3 / we);
      decWall.push(raw / 1e3 / wd);
    }
  }
  const pct = ((100 * stored) / raw).toFixed(1);
  const mbs = (cpu: number[], wall: number[]) => `${median(cpu).toFixed(0).padStart(5)} (${median(wall).toFixed(0)}) MB/s`;
  return `${codec.name.padEnd(16)} ${(raw / 1e6).toFixed(0).padStart(6)} MB  stored ${pct.padStart(5)}%  ratio ${(raw / stored).toFixed(3).padStart(7)}  encode ${mbs(enc, encWall)}  decode ${mbs(dec, decWall)}  (${used}/${pieces.length} pieces)`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string) => { const i = args.indexOf(name); return i >= 0 ? args.splice(i, 2)[1] : dflt; };
  const runs = Number(opt('--runs', '3'));
  const synth = opt('--synthetic', '');
  const mb = Number(opt('--mb', '256'));
  let pieces: Piece[];
  let parent: Piece[] | undefined;
  if (synth) {
    ({ pieces, parent } = synthetic(synth as 'bf16', mb));
  } else {
    if (!args[0]) throw new Error('usage: codec-speed FILE [PARENT] [--runs N] | --synthetic bf16|fp16|fp32 [--mb N]');
    pieces = await tensorPieces(args[0]);
    parent = args[1] ? await tensorPieces(args[1]) : undefined;
  }
  const float = pieces.filter((p) => p.dtype === 'bf16' || p.dtype === 'fp16' || p.dtype === 'fp32');
  console.log(`${pieces.length} tensor pieces (${float.length} float), dtypes: ${[...new Set(pieces.map((p) => p.dtype))].join(', ')}`);
  console.log(measure(plainZstd, pieces, () => ({}), runs));
  console.log(measure(makeByteGroupedCodec(), pieces, (p) => ({ dtype: p.dtype }), runs));
  if (parent) {
    const bases = new Map(parent.map((p) => [p.label, p.data]));
    const paired = pieces.filter((p) => bases.get(p.label)?.length === p.data.length);
    console.log(measure(makeXorDeltaCodec(), paired, (p) => ({ dtype: p.dtype, base: bases.get(p.label) }), runs));
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
