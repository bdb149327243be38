import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergePlanes, splitPlanes, type PlaneWidth } from '../../src/repo/codec/planes.js';
import { xorInto } from '../../src/repo/codec/xor.js';
import { randomBytes, rng } from './tensor-fixtures.js';

/** Views at every byte offset 0..3 of a fresh buffer, to exercise both the word and the byte loops. */
function at(offset: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(data.length + offset);
  b.set(data, offset);
  return b.subarray(offset);
}

test('splitPlanes puts byte b of element i at planes[b][i], and mergePlanes inverts it', () => {
  const next = rng(1);
  for (const width of [2, 4] as PlaneWidth[]) {
    for (let length = 0; length < 70; length++) {
      for (let offset = 0; offset < 4; offset++) {
        const src = at(offset, randomBytes(next, length));
        const n = Math.floor(length / width);
        const planes = Array.from({ length: width }, () => at(offset, new Uint8Array(n)));
        splitPlanes(src, width, planes);
        for (let i = 0; i < n; i++) for (let b = 0; b < width; b++) assert.equal(planes[b][i], src[i * width + b]);
        const dst = at(3 - offset, new Uint8Array(length));
        mergePlanes(planes, width, dst);
        assert.deepEqual(dst.subarray(0, n * width), src.subarray(0, n * width), `width ${width}, length ${length}, offset ${offset}`);
        assert.ok(dst.subarray(n * width).every((v) => v === 0), 'the partial tail element is left to the caller');
      }
    }
  }
});

test('splitPlanes and mergePlanes with an XOR operand split a XOR b and restore a', () => {
  const next = rng(3);
  for (const width of [2, 4] as PlaneWidth[]) {
    for (let length = 0; length < 50; length++) {
      for (let offset = 0; offset < 4; offset++) {
        const a = at(offset, randomBytes(next, length));
        const b = at((offset + 1) % 4, randomBytes(next, length));
        const n = Math.floor(length / width);
        const planes = Array.from({ length: width }, () => new Uint8Array(n));
        splitPlanes(a, width, planes, b);
        for (let i = 0; i < n; i++) for (let k = 0; k < width; k++) assert.equal(planes[k][i], a[i * width + k] ^ b[i * width + k]);
        const dst = new Uint8Array(length);
        mergePlanes(planes, width, dst, b);
        assert.deepEqual(dst.subarray(0, n * width), a.slice(0, n * width));
        // Aligned inputs take the word loops: check them explicitly too.
        const a2 = a.slice();
        const b2 = b.slice();
        splitPlanes(a2, width, planes, b2);
        mergePlanes(planes, width, dst, b2);
        assert.deepEqual(dst.subarray(0, n * width), a2.subarray(0, n * width), `width ${width}, length ${length}`);
      }
    }
  }
});

test('xorInto is its own inverse at any alignment', () => {
  const next = rng(2);
  for (let length = 0; length < 40; length++) {
    const a = at(length % 4, randomBytes(next, length));
    const b = at((length + 1) % 4, randomBytes(next, length));
    const d = new Uint8Array(length);
    xorInto(d, a, b);
    for (let i = 0; i < length; i++) assert.equal(d[i], a[i] ^ b[i]);
    xorInto(d, d, b);
    assert.deepEqual(d, a.slice());
  }
});
