/**
 * The arithmetic of promises at its boundaries: RPO states (ok until 75% of the RPO, at risk from
 * there, violated from the RPO on, never without a complete snapshot, git for Tier 3) and when a
 * backup falls due (RPO minus its usual duration minus a small stable jitter; at once when there
 * is none; after a failure, a doubling backoff).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../../src/control/config-file.js';
import type { JobRecord } from '../../src/control/jobs.js';
import { planOf } from '../../src/control/plan.js';
import { rpoStatus } from '../../src/control/rpo.js';
import { planJobs } from '../../src/control/schedule.js';
import type { StoredSnapshot } from '../../src/engine/snapshots.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const PLAN = planOf(
  parseConfigText(
    `
repositories:
  primary: { url: /srv/backup, role: primary }
assets:
  m: { kind: model, tier: 1, rpo: 4h, source: { path: /srv/m } }
  g: { kind: code, tier: 3, git_remote: https://git/x.git }
`,
    '/etc/lifeboat/lifeboat.yaml',
  ),
);
const [M, G] = PLAN.assets;

const snap = (at: number, incomplete = false): StoredSnapshot =>
  ({ id: `s${at}`, snapshot: { asset: 'm', time: new Date(at).toISOString(), incomplete: incomplete ? [{ path: '/x', reason: 'EACCES' }] : [], summary: { totalBytes: 1 } } }) as unknown as StoredSnapshot;

const job = (startedAt: number, minutes: number, result: JobRecord['result'] = 'ok'): JobRecord => ({
  version: 1,
  job: `j${startedAt}`,
  kind: 'backup',
  asset: 'm',
  host: 'h',
  startedAt: new Date(startedAt).toISOString(),
  finishedAt: new Date(startedAt + minutes * 60_000).toISOString(),
  result,
  details: {},
});

test('RPO states at their boundaries', () => {
  const s = [snap(T0)];
  assert.equal(rpoStatus(M, [], T0).state, 'never');
  assert.equal(rpoStatus(M, s, T0).state, 'ok');
  assert.equal(rpoStatus(M, s, T0 + 3 * HOUR - 1).state, 'ok');
  assert.equal(rpoStatus(M, s, T0 + 3 * HOUR).state, 'at_risk', 'at exactly 75% of the RPO');
  assert.equal(rpoStatus(M, s, T0 + 4 * HOUR - 1).state, 'at_risk');
  assert.equal(rpoStatus(M, s, T0 + 4 * HOUR).state, 'violated', 'at exactly the RPO');
  assert.equal(rpoStatus(G, s, T0).state, 'git');
  const ok = rpoStatus(M, s, T0 + HOUR);
  assert.equal(ok.ageMs, HOUR);
  assert.equal(ok.atRiskAt, T0 + 3 * HOUR);
  assert.equal(ok.violatedAt, T0 + 4 * HOUR);
});

test('an incomplete snapshot is not a good backup: the older complete one counts, or none', () => {
  assert.equal(rpoStatus(M, [snap(T0, true)], T0 + 1).state, 'never');
  const s = rpoStatus(M, [snap(T0), snap(T0 + 3 * HOUR, true)], T0 + 3 * HOUR + 1);
  assert.equal(s.lastGood?.id, `s${T0}`);
  assert.equal(s.state, 'at_risk');
});

const periods = { retentionEveryMs: 0, pruneEveryMs: 0 };
const backupDue = (snapshots: StoredSnapshot[], jobs: JobRecord[]) =>
  planJobs({ assets: [M], allAssets: [M], snapshots, jobs, periods }).find((j) => j.key === 'backup:m')!;

test('a backup is due at once when there is none, and at RPO minus its slowest recent duration minus a jitter of at most 5%', () => {
  assert.equal(backupDue([], []).dueAt, 0);
  const jobs = [job(T0 - 20 * 60_000, 10), job(T0 - 40 * 60_000, 12), job(T0 - 60 * 60_000, 7)];
  const due = backupDue([snap(T0)], jobs).dueAt;
  const latest = T0 + 4 * HOUR - 12 * 60_000;
  assert.ok(due <= latest, 'it leaves room for the slowest recent backup');
  assert.ok(due >= latest - 0.05 * 4 * HOUR, 'and starts at most 5% of the RPO earlier');
  assert.equal(backupDue([snap(T0)], jobs).dueAt, due, 'the jitter is stable');
});

test('after failed backups the next try waits 1, 2, 4 ... minutes, at most 30', () => {
  const last = snap(T0);
  const failures = (n: number) => Array.from({ length: n }, (_, i) => job(T0 + 5 * HOUR + i * 60 * 60_000, 1, 'failed'));
  for (const [n, wait] of [[1, 1], [2, 2], [3, 4], [6, 30], [9, 30]] as const) {
    const jobs = failures(n);
    const lastFinish = Date.parse(jobs.at(-1)!.finishedAt);
    assert.equal(backupDue([last], jobs).dueAt, lastFinish + wait * 60_000, `${n} failure(s)`);
  }
});

test('a replication is due only when the last backup could not reach a replica', () => {
  const plan = planOf(parseConfigText(`
repositories:
  primary: { url: /srv/backup, role: primary }
  dr: { url: /srv/dr, role: replica }
assets:
  m: { kind: model, tier: 1, source: { path: /srv/m } }
`, '/x/lifeboat.yaml'));
  const asset = plan.assets[0];
  const withReplication = (result: string) => ({ ...job(T0, 1), details: { replicated: [{ repository: 'dr', result }] } });
  const planned = (jobs: JobRecord[]) => planJobs({ assets: [asset], allAssets: [asset], snapshots: [snap(T0)], jobs, periods }).find((j) => j.kind === 'replicate');
  assert.equal(planned([withReplication('ok')]), undefined);
  const due = planned([withReplication('failed')]);
  assert.equal(due?.key, 'replicate:m');
  assert.equal(due?.dueAt, T0 + 60_000 + 60_000);
});
