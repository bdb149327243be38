/**
 * `lifeboat forget` by policy, end to end through the CLI: --keep-* flags (restic's semantics, with
 * the reasons in --dry-run), and with no flags each asset's policy from lifeboat.yaml — `expired:
 * archive` copies what goes to the archive repository and checks it there before anything is
 * forgotten; a failed copy or check forgets nothing; assets the file does not name are left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { manualClock } from '../../src/base/clock.js';
import type { RetentionOutcome } from '../../src/control/retention-run.js';
import { backup } from '../../src/engine/backup.js';
import { copy } from '../../src/engine/copy.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { removeLocks } from '../../src/repo/lock.js';
import { saveObject, type Repository } from '../../src/repo/repository.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { flipByte, objectKeys } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

/** A snapshot of `asset` taken at `time`, holding one file with `content`. */
async function backupAt(repo: Repository, dir: string, asset: string, time: string, content = `${asset} at ${time}`): Promise<string> {
  const src = path.join(dir, 'src', asset);
  await fs.mkdir(src, { recursive: true });
  await fs.writeFile(path.join(src, 'weights.bin'), content);
  return (await backup(repo, { asset, paths: [src], clock: manualClock(time) })).snapshotId;
}

const times = async (repo: Repository, asset?: string) => (await listSnapshots(repo)).filter((s) => !asset || s.snapshot.asset === asset).map((s) => s.snapshot.time);

/** The CLI with no lifeboat.yaml in reach but the one given. */
const isolated = (dir: string) => ({ cwd: dir, env: { XDG_CONFIG_HOME: path.join(dir, 'no-config'), LIFEBOAT_CONFIG: undefined } });

test('forget --keep-* flags: --dry-run says why each kept snapshot stays and removes nothing; the real run removes what it said', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const url = repoUrl(path.join(dir, 'repo'));
  for (const time of ['2024-11-01T10:00:00.000Z', '2024-11-01T12:00:00.000Z', '2024-11-02T09:00:00.000Z', '2024-11-03T08:00:00.000Z']) await backupAt(repo, dir, 'm', time);
  await backupAt(repo, dir, 'n', '2024-10-01T00:00:00.000Z');

  const { result, json } = await runCliJson<RetentionOutcome>(['forget', '-r', url, '--keep-daily', '2', '--keep-within', '1d', '--dry-run'], isolated(dir));
  assert.equal(result.code, 0, result.stderr);
  assert.equal(json.dryRun, true);
  assert.equal(json.from, 'flags');
  const m = json.assets.find((a) => a.asset === 'm')!;
  assert.equal(m.policy, 'daily 2, within 1d');
  assert.deepEqual(m.kept.map((k) => [k.time, k.reasons]), [
    ['2024-11-03T08:00:00.000Z', ['within 1d', 'daily 2024-11-03']],
    ['2024-11-02T09:00:00.000Z', ['within 1d', 'daily 2024-11-02']],
  ]);
  assert.deepEqual(m.removed.map((r) => r.time), ['2024-11-01T12:00:00.000Z', '2024-11-01T10:00:00.000Z']);
  assert.equal(json.removed.length, 2);
  assert.equal((await times(repo)).length, 5, 'a dry run removes nothing');

  const text = await runCli(['forget', '-r', url, '--keep-daily', '2', '--asset', 'm'], isolated(dir));
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^m: keep daily 2; past it: delete$/m);
  assert.match(text.stdout, /keep\s+[0-9a-f]{12}  2024-11-03 08:00:00  daily 2024-11-03/);
  assert.match(text.stdout, /removed\s+[0-9a-f]{12}  2024-11-01 10:00:00/);
  assert.match(text.stdout, /^removed 2 snapshot\(s\), kept 2$/m);
  assert.deepEqual(await times(repo, 'm'), ['2024-11-02T09:00:00.000Z', '2024-11-03T08:00:00.000Z']);
  assert.deepEqual(await times(repo, 'n'), ['2024-10-01T00:00:00.000Z'], '--asset m leaves n alone');
});

