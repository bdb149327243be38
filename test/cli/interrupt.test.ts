/**
 * SIGTERM or SIGINT in the middle of a CLI backup: the backup stops at a safe point and the
 * command exits 130 saying it was interrupted and what stays valid; there is no snapshot, no
 * lock, the repository passes check --read-data, and the next backup completes reusing what the
 * interrupted one stored (12 packs of 512 KiB in: past the first index write). A second signal
 * quits at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { check } from '../../src/engine/check.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { listLocks } from '../../src/repo/lock.js';
import type { Repository } from '../../src/repo/repository.js';
import { finished, runCliJson, spawnCli, type CliResult } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { objectKeys } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;
const REPO_OPTIONS = fileURLToPath(new URL('../../src/cli/repo-options.js', import.meta.url));

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  for (let i = 0; i < 4; i++) await writeRandomFile(path.join(src, `shard-${i}.bin`), 6 * MiB, `shard-${i}`);
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 512 * 1024 });
  return { src, repo, location: repoUrl(path.join(dir, 'repo')) };
}

/** Starts a backup and sends `signals` once it has stored `packs` packs; resolves to how it ended. */
async function interruptBackup(repo: Repository, location: string, src: string, signals: NodeJS.Signals[], packs: number): Promise<CliResult> {
  const child = spawnCli(['backup', '-r', location, '--asset', 'model', '--json', src]);
  let exited = false;
  const done = finished(child).finally(() => (exited = true));
  while (!exited && (await objectKeys(repo.storage, 'data/')).length < packs) await sleep(10);
  assert.ok(!exited, 'the backup was still running when the signal came');
  for (const signal of signals) child.kill(signal);
  return done;
}

test('SIGTERM mid-backup: exit 130 saying what stays valid, no snapshot, no lock, check passes, and the rerun completes', async (t) => {
  const { src, repo, location } = await setup(t);
  const r = await interruptBackup(repo, location, src, ['SIGTERM'], 12);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /SIGTERM: stopping at the next safe point/);
  assert.match(r.stderr, /interrupted by SIGTERM, stopped at a safe point: what was stored before stays valid.*no snapshot of an unfinished backup/);
  assert.deepEqual(JSON.parse(r.stdout).error.code, 'ABORTED', 'with --json, the error document on stdout');
  assert.deepEqual(await listSnapshots(repo), [], 'no snapshot');
  assert.deepEqual(await listLocks(repo), [], 'no lock: it was released, not left to go stale');
  const report = await check(repo, { readData: 1 });
  assert.equal(report.ok, true, report.errors.join('; '));
  assert.ok(report.packs > 0, 'what the interrupted backup stored and indexed stays');

  const rerun = await runCliJson<{ summary: { newRawBytes: number; totalBytes: number } }>(['backup', '-r', location, '--asset', 'model', src]);
  assert.equal(rerun.result.code, 0, rerun.result.stderr);
  assert.equal(rerun.json.summary.totalBytes, 24 * MiB);
  assert.ok(rerun.json.summary.newRawBytes < 24 * MiB, 'the rerun reused what the interrupted backup had indexed');
});

test('a second signal quits at once, exit 130, even while the operation has not reached a safe point', async () => {
  // An operation that never reaches a safe point: the real handlers (cli/repo-options.ts) armed, nothing listening to the signal.
  const script = `import { interruptSignal } from ${JSON.stringify(pathToFileURL(REPO_OPTIONS).href)};
    interruptSignal(); setInterval(() => {}, 1000); process.stdout.write('armed\\n');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await once(child.stdout, 'data');
  child.kill('SIGINT');
  while (!stderr.includes('stopping at the next safe point')) await sleep(5);
  assert.equal(child.exitCode, null, 'the first signal only asks the operation to stop');
  child.kill('SIGINT');
  assert.equal(await exited, 130);
  assert.match(stderr, /SIGINT: stopping at the next safe point \(SIGINT again quits at once\)\n.*SIGINT again: quitting at once/s);
});
