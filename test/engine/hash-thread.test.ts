/**
 * The hash thread: a file's SHA-256 is that of its bytes in the order they were queued, whether
 * they came as views of SharedArrayBuffers (passed without copies) or of ordinary memory (copied),
 * and several files hashed at once do not mix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startHashThread } from '../../src/engine/hash-thread.js';

function sharedCopy(data: Uint8Array): Uint8Array {
  const view = new Uint8Array(new SharedArrayBuffer(data.length + 7), 7, data.length); // an offset, too
  view.set(data);
  return view;
}

test('hashes queued pieces in order, shared or not, one running hash per file', async () => {
  const hashes = startHashThread();
  try {
    const pieces = Array.from({ length: 12 }, (_, i) => randomBytes(1000 + i * 4099));
    const a = hashes.start();
    const b = hashes.start();
    const updates = pieces.flatMap((p, i) => [a.update(i % 2 ? sharedCopy(p) : p.subarray(0)), b.update(pieces[pieces.length - 1 - i])]);
    await Promise.all(updates);
    const want = (parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');
    assert.equal(await a.digest(), want(pieces));
    assert.equal(await b.digest(), want([...pieces].reverse()));
    assert.equal(await hashes.start().digest(), createHash('sha256').digest('hex'), 'an empty file');
  } finally {
    await hashes.close();
  }
});
