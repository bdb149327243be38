/**
 * Both byte-plane implementations, the addon's (native/planes.c) and the WebAssembly kernel,
 * against a plain byte loop, which is the specification:
 * planes[b][i] = src[i × width + b] XOR xor[i × width + b].
 * The addon is built by `npm ci`; this suite fails, rather than skips, when it is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NATIVE_PLANES, PLANES_IMPLEMENTATION, WASM_PLANES, type PlaneFunctions, type PlaneWidth } from '../../src/repo/codec/planes.js';
import { CHUNK } from '../../src/repo/codec/planes-kernel.js';
import { randomBytes, randomInt, rng } from './tensor-fixtures.js';

function referenceSplit(src: Uint8Array, width: PlaneWidth, xor?: Uint8Array): Uint8Array[] {
  const n = Math.floor(src.length / width);
  const planes = Array.from({ length: width }, () => new Uint8Array(n));
  for (let i = 0; i < n; i++) for (let b = 0; b < width; b++) planes[b][i] = src[i * width + b] ^ (xor ? xor[i * width + b] : 0);
  return planes;
}

function referenceMerge(planes: Uint8Array[], width: PlaneWidth, length: number, xor?: Uint8Array): Uint8Array {
  const dst = new Uint8Array(length);
  for (let i = 0; i < Math.floor(length / width); i++) for (let b = 0; b < width; b++) dst[i * width + b] = planes[b][i] ^ (xor ? xor[i * width + b] : 0);
  return dst;
}

/** `data` copied to byte offset 0..3 of a fresh buffer (views need not be aligned). */
function atRandomOffset(next: () => number, data: Uint8Array): Uint8Array {
  const offset = randomInt(next, 4);
  const b = new Uint8Array(data.length + offset);
  b.set(data, offset);
  return b.subarray(offset);
}

/** Lengths around every boundary the kernels have: the 16-element step and the chunk copied per call. */
function lengths(next: () => number, width: PlaneWidth): number[] {
  const chunk = CHUNK; // bytes of elements per kernel call
  const edges = [0, 1, width - 1, width, 15 * width, 16 * width, 17 * width + 1, 33 * width + width - 1, chunk - width, chunk, chunk + width, 2 * chunk + 16 * width + 1];
  const random = Array.from({ length: 12 }, () => randomInt(next, 3 * chunk));
  return [...edges, ...random, 4 * 1024 * 1024 + 13];
}

test('the byte planes of the addon that npm ci builds are used', () => {
  assert.equal(PLANES_IMPLEMENTATION, 'native', 'build/Release/lifeboat_native.node is missing: run "npm ci" (it needs make and a C compiler)');
});

const implementations: Array<[string, PlaneFunctions | undefined]> = [
  ['native', NATIVE_PLANES],
  ['wasm', WASM_PLANES],
];

for (const [name, impl] of implementations) {
  for (const width of [2, 4] as PlaneWidth[]) {
    for (const withXor of [false, true]) {
      test(`${name}, width ${width}${withXor ? ' with XOR' : ''}: split and merge match the byte loop at any length and alignment`, () => {
        assert.ok(impl, `no ${name} implementation in this process`);
        const next = rng(width * 10 + Number(withXor));
        for (const length of lengths(next, width)) {
          const src = atRandomOffset(next, randomBytes(next, length));
          const xor = withXor ? atRandomOffset(next, randomBytes(next, length)) : undefined;
          const n = Math.floor(length / width);
          const expected = referenceSplit(src, width, xor);
          // Planes one byte longer than needed: the byte past n must stay untouched.
          const planes = expected.map(() => atRandomOffset(next, new Uint8Array(n + 1).fill(0xa5)));
          impl.split(src, width, planes, xor);
          for (let b = 0; b < width; b++) {
            assert.ok(Buffer.from(planes[b].subarray(0, n)).equals(expected[b]), `plane ${b} of ${length} bytes`);
            assert.equal(planes[b][n], 0xa5, `plane ${b} written past its ${n} elements`);
          }
          const dst = atRandomOffset(next, new Uint8Array(length).fill(0x5a));
          impl.merge(planes, width, dst, xor);
          const whole = n * width;
          assert.ok(Buffer.from(dst.subarray(0, whole)).equals(referenceMerge(expected, width, length, xor).subarray(0, whole)), `merge of ${length} bytes`);
          assert.ok(Buffer.from(dst.subarray(0, whole)).equals(src.subarray(0, whole)), `round trip of ${length} bytes`);
          assert.ok(dst.subarray(whole).every((v) => v === 0x5a), 'the partial tail element is left to the caller');
        }
      });
    }
  }
}

test('the committed planes-wasm.ts is what scripts/build-wasm.mjs assembles from planes.wat', async () => {
  const script = new URL('../../../scripts/build-wasm.mjs', import.meta.url);
  const build = (await import(script.href)) as { WAT: string; GENERATED: string; renderPlanesModule(wat: string): Promise<string> };
  const fresh = await build.renderPlanesModule(readFileSync(build.WAT, 'utf8'));
  assert.equal(readFileSync(build.GENERATED, 'utf8'), fresh, 'planes-wasm.ts is stale: run node scripts/build-wasm.mjs');
});

test('the addon refuses planes or an XOR operand shorter than the elements, writing nothing', () => {
  const native = NATIVE_PLANES;
  assert.ok(native);
  const dst = new Uint8Array(8).fill(7);
  assert.throws(() => native.merge([new Uint8Array(4), new Uint8Array(3)], 2, dst), RangeError);
  assert.throws(() => native.merge([new Uint8Array(4), new Uint8Array(4)], 2, dst, new Uint8Array(7)), RangeError);
  assert.throws(() => native.split(new Uint8Array(8), 4, [new Uint8Array(2), new Uint8Array(2), new Uint8Array(2), new Uint8Array(1)]), RangeError);
  assert.ok(dst.every((v) => v === 7));
});
