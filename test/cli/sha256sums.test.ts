/**
 * restore --sha256sums writes a SHA256SUMS file in the target that the real `sha256sum -c`
 * accepts, listing every restored file by its path relative to the target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

async function backupOf(t: Parameters<typeof tempDir>[0], build: (src: string) => Promise<void>) {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await build(src);
  await createRepo(path.join(dir, 'repo'));
  const location = repoUrl(path.join(dir, 'repo'));
  const b = await runCli(['backup', '-r', location, '--asset', 'sums', '-q', src]);
  assert.equal(b.code, 0, b.stderr);
  return { dir, location };
}

function sha256sumCheck(cwd: string) {
  return spawnSync('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd, encoding: 'utf8' });
}

test('SHA256SUMS from restore --sha256sums passes sha256sum -c, and fails it when a file is altered', async (t) => {
  const { dir, location } = await backupOf(t, async (src) => {
    await fs.mkdir(path.join(src, 'models/llama ft'), { recursive: true });
    await fs.mkdir(path.join(src, 'empty-dir'));
    await writeRandomFile(path.join(src, 'models/llama ft/weights.bin'), 2 * 1024 * 1024, 'w');
    await fs.writeFile(path.join(src, 'models/llama ft/config.json'), '{"layers": 2}\n');
    await fs.writeFile(path.join(src, 'データ.jsonl'), '{"text": "こんにちは"}\n');
    await fs.writeFile(path.join(src, 'back\\slash.txt'), 'odd name\n');
    await fs.writeFile(path.join(src, 'empty'), '');
    await fs.symlink('empty', path.join(src, 'link-to-empty'));
  });
  const target = path.join(dir, 'out');
  const r = await runCli(['restore', '-r', location, 'sums@latest', '--target', target, '--sha256sums']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*SHA256SUMS/);

  const sums = await fs.readFile(path.join(target, 'SHA256SUMS'), 'utf8');
  const listed = sums.trimEnd().split('\n').map((line) => line.slice(66)).sort();
  assert.deepEqual(listed, ['back\\slash.txt', 'empty', 'models/llama ft/config.json', 'models/llama ft/weights.bin', 'データ.jsonl'], 'every regular file, relative to the target; no symlinks');
  const ok = sha256sumCheck(target);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.equal(ok.stdout.trim().split('\n').filter((l) => l.endsWith(': OK')).length, 5);

  await fs.appendFile(path.join(target, 'models/llama ft/config.json'), ' ');
  const bad = sha256sumCheck(target);
  assert.equal(bad.status, 1, 'the sums really are checked');
  assert.match(bad.stdout, /config\.json: FAILED/);
});

test('SHA256SUMS escapes a file name with a newline the way sha256sum expects', async (t) => {
  const { dir, location } = await backupOf(t, async (src) => {
    await fs.writeFile(path.join(src, 'new\nline'), 'x');
  });
  const target = path.join(dir, 'out');
  const r = await runCli(['restore', '-r', location, 'latest', '--target', target, '--sha256sums']);
  assert.equal(r.code, 0, r.stderr);
  const check = sha256sumCheck(target);
  assert.equal(check.status, 0, check.stdout + check.stderr);
});
