/**
 * Opening a repository with a key whose unwrapping started early, from a copy of its key file
 * kept outside the repository (the CLI's cache): the copy saves reading the key file, but the
 * repository decides which keys exist, so a key removed from it no longer opens it.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { addKey, removeKey } from '../../src/engine/keys.js';
import { WrongPasswordError } from '../../src/repo/errors.js';
import { initRepository, objectKey, openRepository, unwrapEarly } from '../../src/repo/repository.js';
import { openLocalStorage } from '../../src/storage/local.js';
import type { Storage } from '../../src/storage/storage.js';
import { tempDir } from '../helpers/tmp-dir.js';

const CHEAP = { N: 1024, r: 8, p: 1, lanes: 2 };

/** The storage, recording the keys read from it. */
function recording(storage: Storage): { storage: Storage; reads: string[] } {
  const reads: string[] = [];
  return { reads, storage: { ...storage, get: (key, range, into) => (reads.push(key), storage.get(key, range, into)) } };
}

it('uses a key unwrapped early without reading its key file, if the repository still lists it', async (t) => {
  const local = openLocalStorage(await tempDir(t));
  const created = await initRepository(local, 'pw', { kdf: CHEAP });
  const copy = await local.get(objectKey('key', created.keyId));
  const { storage, reads } = recording(local);
  const repo = await openRepository(storage, 'pw', { early: unwrapEarly(copy, created.keyId, 'pw') });
  assert.equal(repo.keyId, created.keyId);
  assert.deepEqual(repo.key.data, created.key.data);
  assert.deepEqual(reads, ['config'], 'no key file read');
});

it('does not open with a key the repository no longer has, even from an early copy', async (t) => {
  const local = openLocalStorage(await tempDir(t));
  const created = await initRepository(local, 'old password', { kdf: CHEAP });
  const copy = await local.get(objectKey('key', created.keyId));
  const other = await addKey(created, 'new password', CHEAP);
  await removeKey({ ...created, keyId: other }, created.keyId.slice(0, 12));
  await assert.rejects(openRepository(local, 'old password', { early: unwrapEarly(copy, created.keyId, 'old password') }), WrongPasswordError);
  const reopened = await openRepository(local, 'new password', { early: unwrapEarly(copy, created.keyId, 'new password') });
  assert.equal(reopened.keyId, other);
});

it('tries the other keys when the early one does not open with the password', async (t) => {
  const local = openLocalStorage(await tempDir(t));
  const created = await initRepository(local, 'first', { kdf: CHEAP });
  const second = await addKey(created, 'second', CHEAP);
  const copy = await local.get(objectKey('key', created.keyId));
  const repo = await openRepository(local, 'second', { early: unwrapEarly(copy, created.keyId, 'second') });
  assert.equal(repo.keyId, second);
  assert.deepEqual(repo.key.data, created.key.data);
});
