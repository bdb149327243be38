/**
 * One suite every codec must pass: distinct stable ids, lossless round trips for every dtype
 * hint (with and without a delta base), results only when smaller (tensor codecs), and damaged
 * input that fails or decodes to exactly rawLength bytes, never anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeByteGroupedCodec } from '../../src/repo/codec/byte-grouped.js';
import { CodecId, type Codec, type DType } from '../../src/repo/codec/codec.js';
import { rawCodec } from '../../src/repo/codec/raw.js';
import { makeXorDeltaCodec } from '../../src/repo/codec/xor-delta.js';
import { makeZstdCodec } from '../../src/repo/codec/zstd.js';
import { perturb, randomBytes, randomInt, realisticWeights, rng } from './tensor-fixtures.js';

const codecs: Codec[] = [rawCodec, makeZstdCodec(1), makeByteGroupedCodec(), makeXorDeltaCodec()];
const dtypes: (DType | undefined)[] = ['bf16', 'fp16', 'fp32', 'fp64', 'int8', 'uint8', 'fp8', 'int16', 'int32', 'int64', 'bool', 'other', undefined];

test('codec ids are distinct and match CodecId', () => {
  assert.deepEqual(codecs.map((c) => c.id), [CodecId.raw, CodecId.zstd, CodecId.byteGrouped, CodecId.xorDelta]);
  assert.equal(new Set(codecs.map((c) => c.name)).size, codecs.length);
});

for (const codec of codecs) {
  test(`codec ${codec.id} (${codec.name}) round-trips every dtype, with and without a base`, () => {
    const next = rng(1000 + codec.id);
    for (let i = 0; i < 120; i++) {
      const dtype = dtypes[i % dtypes.length];
      const length = randomInt(next, i % 10 === 0 ? 100_000 : 3_000);
      const base = i % 3 === 0 ? randomBytes(next, length) : realisticWeights(next, 'bf16', Math.ceil(length / 2)).subarray(0, length);
      const raw = next() < 0.7 ? perturb(next, base, 2, 0.05) : randomBytes(next, length);
      const withBase = i % 2 === 0;
      const encoded = codec.encode(raw, { dtype, base: withBase ? base : undefined });
      if (encoded === undefined) continue;
      // The tensor codecs promise "only when smaller"; raw and zstd rely on chooseEncoding for that.
      if (codec.id >= CodecId.byteGrouped) assert.ok(encoded.length < raw.length, `codec ${codec.id} returned a result that is not smaller`);
      assert.deepEqual(Buffer.from(codec.decode(encoded, raw.length, withBase ? base : undefined)), Buffer.from(raw), `case ${i}`);
    }
  });

  test(`codec ${codec.id} (${codec.name}) never decodes damaged bytes to the wrong length`, () => {
    const next = rng(2000 + codec.id);
    const base = realisticWeights(next, 'bf16', 20_000);
    const raw = perturb(next, base, 2, 0.02);
    const encoded = codec.encode(raw, { dtype: 'bf16', base });
    assert.ok(encoded, 'weights with a related base are encodable by every codec');
    for (let i = 0; i < 200; i++) {
      const damaged: Uint8Array = new Uint8Array(encoded);
      const cut = i % 4 === 0 ? randomInt(next, damaged.length) : damaged.length;
      damaged[randomInt(next, damaged.length)] ^= 1 << randomInt(next, 8);
      try {
        assert.equal(codec.decode(damaged.subarray(0, cut), raw.length, base).length, raw.length);
      } catch (e) {
        assert.ok(e instanceof Error);
      }
    }
  });
}