test('forget refuses a policy that keeps nothing, a malformed count or duration, and no policy at all (exit 2)', async (t) => {
  const dir = await tempDir(t);
  await createRepo(path.join(dir, 'repo'));
  const url = repoUrl(path.join(dir, 'repo'));
  for (const [args, message] of [
    [['--keep-last', '0'], /keeps nothing/],
    [['--keep-daily', 'x'], /--keep-daily takes a whole number/],
    [['--keep-within', '30 days'], /--keep-within takes a duration/],
    [[], /no keep policy/],
    [['--keep-last', '1', '--tier', '4'], /--tier takes 1, 2 or 3/],
  ] as const) {
    const r = await runCli(['forget', '-r', url, ...args], isolated(dir));
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

interface Site {
  dir: string;
  repo: Repository;
  archive: Repository;
  config: string;
  ids: Record<string, string>;
}

/** A primary with a Tier 1 asset (expired: archive), a Tier 2 one (expired: delete) and one lifeboat.yaml does not name. */
async function site(t: Parameters<typeof tempDir>[0], archiveUrl?: string): Promise<Site> {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'primary'));
  const archive = await createRepo(path.join(dir, 'cold'));
  const ids: Record<string, string> = {};
  for (const day of [1, 2, 3]) ids[`m${day}`] = await backupAt(repo, dir, 'm', `2024-11-0${day}T10:00:00.000Z`);
  for (const day of [1, 2]) ids[`p${day}`] = await backupAt(repo, dir, 'p', `2024-11-0${day}T11:00:00.000Z`);
  for (const day of [1, 2]) ids[`s${day}`] = await backupAt(repo, dir, 'scratch', `2024-11-0${day}T12:00:00.000Z`);
  const config = path.join(dir, 'lifeboat.yaml');
  await fs.writeFile(
    config,
    `repositories:
  primary: { url: "${repoUrl(path.join(dir, 'primary'))}", role: primary }
  cold: { url: "${archiveUrl ?? repoUrl(path.join(dir, 'cold'))}", role: archive }
tiers:
  1: { keep: { last: 1 }, expired: archive }
  2: { keep: { last: 1 }, expired: delete }
assets:
  m: { kind: model, tier: 1, source: { path: src/m } }
  p: { kind: config, tier: 2, source: { path: src/p } }
`,
  );
  return { dir, repo, archive, config, ids };
}

test('forget by lifeboat.yaml: past-policy snapshots of an expired: archive asset are archived, checked there, then forgotten', async (t) => {
  const s = await site(t);
  const cli = (args: string[]) => runCliJson<RetentionOutcome>(['forget', '-c', s.config, ...args], isolated(s.dir));

  const dry = await cli(['--dry-run']);
  assert.equal(dry.result.code, 0, dry.result.stderr);
  assert.equal(dry.json.from, 'file');
  assert.deepEqual(dry.json.assets.map((a) => [a.asset, a.tier, a.expired, a.removed.map((r) => r.id)]), [
    ['m', 1, 'archive', [s.ids.m2, s.ids.m1]],
    ['p', 2, 'delete', [s.ids.p1]],
  ]);
  assert.deepEqual(dry.json.assets[0].kept.map((k) => [k.id, k.reasons]), [[s.ids.m3, ['last 1 of 1']]]);
  assert.deepEqual(dry.json.leftAlone, [{ asset: 'scratch', snapshots: 2 }]);
  assert.deepEqual(dry.json.archive, { name: 'cold' }, 'a dry run copies nothing');
  assert.deepEqual(await times(s.archive), []);
  assert.equal((await times(s.repo)).length, 7);

  const real = await cli([]);
  assert.equal(real.result.code, 0, real.result.stderr);
  const archived = await listSnapshots(s.archive);
  assert.deepEqual(archived.map((a) => [a.snapshot.asset, a.snapshot.time]), [['m', '2024-11-01T10:00:00.000Z'], ['m', '2024-11-02T10:00:00.000Z']]);
  assert.equal(real.json.archive?.copied, 2);
  assert.equal(real.json.archive?.check?.snapshots, 2);
  assert.ok((real.json.archive?.check?.blobs ?? 0) >= 2 && (real.json.archive?.check?.bytesRead ?? 0) > 0, 'the copies\' blobs were read back');
  assert.deepEqual(real.json.assets[0].removed.map((r) => r.archivedAs).sort(), archived.map((a) => a.id).sort());
  const left = (await listSnapshots(s.repo)).map((x) => x.id).sort();
  assert.deepEqual(left, [s.ids.m3, s.ids.p2, s.ids.s1, s.ids.s2].sort(), 'archived and expired: delete ones went; scratch was left alone');

  // The archive holds them whole: it checks with every byte read, and restores the old content.
  const checked = await runCli(['check', '--read-data', '-c', s.config, '-r', 'cold'], isolated(s.dir));
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  const target = path.join(s.dir, 'restored');
  const restored = await runCli(['restore', '-c', s.config, '-r', 'cold', `${archived[0].id}`, '--target', target], isolated(s.dir));
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(await fs.readFile(path.join(target, 'weights.bin'), 'utf8'), 'm at 2024-11-01T10:00:00.000Z');

  const again = await runCli(['forget', '-c', s.config], isolated(s.dir));
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^m \(tier 1\): keep last 1; past it: archive to cold$/m);
  assert.match(again.stdout, /^left alone, not in lifeboat\.yaml \(whose policy this is\): scratch \(2 snapshot\(s\)\)$/m);
  assert.match(again.stdout, /^removed 0 snapshot\(s\), kept 2$/m);
});

