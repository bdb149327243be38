import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { makeByteGroupedCodec, planeWidth } from '../../src/repo/codec/byte-grouped.js';
import { CodecId, type DType } from '../../src/repo/codec/codec.js';
import { PLANE_RAW, PLANE_ZSTD } from '../../src/repo/codec/grouped-format.js';
import { FormatError } from '../../src/repo/errors.js';
import { randomBytes, randomInt, realisticWeights, rng, SPECIAL_BF16, SPECIAL_FP16, SPECIAL_FP32 } from './tensor-fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Random bit patterns salted with special values (NaN, ±Inf, denormals, ±0) at random places. */
function nastyTensor(next: () => number, width: 2 | 4, byteLength: number): Uint8Array {
  const out = randomBytes(next, byteLength);
  const specials = width === 2 ? [...SPECIAL_BF16, ...SPECIAL_FP16] : SPECIAL_FP32;
  const view = new DataView(out.buffer);
  for (let i = 0; i + width <= byteLength; i += width) {
    if (next() < 0.3) {
      const v = specials[randomInt(next, specials.length)];
      if (width === 2) view.setUint16(i, v, true);
      else view.setUint32(i, v, true);
    }
  }
  return out;
}

/** Half realistic weights, half nasty values: so that planes take both the zstd and the raw path. */
function mixedTensor(next: () => number, dtype: 'bf16' | 'fp16' | 'fp32', byteLength: number): Uint8Array {
  const width = dtype === 'fp32' ? 4 : 2;
  const out = new Uint8Array(byteLength);
  const weights = realisticWeights(next, dtype, Math.ceil(byteLength / width));
  out.set(weights.subarray(0, byteLength));
  if (next() < 0.5) out.set(nastyTensor(next, width, Math.floor(byteLength / 3)), randomInt(next, Math.ceil(byteLength / 2)));
  return out;
}

test('byte-grouped has id 2 and applies to bf16, fp16 and fp32 only', () => {
  const codec = makeByteGroupedCodec();
  assert.equal(codec.id, CodecId.byteGrouped);
  assert.equal(codec.id, 2);
  const weights = realisticWeights(rng(1), 'bf16', 50_000);
  for (const dtype of ['int8', 'uint8', 'fp8', 'fp64', 'int32', 'bool', 'other', undefined] as (DType | undefined)[]) {
    assert.equal(codec.encode(weights, { dtype }), undefined, `dtype ${dtype} passes through`);
  }
  assert.equal(planeWidth('bf16'), 2);
  assert.equal(planeWidth('fp16'), 2);
  assert.equal(planeWidth('fp32'), 4);
});

test('byte-grouped is lossless over random tensors of every dtype, any length (property, seeded)', () => {
  const codec = makeByteGroupedCodec();
  const next = rng(20261124);
  let encodedCount = 0;
  for (let i = 0; i < 300; i++) {
    const dtype = (['bf16', 'fp16', 'fp32'] as const)[i % 3];
    // Lengths from 0 to ~300 KB, including odd byte counts and partial trailing elements.
    const byteLength = i < 40 ? i : randomInt(next, i % 7 === 0 ? 300_000 : 5_000);
    const raw = mixedTensor(next, dtype, byteLength);
    // An unaligned view of the input must work too.
    const input = i % 2 === 0 ? raw : (() => { const b = new Uint8Array(byteLength + 3); b.set(raw, 3); return b.subarray(3); })();
    const encoded = codec.encode(input, { dtype });
    if (encoded === undefined) continue;
    encodedCount++;
    assert.ok(encoded.length < byteLength, 'only returned when smaller');
    const decoded = codec.decode(encoded, byteLength);
    assert.equal(decoded.length, byteLength);
    assert.equal(sha(decoded), sha(raw), `case ${i}: ${dtype}, ${byteLength} bytes`);
  }
  assert.ok(encodedCount > 150, `most cases compress (${encodedCount})`);
});

