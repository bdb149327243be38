/** Copy reads source packs in ranges bounded by stored bytes and by the plaintext they decode to. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { planPackRanges } from '../../src/engine/copy-plan.js';
import { BlobIndex } from '../../src/repo/blob-index.js';
import type { PackEntry } from '../../src/repo/pack.js';

const MiB = 1024 * 1024;
const idOf = (i: number) => createHash('sha256').update(String(i)).digest();

/** One pack of `n` consecutive blobs, each stored in `stored` bytes and decoding to `raw`. */
function indexOf(n: number, stored: number, raw: number): { index: BlobIndex; ids: string[] } {
  const entries: PackEntry[] = Array.from({ length: n }, (_, i) => ({ id: idOf(i), type: 0, codec: 3, offset: i * stored, storedLength: stored, rawLength: raw, delta: { base: idOf(1000 + i), depth: 1 } }));
  const index = new BlobIndex();
  index.addPack('ab'.repeat(32), entries);
  return { index, ids: entries.map((e) => e.id.toString('hex')) };
}

test('a range read holds at most maxRawBytes of plaintext, however small the stored blobs are', () => {
  // 100 delta blobs of 64 KiB stored, 4 MiB each when decoded: one 6.25 MiB range by stored size alone.
  const { index, ids } = indexOf(100, 64 * 1024, 4 * MiB);
  const ranges = planPackRanges(index, ids, { maxRawBytes: 16 * MiB });
  assert.equal(ranges.length, 25);
  for (const f of ranges) assert.ok(f.blobs.reduce((n, b) => n + b.rawLength, 0) <= 16 * MiB);
  assert.equal(ranges.flatMap((f) => f.blobs).length, 100, 'every blob is read once');
  assert.ok(ranges.every((f) => f.blobs.every((b) => b.delta?.depth === 1)), 'delta references travel with the plan');
});

test('blobs that decode to little are grouped up to maxBytes of stored data', () => {
  const { index, ids } = indexOf(64, 256 * 1024, 256 * 1024);
  const ranges = planPackRanges(index, ids, { maxBytes: 8 * MiB, maxRawBytes: 64 * MiB });
  assert.equal(ranges.length, 2);
});