test('forget by lifeboat.yaml forgets nothing when the archive cannot be opened (and says so)', async (t) => {
  const s = await site(t, repoUrl(path.join('/nonexistent-lifeboat-archive', path.basename(await tempDir(t)))));
  const r = await runCli(['forget', '-c', s.config], isolated(s.dir));
  assert.equal(r.code, 10, r.stderr);
  assert.match(r.stderr, /archiving 2 snapshot\(s\) to "cold" failed \(opening it: .*\); nothing was forgotten/);
  assert.equal((await times(s.repo)).length, 7, 'not even the expired: delete snapshot went');
});

test('forget by lifeboat.yaml forgets nothing when the check of the archived copies fails (exit 13)', async (t) => {
  const s = await site(t);
  // The copies are there already (an earlier run died before forgetting), and their packs rotted since.
  await copy(s.repo, s.archive, { ids: [s.ids.m1, s.ids.m2] });
  for (const key of await objectKeys(s.archive.storage, 'data/')) await flipByte(s.archive.storage, key, 40);
  const r = await runCli(['forget', '-c', s.config], isolated(s.dir));
  assert.equal(r.code, 13, r.stderr);
  assert.match(r.stderr, /the check of the 2 snapshot\(s\) copied to archive "cold" failed: .*nothing was forgotten/);
  assert.equal((await times(s.repo)).length, 7);
});

test('forget by lifeboat.yaml: --asset must be an asset of the file; flags still work for any asset', async (t) => {
  const s = await site(t);
  const r = await runCli(['forget', '-c', s.config, '--asset', 'scratch'], isolated(s.dir));
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /asset "scratch" is not in .*lifeboat\.yaml \(m, p\).*give --keep-\* flags/);
  const flagged = await runCli(['forget', '-c', s.config, '--asset', 'scratch', '--keep-last', '1'], isolated(s.dir));
  assert.equal(flagged.code, 0, flagged.stderr);
  assert.deepEqual(await times(s.repo, 'scratch'), ['2024-11-02T12:00:00.000Z']);
});

test('a backup running when forget comes to remove: the archived copies stay, nothing is forgotten (exit 11), and the next run reuses them', async (t) => {
  const s = await site(t);
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => void holder.kill('SIGKILL'));
  const now = new Date().toISOString();
  await saveObject(s.repo, 'lock', Buffer.from(JSON.stringify({ kind: 'shared', operation: 'backup other', hostname: os.hostname(), pid: holder.pid, created: now, refreshed: now })));
  const r = await runCli(['forget', '-c', s.config], isolated(s.dir));
  assert.equal(r.code, 11, r.stderr);
  assert.match(r.stderr, /2 snapshot\(s\) were archived to "cold" and checked there, but forgetting them .* failed: .*locked by "backup other".*Run forget again/);
  assert.equal((await times(s.repo)).length, 7);
  assert.equal((await times(s.archive)).length, 2);

  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  assert.equal(await removeLocks(s.repo), 1, 'the holder\'s lock is stale now');
  const again = await runCliJson<RetentionOutcome>(['forget', '-c', s.config], isolated(s.dir));
  assert.equal(again.result.code, 0, again.result.stderr);
  assert.deepEqual([again.json.archive?.copied, again.json.archive?.present, again.json.archive?.check?.snapshots], [0, 2, 2], 'found there, not copied again, checked again');
  assert.equal((await times(s.repo)).length, 4);
});
