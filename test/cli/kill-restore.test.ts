/**
 * kill -9 in the middle of a CLI restore leaves the file it was writing under its temporary name
 * (never under the final one). The next restore into the same target removes that temporary file,
 * says so in its JSON, and restores every file verified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backup } from '../../src/engine/backup.js';
import { isTempName } from '../../src/engine/restore-temp.js';
import { finished, runCliJson, spawnCli } from '../helpers/cli.js';
import { listAll, sha256File, writeRandomFile } from '../helpers/files.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

/** Restores into `target` and kills the process as soon as a temporary file appears; returns those files, or [] if it finished first. */
async function killWhileWriting(location: string, target: string): Promise<string[]> {
  const child = spawnCli(['restore', '-r', location, 'model@latest', '--target', target]);
  const done = finished(child);
  let running = true;
  const stop = () => (running = false);
  done.then(stop, stop);
  while (running) {
    const temps = (await listAll(target)).filter((p) => isTempName(path.basename(p)));
    if (temps.length > 0) {
      child.kill('SIGKILL');
      await done;
      return (await listAll(target)).filter((p) => isTempName(path.basename(p)));
    }
    await sleep(2);
  }
  return [];
}

test('a restore killed mid-file leaves only a temporary file, which the next restore removes', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await writeRandomFile(path.join(src, 'weights.bin'), 64 * MiB, 'weights');
  const repo = await createRepo(path.join(dir, 'repo'));
  await backup(repo, { asset: 'model', paths: [src] });
  const location = repoUrl(path.join(dir, 'repo'));

  let target = '';
  let left: string[] = [];
  for (let attempt = 0; attempt < 5 && left.length === 0; attempt++) {
    target = path.join(dir, `out-${attempt}`);
    left = await killWhileWriting(location, target);
  }
  assert.ok(left.length > 0, 'a restore was killed while it wrote a file');
  assert.equal((await listAll(target)).includes('weights.bin'), false, 'nothing at the final name');

  const { result, json } = await runCliJson<{ removedTempFiles: string[]; files: unknown[] }>(['restore', '-r', location, 'model@latest', '--target', target]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(json.removedTempFiles.sort(), left.map((p) => path.join(target, p)).sort());
  assert.deepEqual(await listAll(target), ['weights.bin']);
  assert.equal(await sha256File(path.join(target, 'weights.bin')), await sha256File(path.join(src, 'weights.bin')));
});
