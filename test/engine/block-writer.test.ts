/**
 * Restore's block writer: pieces of any length at any offset, with zero runs between them, make
 * exactly the file they describe; zero blocks are left as holes; a large file bypasses the page
 * cache where the filesystem allows it, and memory O_DIRECT refuses makes it fall back to
 * buffered writes with the same result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BLOCK, createBlockWriter, type BlockWriter } from '../../src/engine/block-writer.js';
import { makeBufferPool } from '../../src/engine/buffer-pool.js';
import { makeWritePolicy } from '../../src/engine/page-cache.js';
import { pseudoRandom } from '../helpers/files.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

/** Data pieces (odd lengths, so every lead occurs) and zero runs within a block, across blocks and of many blocks. */
function layout(): Array<Buffer | number> {
  return [
    // A run from inside one block into the next: what follows starts at a lead past the first piece's tail.
    pseudoRandom(3000, '0'), BLOCK + 100,
    pseudoRandom(1000, 'a'), 37, pseudoRandom(5 * MiB + 3, 'b'), pseudoRandom(4095, 'c'), 9 * MiB + 5,
    pseudoRandom(BLOCK, 'd'), 1, pseudoRandom(3 * MiB + 777, 'e'), Buffer.alloc(2 * MiB + 11), pseudoRandom(MiB, 'f'),
    pseudoRandom(17, 'g'), 6 * MiB, pseudoRandom(123, 'h'),
  ];
}

function expected(parts: Array<Buffer | number>): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.alloc(p) : p)));
}

/** Writes the layout the way restore does: each piece copied into a buffer at lead = position % BLOCK. */
async function writeLayout(w: BlockWriter, parts: Array<Buffer | number>, place: (size: number) => Buffer): Promise<void> {
  for (const p of parts) {
    if (typeof p === 'number') {
      w.appendZeros(p);
      continue;
    }
    const lead = w.position % BLOCK;
    const buffer = place(lead + p.length + BLOCK);
    p.copy(buffer, lead);
    await w.append(buffer, p.length);
  }
}

/** Whether this filesystem takes a direct write of one aligned block (it may not: tmpfs before Linux 6.6). */
async function acceptsDirect(dir: string): Promise<boolean> {
  const { O_WRONLY, O_CREAT, O_DIRECT } = fs.constants;
  if (!O_DIRECT) return false;
  const probe = path.join(dir, 'probe');
  try {
    const f = await fs.open(probe, O_WRONLY | O_CREAT | O_DIRECT);
    try {
      await f.write(Buffer.from(makeBufferPool(1, { aligned: true }).take(BLOCK)), 0, BLOCK, 0);
      return true;
    } finally {
      await f.close();
    }
  } catch {
    return false;
  } finally {
    await fs.rm(probe, { force: true });
  }
}

/** One page-aligned buffer, big enough for any piece of the layout, reused for each (append is awaited). */
const aligned = Buffer.from(makeBufferPool(0, { aligned: true }).take(25 * MiB + 4 * BLOCK));

for (const [name, size] of [['a small file written through the page cache', 0], ['a large file written direct', 1]] as const) {
  test(`${name}: pieces at any offset and zero runs make exactly the file, zero blocks stay holes`, async (t) => {
    const dir = await tempDir(t);
    const parts = size ? layout() : [pseudoRandom(100, 'x'), 5000, pseudoRandom(9000, 'y'), 3];
    const want = expected(parts);
    const file = path.join(dir, 'restored');
    const w = await createBlockWriter(file, want.length, makeWritePolicy(size === 1 ? 'always' : 'never', 0));
    await writeLayout(w, parts, (n) => aligned.subarray(0, n));
    const direct = w.direct;
    await w.finish(0o640, '1700000000123456789');
    assert.ok((await fs.readFile(file)).equals(want), 'the file holds exactly the pieces and zeros');
    const st = await fs.stat(file);
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal((await fs.stat(file, { bigint: true })).mtimeNs, 1_700_000_000_123_456_789n, 'the time to the nanosecond');
    if (size) {
      assert.equal(direct, await acceptsDirect(dir), 'a large file is written direct exactly when the filesystem takes it');
      // 17 MiB of zeros are in runs and blocks of zeros; at most a block at each edge of a run is written.
      const dataBytes = parts.reduce<number>((n, p) => n + (typeof p === 'number' || p.every((b) => b === 0) ? 0 : p.length), 0);
      assert.ok(st.blocks * 512 <= dataBytes + 16 * BLOCK, `holes stay holes: ${st.blocks * 512} bytes allocated for ${dataBytes} bytes of data`);
    } else {
      assert.equal(direct, false, 'a file not asked to be direct goes through the page cache');
    }
  });
}

