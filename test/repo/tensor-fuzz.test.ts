/**
 * Fuzzing both header parsers through the splitter: random files and mutated valid ones.
 * Whatever the bytes, planning must answer (never throw for content, never hang), the pure
 * parsers may throw only their typed errors, and a plan always covers the file exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Segment } from '../../src/repo/chunker/chunker.js';
import { parseGgufHeader } from '../../src/repo/chunker/gguf.js';
import { parseSafetensorsHeader } from '../../src/repo/chunker/safetensors.js';
import { TensorHeaderError } from '../../src/repo/chunker/tensor-layout.js';
import { PIECE_SIZE, SMALL_GAP } from '../../src/repo/chunker/tensor-plan.js';
import { planTensorFile } from '../../src/repo/chunker/tensor-splitter.js';
import { buildGguf, buildSafetensors, memoryReader, randomBytes, randomInt, rng } from './tensor-fixtures.js';

const CASES = 1500; // per format; ~3,000 with the random files below
const PER_CASE_MS = 2000;

function checkPlan(segments: Segment[] | undefined, size: number, what: string): void {
  if (!segments) return;
  let pos = 0;
  for (const s of segments) {
    assert.equal(s.offset, pos, `${what}: contiguous`);
    assert.ok(Number.isSafeInteger(s.length) && s.length > 0, `${what}: positive length`);
    if (s.cut === 'fixed') assert.ok(s.pieceSize! >= s.length && s.length <= PIECE_SIZE + SMALL_GAP, `${what}: one bounded piece`);
    pos += s.length;
  }
  assert.equal(pos, size, `${what}: covers the file`);
}

const INTERESTING = [0n, 1n, 7n, 8n, 31n, 32n, 255n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, 1n << 53n, (1n << 63n) - 1n, (1n << 64n) - 1n];

function mutate(next: () => number, seed: Uint8Array): Uint8Array {
  let b = Buffer.from(seed);
  const rounds = 1 + randomInt(next, 4);
  for (let r = 0; r < rounds; r++) {
    const at = randomInt(next, Math.max(1, b.length));
    switch (randomInt(next, 7)) {
      case 0: b[at] ^= 1 << randomInt(next, 8); break;
      case 1: b[at] = [0, 0xff, 0x7f, 0x80, 0x20, 0x22, 0x7b, 0x7d, 0x5b][randomInt(next, 9)]; break;
      case 2: if (at + 8 <= b.length) b.writeBigUInt64LE(INTERESTING[randomInt(next, INTERESTING.length)], at - (at % 4)); break;
      case 3: b = b.subarray(0, at); break;
      case 4: b = Buffer.concat([b.subarray(0, at), Buffer.from(randomBytes(next, 1 + randomInt(next, 16))), b.subarray(at)]); break;
      case 5: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + randomInt(next, 16)))]); break;
      case 6: { // digits in the header: moves offsets, shapes and lengths while keeping JSON valid
        const i = b.indexOf(0x30 + randomInt(next, 10), at);
        if (i >= 0) b[i] = 0x30 + randomInt(next, 10);
        break;
      }
    }
  }
  return b;
}

function seeds() {
  const next = rng(99);
  const st = buildSafetensors([
    { name: 'w', dtype: 'BF16', shape: [64, 32], data: randomBytes(next, 4096) },
    { name: 'n', dtype: 'F32', shape: [16], data: randomBytes(next, 64) },
    { name: 'b', dtype: 'F16', shape: [3], data: randomBytes(next, 6) },
    { name: 'q', dtype: 'I8', shape: [5, 2], data: randomBytes(next, 10) },
  ]);
  const gguf = buildGguf([
    { name: 'tok', ggmlType: 8, dims: [64, 4], data: randomBytes(next, 2 * 34 * 4) },
    { name: 'norm', ggmlType: 0, dims: [16], data: randomBytes(next, 64) },
    { name: 'attn', ggmlType: 30, dims: [8, 8], data: randomBytes(next, 128) },
  ]);
  return { st, gguf };
}

async function fuzz(name: string, file: Uint8Array, what: string, stats: { planned: number; warned: number }) {
  const started = performance.now();
  const outcome = await planTensorFile(memoryReader(file), name);
  assert.ok(performance.now() - started < PER_CASE_MS, `${what}: answered in time`);
  checkPlan(outcome.segments, file.length, what);
  if (outcome.segments) stats.planned++;
  if (outcome.warning !== undefined) {
    assert.equal(typeof outcome.warning, 'string');
    stats.warned++;
  }
}

function onlyTyped(f: () => unknown, what: string): void {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof TensorHeaderError, `${what}: threw ${String(e)}`);
  }
}

test('fuzz: mutated safetensors files never crash the splitter and plans cover the file', { timeout: 60_000 }, async () => {
  const { st } = seeds();
  const next = rng(1);
  const stats = { planned: 0, warned: 0 };
  for (let i = 0; i < CASES; i++) {
    const file = mutate(next, st);
    await fuzz('model.safetensors', file, `safetensors case ${i}`, stats);
    if (file.length >= 8) {
      const n = Number(Buffer.from(file).readBigUInt64LE(0));
      if (n <= file.length - 8) onlyTyped(() => parseSafetensorsHeader(file.subarray(8, 8 + n), 8 + n, file.length), `safetensors case ${i}`);
    }
  }
  // The mutations must reach both outcomes, or the fuzzer tests nothing.
  assert.ok(stats.planned > CASES / 20 && stats.warned > CASES / 4, JSON.stringify(stats));
});

test('fuzz: mutated GGUF files never crash the splitter and plans cover the file', { timeout: 60_000 }, async () => {
  const { gguf } = seeds();
  const next = rng(2);
  const stats = { planned: 0, warned: 0 };
  for (let i = 0; i < CASES; i++) {
    const file = mutate(next, gguf);
    await fuzz('model.gguf', file, `gguf case ${i}`, stats);
    onlyTyped(() => parseGgufHeader(file, file.length), `gguf case ${i}`);
  }
  assert.ok(stats.planned > CASES / 20 && stats.warned > CASES / 4, JSON.stringify(stats));
});

test('fuzz: random files under tensor names, with and without plausible prefixes', { timeout: 60_000 }, async () => {
  const next = rng(3);
  const stats = { planned: 0, warned: 0 };
  for (let i = 0; i < 500; i++) {
    const file = Buffer.from(randomBytes(next, randomInt(next, 4096)));
    if (i % 3 === 1 && file.length >= 4) file.write('GGUF', 0, 'latin1');
    if (i % 3 === 2 && file.length >= 9) { file.writeBigUInt64LE(BigInt(randomInt(next, file.length)), 0); file[8] = 0x7b; }
    const name = ['x.safetensors', 'x.gguf', 'x.bin'][i % 3];
    await fuzz(name, file, `random case ${i}`, stats);
    onlyTyped(() => parseGgufHeader(file, file.length), `random case ${i}`);
  }
  assert.ok(stats.warned > 100, JSON.stringify(stats));
});
