/**
 * The storage contract, as one suite that every backend must pass (local directory, S3).
 * Call storageConformance() inside a describe(); `open` gives a fresh, empty storage each time.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { AlreadyExistsError, NotFoundError, StorageError } from '../../src/storage/errors.js';
import { openRangeReader, type Storage } from '../../src/storage/storage.js';

export interface ConformanceTarget {
  open(): Promise<Storage>;
  /** Size of the "large object" test; big enough to take the backend's multipart path. */
  largeObjectBytes?: number;
  /** Boundaries inside the large object worth reading across (e.g. part boundaries). */
  largeObjectBoundaries?: number[];
  /** Objects in the listing test; more than 1000 (S3's page size) by default, to cover pagination. */
  manyKeys?: number;
}

const MiB = 1024 * 1024;

export function storageConformance(target: ConformanceTarget): void {
  const withStorage = async (body: (storage: Storage) => Promise<void>) => {
    const storage = await target.open();
    try {
      await body(storage);
    } finally {
      await storage.close();
    }
  };

  it('returns exactly the bytes written, for binary, empty and random content', () =>
    withStorage(async (s) => {
      const everyByte = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));
      const random = randomBytes(300_001);
      await s.put('data/00/every-byte', everyByte);
      await s.put('data/00/random', random);
      await s.put('empty', new Uint8Array(0));
      assert.deepEqual(await s.get('data/00/every-byte'), everyByte);
      assert.deepEqual(await s.get('data/00/random'), random);
      assert.equal((await s.get('empty')).length, 0);
    }));

  it('returns exactly the bytes written for objects of a few MiB, from shared page-aligned memory and from unaligned memory', () =>
    withStorage(async (s) => {
      // The local backend writes these with O_DIRECT when the memory allows (the packer's buffers
      // are WebAssembly memories, page-aligned) and through the page cache when it does not.
      const size = 3 * MiB + 1234; // a partial last block
      const content = randomBytes(size);
      const pages = Math.ceil((size + 1) / 65536);
      const aligned = Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer);
      content.copy(aligned);
      const unaligned = Buffer.alloc(size + 1).subarray(1);
      content.copy(unaligned);
      await s.put('data/01/aligned', aligned.subarray(0, size));
      await s.put('data/01/unaligned', unaligned);
      assert.ok((await s.get('data/01/aligned')).equals(content), 'from page-aligned memory');
      assert.ok((await s.get('data/01/unaligned')).equals(content), 'from unaligned memory');
    }));

  it('throws NotFoundError for a missing object, whole or by range', () =>
    withStorage(async (s) => {
      await assert.rejects(s.get('snapshots/missing'), (err: unknown) => err instanceof NotFoundError && err.code === 'NOT_FOUND' && /snapshots\/missing/.test(err.message));
      await assert.rejects(s.get('snapshots/missing', { offset: 0, length: 4 }), NotFoundError);
    }));

  it('reads byte ranges exactly: first byte, last byte, middle, zero length', () =>
    withStorage(async (s) => {
      const data = randomBytes(10_000);
      await s.put('index/r', data);
      for (const [offset, length] of [[0, 1], [9_999, 1], [1234, 5000], [0, 10_000], [500, 0]]) {
        assert.deepEqual(await s.get('index/r', { offset, length }), data.subarray(offset, offset + length), `range ${offset}+${length}`);
        const into = new Uint8Array(length + 7).fill(0xee);
        const read = await s.get('index/r', { offset, length }, into);
        assert.deepEqual(read, data.subarray(offset, offset + length), `range ${offset}+${length} into a buffer`);
        if (length > 0) assert.equal(read.buffer, into.buffer, 'the result is a view of the given buffer');
        assert.ok(into.subarray(length).every((b) => b === 0xee), 'nothing written past the range');
      }
    }));

  it('reads a range in consecutive parts, each into its own buffer', () =>
    withStorage(async (s) => {
      const data = randomBytes(300_000);
      await s.put('data/0a/parts', data);
      const reader = openRangeReader(s, 'data/0a/parts', { offset: 7, length: 250_000 });
      const parts = [1, 100_000, 70_000, 79_999].map((n) => new Uint8Array(n));
      for (const part of parts) await reader.readInto(part);
      reader.close();
      assert.ok(Buffer.concat(parts).equals(data.subarray(7, 250_007)));
    }));

  it('refuses a range past the end with a StorageError that is not NotFoundError', () =>
    withStorage(async (s) => {
      await s.put('index/short', Buffer.from('0123456789'));
      for (const range of [{ offset: 5, length: 10 }, { offset: 20, length: 5 }]) {
        await assert.rejects(s.get('index/short', range), (err: unknown) => err instanceof StorageError && !(err instanceof NotFoundError) && /shorter than expected/.test(err.message));
        await assert.rejects(s.get('index/short', range, new Uint8Array(range.length)), (err: unknown) => err instanceof StorageError && /shorter than expected/.test(err.message));
      }
    }));

  it('head gives the size of an object, and undefined for a missing one', () =>
    withStorage(async (s) => {
      await s.put('keys/k1', randomBytes(777));
      const info = await s.head('keys/k1');
      assert.equal(info?.key, 'keys/k1');
      assert.equal(info?.size, 777);
      assert.equal(await s.head('keys/none'), undefined);
    }));

  it('lists exactly the objects under a prefix, with their sizes', () =>
    withStorage(async (s) => {
      const keys = ['config', 'keys/k1', 'data/ab/x1', 'data/ab/x2', 'data/cd/y', 'snapshots/s1', 'snapshots/s22', 'snapshotsX'];
      await Promise.all(keys.map((key, i) => s.put(key, randomBytes(i + 1))));
      const listed = async (prefix: string) => {
        const out: string[] = [];
        for await (const o of s.list(prefix)) {
          assert.equal(o.size, keys.indexOf(o.key) + 1, `size of ${o.key}`);
          out.push(o.key);
        }
        return out.sort();
      };
      assert.deepEqual(await listed(''), [...keys].sort());
      assert.deepEqual(await listed('data/'), ['data/ab/x1', 'data/ab/x2', 'data/cd/y']);
      assert.deepEqual(await listed('data/ab/'), ['data/ab/x1', 'data/ab/x2']);
      assert.deepEqual(await listed('snapshots/'), ['snapshots/s1', 'snapshots/s22']);
      assert.deepEqual(await listed('snapshots/s2'), ['snapshots/s22']);
      assert.deepEqual(await listed('locks/'), []);
    }));

  const many = target.manyKeys ?? 1100;
  it(`lists ${many} objects under one prefix, each exactly once${many > 1000 ? ' (pagination)' : ''}`, () =>
    withStorage(async (s) => {
      const count = many;
      const keys = Array.from({ length: count }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < count; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => s.put(key, Buffer.from(key))));
      const seen: string[] = [];
      for await (const o of s.list('many/')) seen.push(o.key);
      assert.equal(seen.length, count);
      assert.deepEqual([...seen].sort(), keys);
    }));

  it('deletes an object; deleting a missing object is not an error', () =>
    withStorage(async (s) => {
      await s.put('locks/l1', Buffer.from('lock'));
      await s.delete('locks/l1');
      assert.equal(await s.head('locks/l1'), undefined);
      await assert.rejects(s.get('locks/l1'), NotFoundError);
      const left: string[] = [];
      for await (const o of s.list('locks/')) left.push(o.key);
      assert.deepEqual(left, []);
      await s.delete('locks/never-there');
    }));

  it('put replaces an existing object when ifAbsent is not set', () =>
    withStorage(async (s) => {
      await s.put('config', Buffer.from('first'));
      await s.put('config', Buffer.from('second, longer'));
      assert.equal((await s.get('config')).toString(), 'second, longer');
      assert.equal((await s.head('config'))?.size, 14);
    }));

  it('put with ifAbsent refuses to replace an object and leaves it unchanged', () =>
    withStorage(async (s) => {
      await s.put('config', Buffer.from('original'), { ifAbsent: true });
      await assert.rejects(s.put('config', Buffer.from('intruder'), { ifAbsent: true }), (err: unknown) => err instanceof AlreadyExistsError && err.code === 'ALREADY_EXISTS');
      assert.equal((await s.get('config')).toString(), 'original');
    }));

  it('of concurrent ifAbsent puts of one key, exactly one wins and its bytes are stored', () =>
    withStorage(async (s) => {
      const contents = Array.from({ length: 6 }, (_, i) => Buffer.from(`writer ${i} ${randomBytes(8).toString('hex')}`));
      const results = await Promise.allSettled(contents.map((c) => s.put('locks/exclusive', c, { ifAbsent: true })));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(winners.length, 1, `winners: ${winners.join(',')}`);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof AlreadyExistsError, String(r.reason));
      assert.deepEqual(await s.get('locks/exclusive'), contents[winners[0]]);
    }));

  it('stores a large object exactly, and reads ranges across its inner boundaries', () =>
    withStorage(async (s) => {
      const size = target.largeObjectBytes ?? 40 * MiB;
      const data = randomBytes(size);
      await s.put('data/ff/large', data);
      assert.equal((await s.head('data/ff/large'))?.size, size);
      const back = await s.get('data/ff/large');
      assert.equal(back.length, size);
      assert.equal(sha256(back), sha256(data));
      for (const boundary of [...(target.largeObjectBoundaries ?? []), Math.floor(size / 2)]) {
        const range = { offset: boundary - 1000, length: 3000 };
        assert.deepEqual(await s.get('data/ff/large', range), data.subarray(range.offset, range.offset + range.length), `across ${boundary}`);
      }
    }));

  it('rejects keys that are not plain relative names', () =>
    withStorage(async (s) => {
      for (const key of ['', '/abs', '../up', 'a//b', 'a/./b']) {
        await assert.rejects(s.put(key, Buffer.from('x')), StorageError, `key ${JSON.stringify(key)}`);
      }
    }));
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