test('a large file written through the page cache, past several write-behind points, is exactly its pieces', async (t) => {
  const dir = await tempDir(t);
  // 150 MiB: two datasyncs start behind the writes (every 64 MiB), one may still run at finish.
  const parts = Array.from({ length: 6 }, (_, i) => [pseudoRandom(25 * MiB - 1, `w${i}`), 1] as const).flat();
  const want = expected(parts);
  const file = path.join(dir, 'restored');
  const w = await createBlockWriter(file, want.length, makeWritePolicy('never', 0));
  await writeLayout(w, parts, (n) => aligned.subarray(0, n));
  assert.equal(w.direct, false);
  await w.finish(0o600, '1700000000000000000');
  assert.ok((await fs.readFile(file)).equals(want));
});

test('a writer switched by its watch between direct and buffered writes mid-file still writes exactly the file', async (t) => {
  const dir = await tempDir(t);
  const parts = layout();
  const want = expected(parts);
  const file = path.join(dir, 'restored');
  const modes: boolean[] = [];
  let appends = 0;
  const syncs: number[] = [];
  // Buffered after the 3rd append; after the 6th a datasync, then direct again: what auto's trial of the page cache does.
  const policy = {
    direct: () => true,
    watch: () => ({
      wrote: (_: unknown, direct: boolean) => (modes.push(direct), ++appends === 3 ? false : appends === 6 ? ('sync' as const) : undefined),
      synced: (ms: number) => (syncs.push(ms), true),
    }),
  };
  const w = await createBlockWriter(file, want.length, policy);
  await writeLayout(w, parts, (n) => aligned.subarray(0, n));
  const direct = await acceptsDirect(dir);
  await w.finish(0o600, '1700000000000000000');
  assert.ok((await fs.readFile(file)).equals(want), 'the file holds exactly the pieces and zeros');
  if (direct) assert.deepEqual(modes.slice(0, 7), [true, true, true, false, false, false, true], 'each append was written as the watch said');
  if (direct) assert.equal(syncs.length, 1, 'the datasync the watch asked for was made and timed once');
});

test('memory that O_DIRECT refuses (not page-aligned) falls back to buffered writes, with the same file', async (t) => {
  const dir = await tempDir(t);
  const parts = layout();
  const want = expected(parts);
  const file = path.join(dir, 'restored');
  const w = await createBlockWriter(file, want.length, makeWritePolicy('always', 0));
  const wasDirect = w.direct;
  // One byte past a page boundary: never aligned for O_DIRECT.
  await writeLayout(w, parts, (n) => aligned.subarray(1, n + 1));
  assert.equal(w.direct, false, 'after EINVAL the writer writes through the page cache');
  await w.finish(0o600, '1700000000000000000');
  assert.ok((await fs.readFile(file)).equals(want));
  if (!wasDirect) t.diagnostic('this filesystem takes no O_DIRECT: only the buffered path ran');
});

test('a piece with no room for its padded last block is refused, not written short', async (t) => {
  const dir = await tempDir(t);
  const w = await createBlockWriter(path.join(dir, 'f'), 100, makeWritePolicy('never', 0));
  await assert.rejects(w.append(Buffer.alloc(100), 100), RangeError);
  await w.abort();
});
