/**
 * The local cache of a remote repository's keys, snapshots and index (src/storage/object-cache.ts):
 * such an object is read from the storage once and from the cache after that, but only while its
 * bytes still hash to its name; which objects exist is always the storage's answer; everything
 * else, and every range read, goes to the storage; a cache that cannot be written costs nothing
 * but the speed-up.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { it } from 'node:test';
import { CACHE_MAX_AGE_DAYS, cacheDirFor, cachedKeys, touchCached, withObjectCache } from '../../src/storage/object-cache.js';
import { openLocalStorage } from '../../src/storage/local.js';
import { countingReads } from '../helpers/counting-storage.js';
import { tempDir } from '../helpers/tmp-dir.js';

/** An object under `prefix` named, as the repository names them, by the SHA-256 of its bytes. */
function object(prefix: string, text: string): { key: string; bytes: Buffer } {
  const bytes = Buffer.from(text);
  return { key: prefix + createHash('sha256').update(bytes).digest('hex'), bytes };
}

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const remote = openLocalStorage(path.join(dir, 'remote'));
  const cacheDir = cacheDirFor(path.join(dir, 'cache'), 's3://bucket/repo at http://127.0.0.1:7480');
  const { storage, reads } = countingReads(remote);
  return { dir, remote, cacheDir, reads, cached: withObjectCache(storage, cacheDir) };
}

it('reads a key, snapshot or index object from the storage once, then from the cache', async (t) => {
  const { remote, reads, cached } = await setup(t);
  const objects = [object('keys/', 'key file'), object('snapshots/', 'snapshot'), object('index/', 'index')];
  for (const o of objects) await remote.put(o.key, o.bytes);
  for (let round = 0; round < 3; round++) {
    for (const o of objects) assert.deepEqual(await cached.get(o.key), o.bytes);
  }
  for (const o of objects) assert.equal(reads.get(o.key), 1, `${o.key} read from the storage once`);
});

it('passes range reads, data, locks and the config through, and caches none of them', async (t) => {
  const { remote, reads, cached, cacheDir } = await setup(t);
  const index = object('index/', 'an index file');
  const pack = object('data/ab/', 'a pack');
  const others = [pack.key, 'config', `locks/${'0'.repeat(64)}`];
  await remote.put(index.key, index.bytes);
  for (const key of others) await remote.put(key, Buffer.from(`content of ${key}`));
  for (let round = 0; round < 2; round++) {
    assert.equal((await cached.get(index.key, { offset: 3, length: 5 })).toString(), 'index');
    for (const key of others) assert.equal((await cached.get(key)).toString(), `content of ${key}`);
  }
  assert.equal(reads.get(index.key), 2, 'both range reads reached the storage');
  for (const key of others) assert.equal(reads.get(key), 2, `${key} read from the storage every time`);
  assert.deepEqual(await cachedKeys(cacheDir, 'index/'), [], 'a range read caches nothing');
  assert.deepEqual(await cachedKeys(cacheDir, 'data/ab/'), []);
});

it('serves a damaged cached copy never: reads the object again and replaces the copy', async (t) => {
  const { remote, reads, cached, cacheDir } = await setup(t);
  const snapshot = object('snapshots/', 'a snapshot');
  await remote.put(snapshot.key, snapshot.bytes);
  await cached.get(snapshot.key);
  await fs.writeFile(path.join(cacheDir, snapshot.key), 'a snapshoT'); // a bit flipped on the local disk
  assert.deepEqual(await cached.get(snapshot.key), snapshot.bytes);
  assert.equal(reads.get(snapshot.key), 2, 'read again from the storage');
  assert.deepEqual(await fs.readFile(path.join(cacheDir, snapshot.key)), snapshot.bytes, 'the copy is replaced');
  assert.deepEqual(await cached.get(snapshot.key), snapshot.bytes);
  assert.equal(reads.get(snapshot.key), 2, 'and served from the cache again');
});

it('writes through what it puts, and forgets what it deletes', async (t) => {
  const { remote, reads, cached, cacheDir } = await setup(t);
  const index = object('index/', 'written by this command');
  await cached.put(index.key, index.bytes);
  assert.deepEqual(await cached.get(index.key), index.bytes);
  assert.equal(reads.get(index.key), undefined, 'served from the copy written with it');
  await cached.delete(index.key);
  assert.equal(await remote.head(index.key), undefined);
  assert.deepEqual(await cachedKeys(cacheDir, 'index/'), []);
});

