/**
 * Bad input around the repository itself: every case ends with its documented exit code, a
 * message that says what is wrong and what to do, and nothing written where it does not belong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { seal } from '../../src/repo/crypto.js';
import { listIds, objectKey } from '../../src/repo/repository.js';
import { runCli } from '../helpers/cli.js';
import { listAll } from '../helpers/files.js';
import { objectKeys, openTestStorage } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

test('a wrong password is refused with exit 12 and says so', async (t) => {
  const dir = await tempDir(t);
  await createRepo(path.join(dir, 'repo'));
  const r = await runCli(['snapshots', '-r', repoUrl(path.join(dir, 'repo'))], { env: { LIFEBOAT_PASSWORD: 'not the password' } });
  assert.equal(r.code, 12);
  assert.match(r.stderr, /wrong password/);
  assert.equal(r.stdout, '');
});

test('no password at all (no TTY to prompt on) is a usage error, exit 2', async (t) => {
  const dir = await tempDir(t);
  await createRepo(path.join(dir, 'repo'));
  const r = await runCli(['snapshots', '-r', repoUrl(path.join(dir, 'repo'))], { env: { LIFEBOAT_PASSWORD: undefined, LIFEBOAT_PASSWORD_FILE: undefined } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no password given/);
});

test('a missing directory (or empty prefix) is not a repository, and is not created by any command', async (t) => {
  const dir = await tempDir(t);
  const missing = path.join(dir, 'nope', 'repo');
  for (const args of [['snapshots'], ['check'], ['backup', '--asset', 'a', dir]]) {
    const r = await runCli([...args, '-r', repoUrl(missing)]);
    assert.equal(r.code, 10, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /is not a Lifeboat repository \(no config\).*lifeboat init/);
  }
  await assert.rejects(fs.stat(path.join(dir, 'nope')), { code: 'ENOENT' });
  assert.deepEqual(await objectKeys(await openTestStorage(missing)), []);
});

test('a foreign non-empty directory (or prefix) is refused by init (untouched) and by every other command', async (t) => {
  const dir = await tempDir(t);
  const foreign = path.join(dir, 'home');
  const storage = await openTestStorage(foreign);
  await storage.put('docs/thesis.tex', Buffer.from('do not touch'));
  // Every file on disk (a local init's temporary files too) and every object (on S3).
  const state = async () => [await listAll(foreign), await objectKeys(storage)];
  const before = await state();

  const init = await runCli(['init', '-r', repoUrl(foreign)]);
  assert.equal(init.code, 1);
  assert.match(init.stderr, /is not empty and not a Lifeboat repository: choose an empty or new location/);
  assert.deepEqual(await state(), before, 'init wrote nothing into it');

  const open = await runCli(['snapshots', '-r', repoUrl(foreign)]);
  assert.equal(open.code, 10);
  assert.match(open.stderr, /not a Lifeboat repository/);
  assert.equal((await storage.get('docs/thesis.tex')).toString('utf8'), 'do not touch');
});

test('init on an existing repository is refused and leaves its keys alone', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const keys = await listIds(repo.storage, 'key');
  const r = await runCli(['init', '-r', repoUrl(path.join(dir, 'repo'))]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is already a Lifeboat repository/);
  assert.deepEqual(await listIds(repo.storage, 'key'), keys);
});

test('a repository of a newer format version (config) is refused: upgrade lifeboat', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const newer = { ...repo.config, version: repo.config.version + 1 };
  await repo.storage.put('config', seal(repo.key.data, 'config', Buffer.from(JSON.stringify(newer))));
  const r = await runCli(['snapshots', '-r', repoUrl(path.join(dir, 'repo'))]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /format version 2 is newer than this lifeboat supports \(1\): upgrade lifeboat/);
  const b = await runCli(['backup', '-r', repoUrl(path.join(dir, 'repo')), '--asset', 'a', dir]);
  assert.equal(b.code, 1, 'no backup is written into a format this version does not know');
  assert.deepEqual(await listIds(repo.storage, 'snapshot'), []);
});

test('a key file of a newer format version is refused: upgrade lifeboat', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const [keyId] = await listIds(repo.storage, 'key');
  const file = JSON.parse((await repo.storage.get(objectKey('key', keyId))).toString('utf8'));
  await repo.storage.put(objectKey('key', keyId), Buffer.from(JSON.stringify({ ...file, version: 2 })));
  const r = await runCli(['snapshots', '-r', repoUrl(path.join(dir, 'repo'))]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /key .* has format version 2, newer than this lifeboat supports \(1\): upgrade lifeboat/);
});

test('no repository given is a usage error, exit 2', async () => {
  const r = await runCli(['snapshots'], { env: { LIFEBOAT_REPOSITORY: undefined } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no repository given: use -r\/--repo or set LIFEBOAT_REPOSITORY/);
});