test('byte-grouped keeps NaN payloads, infinities, denormals and -0 bit for bit', () => {
  const codec = makeByteGroupedCodec();
  for (const [dtype, specials, width] of [['bf16', SPECIAL_BF16, 2], ['fp16', SPECIAL_FP16, 2], ['fp32', SPECIAL_FP32, 4]] as const) {
    // Mostly one special value repeated (so it compresses), every special present, odd tail byte.
    const count = 10_001;
    const raw = new Uint8Array(count * width + 1);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) {
      const v = i < specials.length ? specials[i] : specials[i % 3];
      if (width === 2) view.setUint16(i * 2, v, true);
      else view.setUint32(i * 4, v, true);
    }
    raw[raw.length - 1] = 0xab;
    const encoded = codec.encode(raw, { dtype });
    assert.ok(encoded, `${dtype} specials compress`);
    assert.deepEqual(codec.decode(encoded, raw.length), raw);
  }
});

test('byte-grouped stores realistic bf16 weights at about 2/3 of their size', () => {
  const codec = makeByteGroupedCodec();
  const raw = realisticWeights(rng(7), 'bf16', 1 << 20); // 2 MiB
  const encoded = codec.encode(raw, { dtype: 'bf16' });
  assert.ok(encoded);
  const ratio = raw.length / encoded.length;
  // The exponent plane compresses (~2.5x), the mantissa plane is stored raw: ~1.49 overall.
  assert.ok(ratio > 1.4 && ratio < 1.6, `ratio ${ratio.toFixed(3)}`);
  assert.equal(encoded[2], PLANE_RAW, 'mantissa plane stored raw');
  assert.equal(encoded[7], PLANE_ZSTD, 'exponent plane compressed');
  assert.deepEqual(codec.decode(encoded, raw.length), raw);
});

test('byte-grouped compresses realistic fp16 and fp32 weights too', () => {
  const codec = makeByteGroupedCodec();
  for (const dtype of ['fp16', 'fp32'] as const) {
    const raw = realisticWeights(rng(8), dtype, 300_000);
    const encoded = codec.encode(raw, { dtype });
    assert.ok(encoded, dtype);
    assert.ok(raw.length / encoded.length > 1.1, `${dtype} ratio ${(raw.length / encoded.length).toFixed(3)}`);
    assert.deepEqual(codec.decode(encoded, raw.length), raw);
  }
});

test('byte-grouped returns undefined when nothing pays (random bytes)', () => {
  const codec = makeByteGroupedCodec();
  const raw = randomBytes(rng(3), 1 << 20);
  assert.equal(codec.encode(raw, { dtype: 'bf16' }), undefined);
  assert.equal(codec.encode(raw, { dtype: 'fp32' }), undefined);
  assert.equal(codec.encode(new Uint8Array(1), { dtype: 'bf16' }), undefined, 'less than one element');
});

test('byte-grouped decode rejects damaged payloads with FormatError, never a wrong-length result', () => {
  const codec = makeByteGroupedCodec();
  const raw = realisticWeights(rng(9), 'bf16', 40_000);
  const encoded = codec.encode(raw, { dtype: 'bf16' })!;
  const bad = (mutate: (b: Uint8Array) => Uint8Array, rawLength = raw.length) => {
    assert.throws(() => codec.decode(mutate(encoded.slice()), rawLength), FormatError);
  };
  bad((b) => b.subarray(0, 1));
  bad((b) => b.subarray(0, b.length - 1));
  bad((b) => { b[0] = 9; return b; });
  bad((b) => { b[1] = 3; return b; });
  bad((b) => { b[7] = 7; return b; });
  bad((b) => { b[3] ^= 1; return b; });
  bad((b) => b, raw.length + 2);
  bad((b) => b, raw.length - 2);
  // Random corruption: either FormatError or (if zstd still decodes) the right length.
  const next = rng(10);
  for (let i = 0; i < 300; i++) {
    const b = encoded.slice();
    b[randomInt(next, b.length)] ^= 1 << randomInt(next, 8);
    try {
      assert.equal(codec.decode(b, raw.length).length, raw.length);
    } catch (e) {
      assert.ok(e instanceof FormatError, String(e));
    }
  }
});
