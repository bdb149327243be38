/**
 * The exit-code table of docs/cli.md (src/base/error-codes.ts), provoked code by code with real
 * commands: 0, 1, 2, 3, 10, 11, 12, 13 and 130 (4 belongs to `status`). With --json, a command
 * that printed no result prints `{ "error": { "code", "message" } }` on stdout instead; one that
 * printed its result and then failed (3, 13) prints only the result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode } from '../../src/base/error-codes.js';
import { backup } from '../../src/engine/backup.js';
import type { LockInfo } from '../../src/repo/lock.js';
import { saveObject, type Repository } from '../../src/repo/repository.js';
import { finished, runCli, spawnCli, type CliOptions, type CliResult } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { flipByte, objectKeys, TEST_BACKEND } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const NOBODY = 65534;
const MiB = 1024 * 1024;

interface ErrorDocument {
  error: { code: string; message: string };
}

/** Runs the command with --json; asserts the exit code and returns stdout parsed. */
async function exitsWith(code: number, args: string[], options: CliOptions = {}): Promise<{ result: CliResult; json: unknown }> {
  const result = await runCli([...args, '--json'], options);
  assert.equal(result.code, code, `lifeboat ${args[0]}: ${result.stderr}`);
  return { result, json: JSON.parse(result.stdout) as unknown };
}

/** The error document, with the code and a message that says something. */
function assertErrorDocument(json: unknown, code: string, message: RegExp): void {
  const doc = json as ErrorDocument;
  assert.deepEqual(Object.keys(doc), ['error']);
  assert.deepEqual(Object.keys(doc.error).sort(), ['code', 'message']);
  assert.equal(doc.error.code, code);
  assert.match(doc.error.message, message);
}

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await fs.writeFile(path.join(src, 'weights.bin'), 'not really weights\n');
  const repo = await createRepo(path.join(dir, 'repo'));
  const { snapshotId } = await backup(repo, { asset: 'model', paths: [src] });
  return { dir, src, repo, location: repoUrl(path.join(dir, 'repo')), snapshotId };
}

test('0 success; 1 error; 2 usage; 10 no repository; 12 wrong password: each with its JSON', async (t) => {
  const { dir, location, snapshotId } = await setup(t);
  const empty = path.join(dir, 'nothing-here');
  await fs.mkdir(empty);
  // Independent commands: run at once.
  const [ok, missing, usage, none, wrong] = await Promise.all([
    exitsWith(ExitCode.ok, ['snapshots', '-r', location]),
    exitsWith(ExitCode.error, ['restore', '-r', location, 'abcdef12', '--target', path.join(dir, 'out')]),
    exitsWith(ExitCode.usage, ['backup', '-r', location, path.join(dir, 'src')]),
    exitsWith(ExitCode.noRepository, ['snapshots', '-r', repoUrl(empty)]),
    exitsWith(ExitCode.wrongPassword, ['snapshots', '-r', location], { env: { LIFEBOAT_PASSWORD: 'not the password' } }),
  ]);
  assert.deepEqual((ok.json as Array<{ id: string }>).map((s) => s.id), [snapshotId], '0: the result, no error');
  assertErrorDocument(missing.json, 'SNAPSHOT_NOT_FOUND', /no snapshot abcdef12/);
  assertErrorDocument(usage.json, 'USAGE', /--asset/);
  assertErrorDocument(none.json, 'NOT_A_REPOSITORY', /is not a Lifeboat repository/);
  assertErrorDocument(wrong.json, 'WRONG_PASSWORD', /wrong password/);
});

test('11 locked: a live exclusive lock stops a backup', async (t) => {
  const { repo, src, location } = await setup(t);
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => void holder.kill('SIGKILL'));
  await plantLock(repo, holder.pid!);
  const locked = await exitsWith(ExitCode.locked, ['backup', '-r', location, '--asset', 'model', src]);
  assertErrorDocument(locked.json, 'LOCKED', new RegExp(`locked exclusively by "prune" \\(pid ${holder.pid}`));
});

test('13 damage found: check --read-data prints its report, and exits 13', async (t) => {
  const { repo, location } = await setup(t);
  const [pack] = await objectKeys(repo.storage, 'data/');
  await flipByte(repo.storage, pack, 20);
  const damaged = await exitsWith(ExitCode.damage, ['check', '-r', location, '--read-data']);
  const report = damaged.json as { ok: boolean; damagedBlobs: unknown[] };
  assert.equal(report.ok, false, 'the result is on stdout, and only the result');
  assert.ok(report.damagedBlobs.length > 0);
  assert.match(damaged.result.stderr, /check found errors/);
});

test('3 incomplete: backup writes a snapshot without the file it cannot read, prints it, and exits 3', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to run the CLI as another user');
  const { dir, src, location } = await setup(t);
  await fs.chmod(dir, 0o755);
  await fs.writeFile(path.join(src, 'secret.key'), 'only root\n');
  await fs.chmod(path.join(src, 'secret.key'), 0o000);
  // Root reads any file: the backup runs as nobody, owning the repository (local objects are 0600).
  if (TEST_BACKEND === 'local') assert.equal(spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path.join(dir, 'repo')]).status, 0);
  const incomplete = await exitsWith(ExitCode.incomplete, ['backup', '-r', location, '--asset', 'model', src], { uid: NOBODY, gid: NOBODY, env: { HOME: dir } });
  const snapshot = incomplete.json as { id: string; incomplete: Array<{ path: string }> };
  assert.match(snapshot.id, /^[0-9a-f]{64}$/, 'the snapshot is the result on stdout');
  assert.deepEqual(snapshot.incomplete.map((i) => i.path), [path.join(src, 'secret.key')]);
});

test('130 interrupted: SIGTERM mid-backup, with the error document on stdout', async (t) => {
  const dir = await tempDir(t);
  const big = path.join(dir, 'big');
  await fs.mkdir(big);
  for (let i = 0; i < 3; i++) await writeRandomFile(path.join(big, `shard-${i}.bin`), 8 * MiB, `shard-${i}`);
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 1 * MiB });
  const child = spawnCli(['backup', '-r', repoUrl(path.join(dir, 'repo')), '--asset', 'big', '--json', big]);
  let exited = false;
  const done = finished(child).finally(() => (exited = true));
  while (!exited && (await objectKeys(repo.storage, 'data/')).length < 2) await sleep(10);
  assert.ok(!exited, 'still running when the signal came');
  child.kill('SIGTERM');
  const result = await done;
  assert.equal(result.code, ExitCode.interrupted, result.stderr);
  assertErrorDocument(JSON.parse(result.stdout), 'ABORTED', /interrupted by SIGTERM, stopped at a safe point/);
});

/** An exclusive lock as a live prune on this host would hold it. */
async function plantLock(repo: Repository, pid: number): Promise<void> {
  const now = new Date().toISOString();
  const info: LockInfo = { kind: 'exclusive', operation: 'prune', hostname: os.hostname(), pid, created: now, refreshed: now };
  await saveObject(repo, 'lock', Buffer.from(JSON.stringify(info)));
}
