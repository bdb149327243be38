/**
 * lifeboat.yaml names the repositories of the DR plan: commands take `-r NAME` and `--to NAME`
 * instead of URLs, work on the primary when given none, and take each repository's S3 settings
 * and password file from the file. Mistakes in the file, or a name it does not have, are errors
 * that say where and what to do.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, runCliJson } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { repoUrl, TEST_BACKEND } from '../helpers/test-backend.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { RGW } from '../storage/rgw-endpoint.js';

/** No password or repository from the environment: everything comes from lifeboat.yaml. */
const FROM_FILE_ONLY = { LIFEBOAT_PASSWORD: undefined, LIFEBOAT_REPOSITORY: undefined };
/**
 * On S3, the environment points at a closed port: the repositories open only because lifeboat.yaml
 * gives their endpoint. Locally, the URLs are directories relative to the file.
 */
const S3_ENDPOINT_FROM_FILE = TEST_BACKEND === 's3' ? { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } : {};

function yamlFor(dir: string): string {
  const where = (name: string) => (TEST_BACKEND === 's3' ? `${repoUrl(path.join(dir, name))}\n    s3: { endpoint: ${RGW.endpoint}, path_style: true }` : name);
  return [
    '# the DR plan of a test',
    'repositories:',
    '  primary:',
    `    url: ${where('primary')}`,
    '    role: primary',
    '    password_file: secrets/primary.password',
    '  dr-site:',
    `    url: ${where('dr')}`,
    '    role: replica',
    '    password_file: secrets/dr.password',
    '',
  ].join('\n');
}

test('repositories by name: init, backup, copy --to NAME and snapshots --replicas NAME, passwords from lifeboat.yaml', async (t) => {
  const dir = await tempDir(t);
  await fs.mkdir(path.join(dir, 'secrets'));
  await fs.writeFile(path.join(dir, 'secrets', 'primary.password'), 'primary password\n');
  await fs.writeFile(path.join(dir, 'secrets', 'dr.password'), 'dr password\n');
  await fs.writeFile(path.join(dir, 'lifeboat.yaml'), yamlFor(dir));
  const src = path.join(dir, 'model');
  await fs.mkdir(src);
  await writeRandomFile(path.join(src, 'weights.bin'), 2 * 1024 * 1024, 'weights');
  // Run where lifeboat.yaml is, so it is found without --config.
  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ...FROM_FILE_ONLY, ...S3_ENDPOINT_FROM_FILE } });
  const cliJson = <T>(args: string[]) => runCliJson<T>(args, { cwd: dir, env: { ...FROM_FILE_ONLY, ...S3_ENDPOINT_FROM_FILE } });

  const init = await cli(['init']);
  assert.equal(init.code, 0, init.stderr);
  assert.equal((await cli(['init', '-r', 'dr-site'])).code, 0);
  const backup = await cliJson<{ id: string }>(['backup', '--asset', 'llm', src]);
  assert.equal(backup.result.code, 0, backup.result.stderr);

  const copied = await cliJson<{ copied: number; destination: string }>(['copy', '--to', 'dr-site', '--all']);
  assert.equal(copied.result.code, 0, copied.result.stderr);
  assert.equal(copied.json.copied, 1);
  const lag = await cliJson<{ replication: { assets: Array<{ asset: string; missing: number }> } }>(['snapshots', '--replicas', 'dr-site']);
  assert.deepEqual(lag.json.replication.assets.map((a) => [a.asset, a.missing]), [['llm', 0]]);
  const replica = await cliJson<Array<{ asset: string }>>(['snapshots', '-r', 'dr-site']);
  assert.deepEqual(replica.json.map((s) => s.asset), ['llm']);

  // Each repository has its own password: the primary's does not open the replica.
  const wrong = await runCli(['snapshots', '-r', 'dr-site'], { cwd: dir, env: { ...S3_ENDPOINT_FROM_FILE, LIFEBOAT_PASSWORD: 'primary password' } });
  assert.equal(wrong.code, 12, 'wrong password');
  assert.match(wrong.stderr, /password/i);

  // Elsewhere, --config names the file; the relative paths in it are still its folder's.
  const elsewhere = await runCliJson<Array<{ id: string }>>(['snapshots', '--config', path.join(dir, 'lifeboat.yaml')], { cwd: src, env: { ...FROM_FILE_ONLY, ...S3_ENDPOINT_FROM_FILE } });
  assert.deepEqual(elsewhere.json.map((s) => s.id), [backup.json.id]);
});

test('a name lifeboat.yaml does not have is an error naming the ones it has, not a new directory', async (t) => {
  const dir = await tempDir(t);
  await fs.writeFile(path.join(dir, 'lifeboat.yaml'), yamlFor(dir));
  const typo = await runCli(['init', '-r', 'dr-stie'], { cwd: dir });
  assert.equal(typo.code, 2, 'a mistaken name is a usage error');
  assert.match(typo.stderr, /"dr-stie" is neither a repository of lifeboat\.yaml \(primary, dr-site\) nor a directory here; for a new repository in a directory, write \.\/dr-stie/);
  await assert.rejects(fs.stat(path.join(dir, 'dr-stie')), /ENOENT/);
});

test('mistakes in lifeboat.yaml are reported with their line and key', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'lifeboat.yaml');
  await fs.writeFile(
    file,
    ['repositories:', '  primary:', '    url: http://rgw:7480/bucket', '    role: primary', '  second:', '    url: /backups/second', '    role: primary', '    pasword_file: x', ''].join('\n'),
  );
  const r = await runCli(['snapshots', '--config', file], { cwd: dir });
  assert.equal(r.code, 2, 'an invalid lifeboat.yaml is a usage error');
  assert.match(r.stderr, /the repositories section is invalid/);
  assert.match(r.stderr, /lifeboat\.yaml:3: repositories\.primary\.url: must be s3:\/\/BUCKET\/PREFIX or a directory/);
  assert.match(r.stderr, /lifeboat\.yaml:8: repositories\.second\.pasword_file: Unrecognized key: "pasword_file"/);

  await fs.writeFile(file, ['repositories:', '  a: { url: /x, role: primary }', '  b: { url: /y, role: primary }', ''].join('\n'));
  const two = await runCli(['snapshots', '--config', file], { cwd: dir });
  assert.match(two.stderr, /only one repository can have role: primary \(a, b do\)/);

  await fs.writeFile(file, ['repositories:', '  a: { url: /x }', '  b: { url: /y }', ''].join('\n'));
  const none = await runCli(['snapshots', '--config', file], { cwd: dir, env: { LIFEBOAT_REPOSITORY: undefined } });
  assert.match(none.stderr, /no repository given, and .*lifeboat\.yaml names 2 without a primary: use -r with one of a, b, or give one role: primary/);

  const missing = await runCli(['snapshots', '--config', path.join(dir, 'nope.yaml')], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope\.yaml: .*; pass the right path with --config or LIFEBOAT_CONFIG/);
});
