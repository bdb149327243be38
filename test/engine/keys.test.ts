/**
 * Keys: several passwords open one repository (each wraps the same master key); a key can be
 * added, removed (not the one in use) and its password changed, and a removed or replaced
 * password no longer opens anything. The CLI does the same through `key add|list|remove|passwd`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { addKey, changePassword, listKeys, removeKey } from '../../src/engine/keys.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { WrongPasswordError } from '../../src/repo/errors.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { createRepo, FAST_KDF, reopenRepo, repoUrl, TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

test('a second key opens the same data; the key in use cannot be removed; a removed key opens nothing', async (t) => {
  const dir = await tempDir(t);
  const repoDir = path.join(dir, 'repo');
  const repo = await createRepo(repoDir);
  await fs.mkdir(path.join(dir, 'src'));
  await fs.writeFile(path.join(dir, 'src', 'f'), 'x');
  const { snapshotId } = await backup(repo, { asset: 'a', paths: [path.join(dir, 'src')] });

  const second = await addKey(repo, 'second password', FAST_KDF);
  const viaSecond = await reopenRepo(repoDir, 'second password');
  assert.equal(viaSecond.keyId, second);
  assert.deepEqual((await listSnapshots(viaSecond)).map((s) => s.id), [snapshotId], 'the same repository, readable with either key');
  assert.deepEqual((await listKeys(viaSecond)).map((k) => [k.id, k.current]).sort(), [[repo.keyId, false], [second, true]].sort());

  await assert.rejects(removeKey(viaSecond, second.slice(0, 8)), /is the one in use/);
  assert.equal(await removeKey(viaSecond, repo.keyId.slice(0, 8)), repo.keyId);
  await assert.rejects(reopenRepo(repoDir, TEST_PASSWORD), WrongPasswordError);
});

test('changing the password replaces the key: the old password stops working, the new one works', async (t) => {
  const dir = await tempDir(t);
  const repoDir = path.join(dir, 'repo');
  const repo = await createRepo(repoDir);
  const newId = await changePassword(repo, 'new password', FAST_KDF);
  await assert.rejects(reopenRepo(repoDir, TEST_PASSWORD), WrongPasswordError);
  assert.equal((await reopenRepo(repoDir, 'new password')).keyId, newId);
  assert.equal((await listKeys(repo)).length, 1);
});

test('CLI: key add with LIFEBOAT_NEW_PASSWORD, key list marks the key in use, key remove by prefix', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const location = repoUrl(path.join(dir, 'repo'));
  const added = await runCliJson<{ id: string }>(['key', 'add', '-r', location], { env: { LIFEBOAT_NEW_PASSWORD: 'ops team' } });
  assert.equal(added.result.code, 0, added.result.stderr);
  const listed = await runCliJson<Array<{ id: string; current: boolean }>>(['key', 'list', '-r', location], { env: { LIFEBOAT_PASSWORD: 'ops team' } });
  assert.deepEqual(listed.json.map((k) => [k.id, k.current]).sort(), [[added.json.id, true], [repo.keyId, false]].sort());
  const removed = await runCli(['key', 'remove', '-r', location, repo.keyId.slice(0, 10)], { env: { LIFEBOAT_PASSWORD: 'ops team' } });
  assert.equal(removed.code, 0, removed.stderr);
  const old = await runCli(['snapshots', '-r', location]);
  assert.equal(old.code, 12);
  assert.match(old.stderr, /wrong password/);
});
