/**
 * Re-keying a blob in place, as copy does in its workers: the destination key opens it, the
 * encoding (and so the stored length) does not change, and a blob that does not verify is left
 * exactly as it was.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { openBlob, resealBlob, sealBlob } from '../../src/repo/blob.js';
import { makeCodecSet } from '../../src/repo/codec/all.js';
import { CodecId } from '../../src/repo/codec/codec.js';
import { reusableBuffer } from '../../src/repo/codec/scratch.js';
import { sha256 } from '../../src/repo/crypto.js';
import { IntegrityError } from '../../src/repo/errors.js';

const codecs = makeCodecSet(3);
const from = randomBytes(32);
const to = randomBytes(32);
const scratch = () => ({ scratch: reusableBuffer(), plaintext: reusableBuffer() });

/** bf16-like values: compressible, so the codec is not raw. */
function weights(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 2) b.writeUInt16LE(0x3c00 + ((i * 7 + seed) % 97), i);
  return b;
}

test('a resealed blob opens under the destination key only, to the same plaintext and at the same length', () => {
  const raw = weights(256 * 1024, 1);
  const { codec, sealed } = sealBlob(from, codecs, raw, { dtype: 'bf16' });
  const facts = { codec, rawLength: raw.length, id: sha256(raw) };
  const moved = Buffer.from(sealed);
  resealBlob(from, to, codecs, moved, facts, scratch());
  assert.equal(moved.length, sealed.length);
  assert.notDeepEqual(moved, sealed);
  assert.deepEqual(openBlob(to, codecs, moved, facts), raw);
  assert.throws(() => openBlob(from, codecs, moved, facts), IntegrityError);
});

test('a delta blob reseals against its base', () => {
  const base = weights(128 * 1024, 2);
  const raw = Buffer.from(base);
  for (let i = 0; i < raw.length; i += 4096) raw[i] ^= 1;
  const { codec, sealed } = sealBlob(from, codecs, raw, { dtype: 'bf16', base });
  assert.equal(codec, CodecId.xorDelta);
  const facts = { codec, rawLength: raw.length, id: sha256(raw) };
  const moved = Buffer.from(sealed);
  resealBlob(from, to, codecs, moved, facts, { ...scratch(), base });
  assert.deepEqual(openBlob(to, codecs, moved, facts, { base }), raw);
  const wrongBase = weights(base.length, 5);
  assert.throws(() => resealBlob(to, from, codecs, Buffer.from(moved), facts, { ...scratch(), base: wrongBase }), (err: unknown) => err instanceof IntegrityError && /SHA-256/.test((err as Error).message));
});

test('a blob whose plaintext does not match its id, or that fails authentication, is refused and left untouched', () => {
  const raw = weights(64 * 1024, 3);
  const { codec, sealed } = sealBlob(from, codecs, raw, { dtype: 'bf16' });
  const wrongId = { codec, rawLength: raw.length, id: sha256(Buffer.from('another blob')) };
  const kept = Buffer.from(sealed);
  assert.throws(() => resealBlob(from, to, codecs, kept, wrongId, scratch()), (err: unknown) => err instanceof IntegrityError && /SHA-256/.test((err as Error).message));
  assert.deepEqual(kept, sealed);
  const damaged = Buffer.from(sealed);
  damaged[20] ^= 0xff;
  const before = Buffer.from(damaged);
  assert.throws(() => resealBlob(from, to, codecs, damaged, { ...wrongId, id: sha256(raw) }, scratch()), (err: unknown) => err instanceof IntegrityError && /authentication/.test((err as Error).message));
  assert.deepEqual(damaged, before);
});
