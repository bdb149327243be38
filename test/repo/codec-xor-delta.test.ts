import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeByteGroupedCodec } from '../../src/repo/codec/byte-grouped.js';
import { CodecId, type DType } from '../../src/repo/codec/codec.js';
import { INNER_GROUPED, INNER_ZSTD, makeXorDeltaCodec } from '../../src/repo/codec/xor-delta.js';
import { FormatError } from '../../src/repo/errors.js';
import { perturb, randomBytes, randomInt, realisticWeights, rng, SPECIAL_FP32 } from './tensor-fixtures.js';

test('xor-delta has id 3 and needs a base of the same length', () => {
  const codec = makeXorDeltaCodec();
  assert.equal(codec.id, CodecId.xorDelta);
  assert.equal(codec.id, 3);
  const raw = realisticWeights(rng(1), 'bf16', 10_000);
  assert.equal(codec.encode(raw, { dtype: 'bf16' }), undefined, 'no base');
  assert.equal(codec.encode(raw, { dtype: 'bf16', base: raw.subarray(2) }), undefined, 'shorter base');
  assert.equal(codec.encode(new Uint8Array(0), { dtype: 'bf16', base: new Uint8Array(0) }), undefined, 'empty');
});

test('xor-delta stores a bf16 fine-tune step far smaller than byte grouping alone', () => {
  const next = rng(2);
  const base = realisticWeights(next, 'bf16', 1 << 20);
  const raw = perturb(next, base, 2, 0.015); // ~1.5% of values change in their low bits
  const delta = makeXorDeltaCodec().encode(raw, { dtype: 'bf16', base });
  const grouped = makeByteGroupedCodec().encode(raw, { dtype: 'bf16' });
  assert.ok(delta && grouped);
  assert.equal(delta[1], INNER_GROUPED);
  const ratio = raw.length / delta.length;
  assert.ok(ratio > 20, `delta ratio ${ratio.toFixed(1)}`);
  assert.ok(delta.length * 10 < grouped.length, 'an order of magnitude below byte grouping');
  assert.deepEqual(makeXorDeltaCodec().decode(delta, raw.length, base), raw);
});

test('xor-delta is lossless for every dtype and length, against related and unrelated bases (property, seeded)', () => {
  const codec = makeXorDeltaCodec();
  const decoder = makeXorDeltaCodec(); // a separate instance, as in another worker thread
  const next = rng(3);
  const dtypes: (DType | undefined)[] = ['bf16', 'fp16', 'fp32', 'int8', 'fp8', 'fp64', 'other', undefined];
  let encoded = 0;
  for (let i = 0; i < 240; i++) {
    const dtype = dtypes[i % dtypes.length];
    const length = i < 24 ? i + 1 : randomInt(next, i % 5 === 0 ? 200_000 : 6_000) + 1;
    const base = randomBytes(next, length);
    if (next() < 0.3) {
      const view = new DataView(base.buffer);
      for (let at = 0; at + 4 <= length; at += 4 * (1 + randomInt(next, 8))) view.setUint32(at, SPECIAL_FP32[randomInt(next, SPECIAL_FP32.length)], true);
    }
    const related = next() < 0.8;
    const raw = related ? perturb(next, base, 1 + randomInt(next, 4), next() * 0.2) : randomBytes(next, length);
    // Inputs at any byte offset, as pieces of a batch buffer arrive.
    const shift = (b: Uint8Array, by: number) => { const c = new Uint8Array(b.length + by); c.set(b, by); return c.subarray(by); };
    const out = codec.encode(shift(raw, i % 4), { dtype, base: shift(base, (i >> 2) % 4) });
    if (out === undefined) continue;
    encoded++;
    assert.ok(out.length < raw.length, 'only when smaller');
    assert.deepEqual(decoder.decode(out, raw.length, shift(base, (i >> 3) % 4)), raw, `case ${i}: ${dtype}, ${length} bytes`);
  }
  assert.ok(encoded > 100, `most related cases encode (${encoded})`);
});

test('xor-delta uses one zstd frame for dtypes that are not grouped', () => {
  const next = rng(4);
  const base = randomBytes(next, 100_000);
  const raw = perturb(next, base, 1, 0.01);
  const out = makeXorDeltaCodec().encode(raw, { dtype: 'int8', base });
  assert.ok(out);
  assert.equal(out[1], INNER_ZSTD);
  assert.deepEqual(makeXorDeltaCodec().decode(out, raw.length, base), raw);
});

test('xor-delta returns undefined when the delta does not pay (unrelated base)', () => {
  const next = rng(5);
  const codec = makeXorDeltaCodec();
  assert.equal(codec.encode(randomBytes(next, 1 << 18), { dtype: 'bf16', base: randomBytes(next, 1 << 18) }), undefined);
  assert.equal(codec.encode(randomBytes(next, 1 << 18), { dtype: 'int8', base: randomBytes(next, 1 << 18) }), undefined);
});

test('xor-delta decode refuses a missing or wrong-sized base and damaged headers', () => {
  const next = rng(6);
  const base = realisticWeights(next, 'fp32', 20_000);
  const raw = perturb(next, base, 4, 0.05);
  const codec = makeXorDeltaCodec();
  const out = codec.encode(raw, { dtype: 'fp32', base })!;
  assert.throws(() => codec.decode(out, raw.length), FormatError);
  assert.throws(() => codec.decode(out, raw.length, base.subarray(1)), FormatError);
  assert.throws(() => codec.decode(out.subarray(0, 1), raw.length, base), FormatError);
  const wrongVersion = out.slice(); wrongVersion[0] = 2;
  assert.throws(() => codec.decode(wrongVersion, raw.length, base), FormatError);
  const wrongInner = out.slice(); wrongInner[1] = 7;
  assert.throws(() => codec.decode(wrongInner, raw.length, base), FormatError);
  // A different base of the right length decodes to different bytes: the blob's SHA-256 catches it.
  const other = base.slice(); other[0] ^= 0xff;
  assert.notDeepEqual(codec.decode(out, raw.length, other), raw);
});
