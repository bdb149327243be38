/**
 * Read-ahead of immutable objects (src/storage/prefetch.ts): objects under the given prefixes are
 * read once, early, and their first whole read is served from that; everything else, listings
 * included, goes to the storage as it is when asked.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { openLocalStorage } from '../../src/storage/local.js';
import { prefetching } from '../../src/storage/prefetch.js';
import type { Storage } from '../../src/storage/storage.js';
import { countingReads } from '../helpers/counting-storage.js';
import { tempDir } from '../helpers/tmp-dir.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

it('reads the objects under the prefixes once, early, and serves their first read from that', async (t) => {
  const local = openLocalStorage(await tempDir(t));
  for (const key of ['snapshots/s1', 'snapshots/s2', 'index/i1', 'keys/k1']) await local.put(key, Buffer.from(`content of ${key}`));
  const { storage, reads } = countingReads(local);
  const ahead = prefetching(storage, ['snapshots/', 'index/']);
  await settle();
  assert.deepEqual([...reads.keys()].sort(), ['index/i1', 'snapshots/s1', 'snapshots/s2'], 'read ahead: exactly the prefixes');
  assert.equal((await ahead.get('snapshots/s1')).toString(), 'content of snapshots/s1');
  assert.equal((await ahead.get('index/i1')).toString(), 'content of index/i1');
  assert.equal(reads.get('snapshots/s1'), 1, 'served from the read-ahead');
  assert.equal(reads.get('index/i1'), 1);
  // A second read, a range read and other keys go to the storage.
  assert.equal((await ahead.get('snapshots/s1')).toString(), 'content of snapshots/s1');
  assert.equal(reads.get('snapshots/s1'), 2);
  assert.equal((await ahead.get('index/i1', { offset: 0, length: 7 })).toString(), 'content');
  assert.equal((await ahead.get('keys/k1')).toString(), 'content of keys/k1');
});

it('lists what exists when asked, and reads again what failed early', async (t) => {
  const local = openLocalStorage(await tempDir(t));
  await local.put('snapshots/s1', Buffer.from('one'));
  let failOnce = true;
  const flaky: Storage = {
    ...local,
    get(key, range, into) {
      if (failOnce && key === 'snapshots/s1') {
        failOnce = false;
        return Promise.reject(new Error('the network was down'));
      }
      return local.get(key, range, into);
    },
  };
  const ahead = prefetching(flaky, ['snapshots/']);
  await settle();
  await local.put('snapshots/s2', Buffer.from('two'));
  const listed: string[] = [];
  for await (const o of ahead.list('snapshots/')) listed.push(o.key);
  assert.deepEqual(listed.sort(), ['snapshots/s1', 'snapshots/s2']);
  assert.equal((await ahead.get('snapshots/s1')).toString(), 'one', 'the early failure is not the answer');
  assert.equal((await ahead.get('snapshots/s2')).toString(), 'two');
});

it('reads an object once when the command asks for it before the read-ahead got to it', async (t) => {
  const local = openLocalStorage(await tempDir(t));
  for (let i = 0; i < 20; i++) await local.put(`index/i${String(i).padStart(2, '0')}`, Buffer.from(`index ${i}`));
  const { storage, reads } = countingReads(local);
  const ahead = prefetching(storage, ['index/']);
  await new Promise((resolve) => setImmediate(resolve)); // the listing has begun, most reads have not
  const keys = [...Array(20).keys()].map((i) => `index/i${String(i).padStart(2, '0')}`).reverse();
  const got = await Promise.all(keys.map((k) => ahead.get(k)));
  assert.deepEqual(got.map(String), keys.map((k) => `index ${Number(k.slice(7))}`));
  await settle();
  for (const k of keys) assert.equal(reads.get(k), 1, `${k} read once`);
});

