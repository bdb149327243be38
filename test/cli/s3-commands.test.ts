/**
 * Every repository command works unchanged on s3:// (Ceph RGW): the same CLI, the same results
 * as on a local directory. Fails, never skips, when the RGW is not running.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { openS3Storage } from '../../src/storage/s3.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { flipByte, objectKeys } from '../helpers/test-backend.js';
import { startTlsFront, TEST_CA_FILE } from '../helpers/tls-front.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { RGW, RGW_CLI_ENV } from '../storage/rgw-endpoint.js';
import { bucketForTest, rgwOptions } from '../storage/rgw.js';

const s3Env = RGW_CLI_ENV;

test('init, backup, snapshots, ls, diff, restore, check, stats, key, forget and prune on an s3:// repository', async (t) => {
  const bucket = await bucketForTest(t, 'cli');
  const dir = await tempDir(t);
  const repo = `s3://${bucket}/lifeboat`;
  const cli = (args: string[]) => runCli([...args, '-r', repo], { env: s3Env });
  const src = path.join(dir, 'model');
  await fs.mkdir(path.join(src, 'shards'), { recursive: true });
  await writeRandomFile(path.join(src, 'shards', 'a.bin'), 3 * 1024 * 1024, 'a');
  await fs.writeFile(path.join(src, 'config.json'), '{"layers": 2}\n');

  assert.equal((await cli(['init'])).code, 0);
  const first = await runCliJson<{ id: string }>(['backup', '-r', repo, '--asset', 'm', src, '--json'], { env: s3Env });
  assert.equal(first.result.code, 0, first.result.stderr);
  // Under Node 20 the AWS SDK warns on every start that its 2027 releases need Node 22 (storage/s3-client.ts turns that off).
  assert.doesNotMatch(first.result.stderr, /Warning|NodeVersionSupport/, 'no warning of a dependency reaches stderr');
  await fs.writeFile(path.join(src, 'config.json'), '{"layers": 3}\n');
  const second = await runCliJson<{ id: string; summary: { readBytes: number } }>(['backup', '-r', repo, '--asset', 'm', src, '--json'], { env: s3Env });
  assert.equal(second.json.summary.readBytes, 14, 'only the changed file is read again');

  const snaps = await runCliJson<Array<{ id: string }>>(['snapshots', '-r', repo, '--json'], { env: s3Env });
  assert.deepEqual(snaps.json.map((s) => s.id), [first.json.id, second.json.id]);
  const ls = await runCliJson<{ entries: Array<{ path: string }> }>(['ls', '-r', repo, 'm@latest', '--json'], { env: s3Env });
  assert.deepEqual(ls.json.entries.map((e) => e.path).sort(), ['config.json', 'shards', 'shards/a.bin']);
  const diff = await runCliJson<{ modified: Array<{ path: string }> }>(['diff', '-r', repo, first.json.id, second.json.id, '--json'], { env: s3Env });
  assert.deepEqual(diff.json.modified.map((m) => m.path), ['config.json']);

  const target = path.join(dir, 'restored');
  const restored = await cli(['restore', 'm@latest', '--target', target, '--sha256sums']);
  assert.equal(restored.code, 0, restored.stderr);
  const sums = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: target, encoding: 'utf8' });
  assert.equal(sums.status, 0, sums.stdout + sums.stderr);

  const checked = await runCliJson<{ ok: boolean; packsRead: number }>(['check', '-r', repo, '--read-data', '--json'], { env: s3Env });
  assert.equal(checked.json.ok, true);
  assert.ok(checked.json.packsRead > 0);
  const stats = await runCliJson<{ snapshots: number; storedBytes: number }>(['stats', '-r', repo, '--json'], { env: s3Env });
  assert.equal(stats.json.snapshots, 2);
  assert.ok(stats.json.storedBytes > 0);

  await fs.writeFile(path.join(dir, 'new-password'), 'another password\n');
  assert.equal((await cli(['key', 'add', '--new-password-file', path.join(dir, 'new-password')])).code, 0);
  const keys = await runCliJson<unknown[]>(['key', 'list', '-r', repo, '--json'], { env: { ...s3Env, LIFEBOAT_PASSWORD: 'another password' } });
  assert.equal(keys.json.length, 2, 'the new password opens the repository too');

  assert.equal((await cli(['forget', '--keep-last', '1'])).code, 0);
  assert.equal((await cli(['prune'])).code, 0);
  const after = await runCliJson<{ ok: boolean }>(['check', '-r', repo, '--read-data', '--json'], { env: s3Env });
  assert.equal(after.json.ok, true);
  assert.equal((await cli(['unlock'])).code, 0);
});

test('a local cache keeps the keys, snapshots and index of an s3:// repository, and the repository still decides', async (t) => {
  const bucket = await bucketForTest(t, 'cache');
  const dir = await tempDir(t);
  const repo = `s3://${bucket}/cached`;
  const cacheRoot = path.join(dir, 'cache');
  const env = { ...s3Env, LIFEBOAT_CACHE_DIR: cacheRoot };
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli([...args, '-r', repo], { env: { ...env, ...extra } });
  const src = path.join(dir, 'model');
  await fs.mkdir(src);
  await writeRandomFile(path.join(src, 'weights.bin'), 2 * 1024 * 1024, 'w');
  assert.equal((await cli(['init'])).code, 0);
  const backup = await cli(['backup', '--asset', 'm', src]);
  assert.equal(backup.code, 0, backup.stderr);

  // What the backup wrote and read is cached under its own names, nothing else.
  const [cacheDir] = await fs.readdir(cacheRoot);
  const cached = async (kind: string) => (await fs.readdir(path.join(cacheRoot, cacheDir, kind)).catch(() => [] as string[])).sort();
  const storage = await openS3Storage(repo, rgwOptions(), {});
  t.after(() => storage.close());
  const listed = async (kind: string) => (await objectKeys(storage, `${kind}/`)).map((k) => k.slice(kind.length + 1)).sort();
  for (const kind of ['keys', 'snapshots', 'index']) assert.deepEqual(await cached(kind), await listed(kind), kind);
  assert.deepEqual((await fs.readdir(path.join(cacheRoot, cacheDir))).sort(), ['index', 'keys', 'snapshots']);

  // An index file damaged on the server: restore still works from the intact copy; check and
  // --no-cache read the server's bytes and report it.
  const [victim] = await listed('index');
  await flipByte(storage, `index/${victim}`, 20);
  const restored = await cli(['restore', 'm@latest', '--target', path.join(dir, 'out')]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(await fs.readFile(path.join(dir, 'out', 'weights.bin')), await fs.readFile(path.join(src, 'weights.bin')));
  const uncached = await cli(['restore', 'm@latest', '--target', path.join(dir, 'out2'), '--no-cache']);
  assert.equal(uncached.code, 13);
  assert.match(uncached.stderr, new RegExp(`index file index/${victim} .* is damaged`));
  const checked = await cli(['check']);
  assert.equal(checked.code, 13);
  assert.match(checked.stdout + checked.stderr, new RegExp(`index/${victim}`));
  assert.equal((await cli(['repair', 'index'])).code, 0);

  // The password changed from another machine (no cache there): the cached key file of the old
  // password no longer opens the repository, and the listing drops it from the cache.
  await fs.writeFile(path.join(dir, 'new-password'), 'changed elsewhere\n');
  const passwd = await cli(['key', 'passwd', '--new-password-file', path.join(dir, 'new-password')], { LIFEBOAT_CACHE_DIR: path.join(dir, 'other-machine') });
  assert.equal(passwd.code, 0, passwd.stderr);
  const old = await cli(['snapshots']);
  assert.equal(old.code, 12);
  assert.match(old.stderr, /wrong password/);
  assert.deepEqual(await cached('keys'), await listed('keys'), 'the removed key is gone from the cache');
  const renewed = await cli(['snapshots'], { LIFEBOAT_PASSWORD: 'changed elsewhere' });
  assert.equal(renewed.code, 0, renewed.stderr);
});

test('an https endpoint signed by the site\'s CA: backup, restore and check with --s3-ca-bundle or AWS_CA_BUNDLE; a clear error without', async (t) => {
  const bucket = await bucketForTest(t, 'https');
  const rgw = new URL(RGW.endpoint);
  const front = await startTlsFront({ host: rgw.hostname, port: Number(rgw.port) });
  t.after(() => front.close());
  const dir = await tempDir(t);
  const repo = `s3://${bucket}/over-https`;
  const env = { ...s3Env, AWS_ENDPOINT_URL: front.url };
  const src = path.join(dir, 'model');
  await fs.mkdir(src);
  await writeRandomFile(path.join(src, 'weights.bin'), 3 * 1024 * 1024, 'w');

  assert.equal((await runCli(['init', '-r', repo, '--s3-ca-bundle', TEST_CA_FILE], { env })).code, 0);
  const backup = await runCli(['backup', '-r', repo, '--s3-ca-bundle', TEST_CA_FILE, '--asset', 'm', src], { env });
  assert.equal(backup.code, 0, backup.stderr);
  const withEnv = { ...env, AWS_CA_BUNDLE: TEST_CA_FILE };
  const restored = await runCli(['restore', '-r', repo, 'm@latest', '--target', path.join(dir, 'out')], { env: withEnv });
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual(await fs.readFile(path.join(dir, 'out', 'weights.bin')), await fs.readFile(path.join(src, 'weights.bin')));
  const checked = await runCliJson<{ ok: boolean }>(['check', '-r', repo, '--read-data'], { env: withEnv });
  assert.equal(checked.json.ok, true);

  const started = Date.now();
  const untrusted = await runCli(['snapshots', '-r', repo, '--no-cache'], { env });
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /the certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted .*give the CA with --s3-ca-bundle FILE/);
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});