it('takes which objects exist from the storage: a listing drops copies of objects deleted elsewhere', async (t) => {
  const { remote, cached, cacheDir } = await setup(t);
  const kept = object('snapshots/', 'kept');
  const forgotten = object('snapshots/', 'forgotten by another host');
  for (const o of [kept, forgotten]) {
    await remote.put(o.key, o.bytes);
    await cached.get(o.key);
  }
  await remote.delete(forgotten.key); // not through this cache
  const listed: string[] = [];
  for await (const info of cached.list('snapshots/')) listed.push(info.key);
  assert.deepEqual(listed, [kept.key]);
  assert.deepEqual(await cachedKeys(cacheDir, 'snapshots/'), [kept.key]);
});

it('still reads when the cache cannot be written', async (t) => {
  const { dir, remote } = await setup(t);
  const blocked = path.join(dir, 'not-a-directory');
  await fs.writeFile(blocked, 'a file where the cache directory would be');
  const cached = withObjectCache(remote, path.join(blocked, 'repo'));
  const index = object('index/', 'index');
  await cached.put(index.key, index.bytes);
  assert.deepEqual(await cached.get(index.key), index.bytes);
  assert.deepEqual(await remote.get(index.key), index.bytes);
});

it('lists the most recently used cached object first', async (t) => {
  const { remote, cached, cacheDir } = await setup(t);
  const [a, b] = [object('keys/', 'key a'), object('keys/', 'key b')];
  for (const o of [a, b]) {
    await remote.put(o.key, o.bytes);
    await cached.get(o.key);
  }
  const long = new Date(Date.now() - 60_000);
  await fs.utimes(path.join(cacheDir, b.key), long, long);
  assert.deepEqual(await cachedKeys(cacheDir, 'keys/'), [a.key, b.key]);
  await touchCached(cacheDir, b.key);
  assert.deepEqual(await cachedKeys(cacheDir, 'keys/'), [b.key, a.key]);
});

it(`removes the caches of repositories unused for ${CACHE_MAX_AGE_DAYS} days, and keeps the others`, async (t) => {
  const dir = await tempDir(t);
  const root = path.join(dir, 'cache');
  const stale = cacheDirFor(root, 'a repository not opened since last year');
  const recent = cacheDirFor(root, 'a repository opened last week');
  for (const d of [stale, recent]) await fs.mkdir(path.join(d, 'index'), { recursive: true });
  const days = (n: number) => new Date(Date.now() - n * 86_400_000);
  await fs.utimes(stale, days(CACHE_MAX_AGE_DAYS + 300), days(CACHE_MAX_AGE_DAYS + 300));
  await fs.utimes(recent, days(7), days(7));
  const mine = cacheDirFor(root, 'the repository opened now');
  withObjectCache(openLocalStorage(path.join(dir, 'remote')), mine);
  const deadline = Date.now() + 5000;
  while ((await fs.stat(stale).catch(() => undefined)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await fs.stat(stale).catch(() => undefined), undefined, 'the stale cache is removed');
  assert.ok(await fs.stat(recent), 'the recent one stays');
  assert.ok((await fs.stat(mine)).mtimeMs > days(1).getTime(), 'the opened one is marked as used');
});

it('a listing also removes copies left half-written by a command that died, once they are old', async (t) => {
  const { remote, cached, cacheDir } = await setup(t);
  const index = object('index/', 'an index');
  await remote.put(index.key, index.bytes);
  await cached.get(index.key);
  const old = path.join(cacheDir, `${index.key}.tmp-0123456789ab`);
  const recent = path.join(cacheDir, `${index.key}.tmp-ba9876543210`);
  await fs.writeFile(old, 'half of an ind');
  await fs.writeFile(recent, 'being written');
  const hourAgo = new Date(Date.now() - 3_600_000);
  await fs.utimes(old, hourAgo, hourAgo);
  for await (const _ of cached.list('index/'));
  assert.deepEqual((await fs.readdir(path.join(cacheDir, 'index'))).sort(), [path.basename(index.key), path.basename(recent)].sort());
});

it('keeps its copies readable by their owner only (a key file is what a password guesser needs)', async (t) => {
  const { remote, cached, cacheDir } = await setup(t);
  const key = object('keys/', 'a key file');
  await remote.put(key.key, key.bytes);
  await cached.get(key.key);
  assert.equal((await fs.stat(path.join(cacheDir, key.key))).mode & 0o777, 0o600);
  assert.equal((await fs.stat(path.join(cacheDir, 'keys'))).mode & 0o777, 0o700);
  assert.equal((await fs.stat(cacheDir)).mode & 0o777, 0o700);
});
