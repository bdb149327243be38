/**
 * The scheduler as a specification, days of simulated time in about a second: it holds every
 * RPO, never runs a job twice at once, stays within its concurrency, retries a failing backup
 * with a backoff instead of in a loop, verifies and applies retention on their periods, and on
 * stop lets running jobs finish. Backups here are simulated (a snapshot appears after a few
 * minutes of clock time); the real thing is tested end to end in test/cli/serve*.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualClock, type ManualClock } from '../../src/base/clock.js';
import { LifeboatError } from '../../src/base/errors.js';
import type { JobEnv } from '../../src/control/backup-job.js';
import type { CatalogView } from '../../src/control/catalog.js';
import { parseConfigText } from '../../src/control/config-file.js';
import type { JobRecord } from '../../src/control/jobs.js';
import type { Lease, LeaseAttempt } from '../../src/control/lease.js';
import { planOf, type DrPlan } from '../../src/control/plan.js';
import { startScheduler, type Executor, type SchedulerEvent } from '../../src/control/scheduler.js';
import type { StoredSnapshot } from '../../src/engine/snapshots.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const START = Date.parse('2026-03-01T00:00:00Z');

const PLAN = planOf(
  parseConfigText(
    `
repositories:
  primary: { url: /srv/repo, role: primary }
  dr: { url: /srv/dr, role: replica }
  cold: { url: /srv/cold, role: archive }
assets:
  llama-ft:     { kind: model, tier: 1, rpo: 6h, source: { path: /srv/models/llama-ft } }
  label-studio: { kind: annotations, tier: 1, source: { path: /srv/ls } }
  prompts:      { kind: config, tier: 2, rpo: 1d, source: { path: /srv/prompts } }
  flaky:        { kind: dataset, tier: 2, rpo: 12h, source: { path: /srv/flaky } }
  manifests:    { kind: code, tier: 3, git_remote: https://git.internal/deploy.git }
`,
    '/etc/lifeboat/lifeboat.yaml',
  ),
);

interface Sim {
  clock: ManualClock;
  view: CatalogView;
  events: SchedulerEvent[];
  starts: Array<{ key: string; at: number }>;
  concurrent: { now: number; max: number };
}

/** In-memory repository state and executors that take `minutes` of clock time, writing what a real job writes. */
function simulate(plan: DrPlan, failFirst: Record<string, number> = {}): { sim: Sim; executors: Record<string, Executor> } {
  const clock = manualClock(START);
  const sim: Sim = { clock, view: { snapshots: [], jobs: [] }, events: [], starts: [], concurrent: { now: 0, max: 0 } };
  let n = 0;
  const record = (kind: JobRecord['kind'], asset: string | undefined, startedAt: number, result: JobRecord['result'], details: Record<string, unknown> = {}): JobRecord => ({
    version: 1,
    job: `job-${++n}`,
    kind,
    ...(asset ? { asset } : {}),
    host: 'gpu-01',
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(clock.now()).toISOString(),
    result,
    details,
  });
  const timed = (kind: JobRecord['kind'], minutes: number, body: (startedAt: number, asset?: string) => JobRecord): Executor => async (job, ctx) => {
    sim.starts.push({ key: job.key, at: clock.now() });
    sim.concurrent.now++;
    sim.concurrent.max = Math.max(sim.concurrent.max, sim.concurrent.now);
    const startedAt = clock.now();
    try {
      await clock.sleep(minutes * MINUTE, ctx.signal);
      const r = body(startedAt, job.asset);
      sim.view.jobs.push({ id: r.job, record: r });
      return { record: r, saved: true };
    } finally {
      sim.concurrent.now--;
    }
  };
  const executors: Record<string, Executor> = {
    backup: timed('backup', 3, (startedAt, asset) => {
      if ((failFirst[asset!] ?? 0) > 0) {
        failFirst[asset!]--;
        return { ...record('backup', asset, startedAt, 'failed'), error: { code: 'SOURCE', message: 'the source is unreachable' } };
      }
      const time = new Date(clock.now()).toISOString();
      const snap = { id: `snap-${++n}`, snapshot: { asset, time, incomplete: [], summary: { totalBytes: 1 } } } as unknown as StoredSnapshot;
      sim.view.snapshots.push(snap);
      return record('backup', asset, startedAt, 'ok', { snapshot: snap.id, replicated: [{ repository: 'dr', result: 'ok' }] });
    }),
    verify: timed('verify', 10, (s) => record('verify', undefined, s, 'ok', { packsChecked: 3 })),
    retention: timed('retention', 1, (s) => record('retention', undefined, s, 'ok')),
    prune: timed('prune', 5, (s) => record('prune', undefined, s, 'ok')),
  };
  return { sim, executors };
}

const grantAll = async (): Promise<LeaseAttempt> => ({ lease: { info: {} as Lease['info'], signal: new AbortController().signal, release: async () => {} } });

function run(plan: DrPlan, sim: Sim, executors: Record<string, Executor>, maxJobs = 2, periods = { retentionEveryMs: 24 * HOUR, pruneEveryMs: 7 * 24 * HOUR }, lease: { ttlMs: number; acquire: (name: string) => Promise<LeaseAttempt> } = { ttlMs: MINUTE, acquire: grantAll }) {
  const env = { plan, clock: sim.clock, host: 'gpu-01', log: () => {} } as unknown as JobEnv;
  return startScheduler({
    env,
    view: async () => ({ snapshots: [...sim.view.snapshots], jobs: [...sim.view.jobs] }),
    executors,
    ownsAsset: () => true,
    maxJobs,
    periods,
    leaseTtlMs: lease.ttlMs,
    pollMs: 5 * MINUTE,
    onEvent: (e) => sim.events.push(e),
    acquireLease: lease.acquire,
  });
}

/** Stops the scheduler, moving the clock on until its running jobs have ended. */
async function stop(scheduler: ReturnType<typeof run>, sim: Sim, mode: 'finish' | 'interrupt'): Promise<void> {
  let stopped = false;
  const done = scheduler.stop(mode).then(() => (stopped = true));
  while (!stopped) await sim.clock.advance(MINUTE);
  await done;
}

async function advance(sim: Sim, ms: number, step = MINUTE): Promise<void> {
  for (let t = 0; t < ms; t += step) await sim.clock.advance(step);
}

test('three simulated days: every RPO held, no job twice at once, at most maxJobs at a time, verification daily', async () => {
  const wall = performance.now();
  const { sim, executors } = simulate(PLAN);
  const scheduler = run(PLAN, sim, executors);
  await advance(sim, 3 * 24 * HOUR);
  await stop(scheduler, sim, 'finish');

  for (const asset of PLAN.assets.filter((a) => a.tier !== 3)) {
    const times = sim.view.snapshots.filter((s) => s.snapshot.asset === asset.name).map((s) => Date.parse(s.snapshot.time));
    const expected = Math.floor((3 * 24 * HOUR) / asset.policy.rpoMs);
    assert.ok(times.length >= expected, `${asset.name}: backed up at least every RPO (${times.length} backups, ${expected} expected)`);
    assert.ok(times[0] - START <= 15 * MINUTE, `${asset.name}: first backup soon after start`);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(Math.max(...gaps) <= asset.policy.rpoMs, `${asset.name}: no gap longer than its RPO (${Math.max(...gaps) / MINUTE} min > ${asset.policy.rpoMs / MINUTE})`);
    // Held, not overdone: no backup much earlier than needed.
    assert.ok(Math.min(...gaps) >= asset.policy.rpoMs * 0.8, `${asset.name}: backups are paced by the RPO, not more often`);
  }
  assert.equal(sim.view.snapshots.filter((s) => s.snapshot.asset === 'manifests').length, 0, 'Tier 3 is never backed up');
  const hourly = sim.view.snapshots.filter((s) => s.snapshot.asset === 'label-studio').length;
  assert.ok(hourly >= 70, `annotations: hourly (${hourly} in 3 days)`);

  // One job per key at a time: a key's next start comes after its previous finish.
  const finished = sim.events.filter((e): e is Extract<SchedulerEvent, { type: 'finished' }> => e.type === 'finished');
  const byKey = new Map<string, Array<[number, number]>>();
  for (const e of finished) byKey.set(e.job.key, [...(byKey.get(e.job.key) ?? []), [Date.parse(e.record.startedAt), Date.parse(e.record.finishedAt)]]);
  for (const [key, spans] of byKey) for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], `${key} started again before it finished`);
  assert.ok(sim.concurrent.max <= 2, `at most 2 jobs at once (saw ${sim.concurrent.max})`);

  const verifies = sim.view.jobs.filter((j) => j.record.kind === 'verify').length;
  assert.ok(verifies >= 3 && verifies <= 4, `verification once a day (${verifies} in 3 days)`);
  const retention = sim.view.jobs.filter((j) => j.record.kind === 'retention').length;
  assert.ok(retention >= 3 && retention <= 4, `retention once a day (${retention})`);
  assert.ok(performance.now() - wall < 10_000, 'days of schedule run in seconds');
});

test('a failing backup is retried with a doubling backoff, not in a loop, and then runs on its RPO again', async () => {
  const plan = { ...PLAN, assets: PLAN.assets.filter((a) => a.name === 'flaky') };
  const { sim, executors } = simulate(plan, { flaky: 4 });
  const scheduler = run(plan, sim, executors, 4, { retentionEveryMs: 0, pruneEveryMs: 0 }); // room for verification beside it, no exclusive job in the way
  await advance(sim, 2 * HOUR);
  await stop(scheduler, sim, 'finish');
  const attempts = sim.starts.filter((s) => s.key === 'backup:flaky').map((s) => s.at);
  // Each attempt takes 3 minutes; the waits after each failure are 1, 2, 4, 8 minutes.
  const waits = attempts.slice(1, 5).map((t, i) => Math.round((t - attempts[i]) / MINUTE) - 3);
  assert.deepEqual(waits, [1, 2, 4, 8]);
  assert.equal(sim.view.snapshots.length, 1, 'the fifth attempt succeeds, and no other backup runs within the 12h RPO');
});

test('stop("finish") lets a running backup end and record; stop("interrupt") aborts it at its next safe point', async () => {
  const plan = { ...PLAN, assets: PLAN.assets.filter((a) => a.name === 'prompts') };
  {
    const { sim, executors } = simulate(plan);
    const scheduler = run(plan, sim, executors);
    await sim.clock.advance(MINUTE);
    assert.deepEqual(scheduler.running().filter((j) => j.kind === 'backup').map((j) => j.key), ['backup:prompts'], 'the first backup runs');
    await stop(scheduler, sim, 'finish');
    assert.equal(sim.view.snapshots.length, 1, 'it finished and wrote its snapshot');
  }
  {
    const { sim, executors } = simulate(plan);
    const scheduler = run(plan, sim, executors);
    await sim.clock.advance(MINUTE);
    await stop(scheduler, sim, 'interrupt');
    assert.equal(sim.view.snapshots.length, 0, 'an interrupted backup writes no snapshot');
    const ended = sim.events.find((e) => e.type === 'finished') as Extract<SchedulerEvent, { type: 'finished' }>;
    assert.equal(ended.record.result, 'interrupted');
  }
});

test('backupNow starts a backup at once, even when none is due, and never a second one beside it', async () => {
  const plan = { ...PLAN, assets: PLAN.assets.filter((a) => a.name === 'prompts') };
  const { sim, executors } = simulate(plan);
  const scheduler = run(plan, sim, executors);
  await advance(sim, 10 * MINUTE);
  assert.equal(sim.view.snapshots.length, 1);
  assert.equal(scheduler.backupNow('prompts'), true);
  assert.equal(scheduler.backupNow('manifests'), false, 'Tier 3 has nothing to back up');
  assert.equal(scheduler.backupNow('nope'), false);
  await sim.clock.advance(MINUTE);
  assert.equal(scheduler.backupNow('prompts'), true);
  await advance(sim, 10 * MINUTE);
  await stop(scheduler, sim, 'finish');
  assert.equal(sim.view.snapshots.length, 2, 'one more backup, not two: the second request met the running one');
});

test("a repository job whose lease another host holds starts here as soon as that lease can be taken, not a period later", async () => {
  const plan = { ...PLAN, assets: PLAN.assets.filter((a) => a.name === 'prompts') };
  const { sim, executors } = simulate(plan);
  // The other host's lease (of a 30-minute period) runs out 20 minutes in: it died at the start.
  const freeAt = START + 20 * MINUTE;
  const asked: number[] = [];
  const acquire = async (name: string): Promise<LeaseAttempt> => {
    if (name !== 'job-verify') return grantAll();
    asked.push(sim.clock.now());
    return sim.clock.now() < freeAt ? { freeAt } : grantAll();
  };
  const scheduler = run(plan, sim, executors, 2, { retentionEveryMs: 0, pruneEveryMs: 0 }, { ttlMs: 30 * MINUTE, acquire });
  await advance(sim, 60 * MINUTE);
  await stop(scheduler, sim, 'finish');
  const verifyStarts = sim.starts.filter((s) => s.key === 'verify').map((s) => s.at - START);
  assert.deepEqual(verifyStarts.slice(0, 1), [20 * MINUTE], 'started when the lease ran out');
  assert.deepEqual(asked.filter((t) => t < freeAt).length, 1, 'and not asked again while it was held');
});

test('an executor that throws is recorded as a failed job, and the scheduler goes on', async () => {
  const plan = { ...PLAN, assets: PLAN.assets.filter((a) => a.name === 'prompts') };
  const { sim, executors } = simulate(plan);
  const recorded: JobRecord[] = [];
  const env = {
    plan,
    clock: sim.clock,
    host: 'gpu-01',
    log: () => {},
    access: { primary: async () => ({}) },
  } as unknown as JobEnv;
  const scheduler = startScheduler({
    env,
    view: async () => ({ snapshots: [...sim.view.snapshots], jobs: [...sim.view.jobs, ...recorded.map((r) => ({ id: r.job, record: r }))] }),
    executors: {
      ...executors,
      backup: async () => {
        throw new LifeboatError('SOURCE', 'pg_dump exited with status 1');
      },
    },
    ownsAsset: () => true,
    maxJobs: 1,
    periods: { retentionEveryMs: 0, pruneEveryMs: 0 },
    leaseTtlMs: MINUTE,
    pollMs: 5 * MINUTE,
    acquireLease: grantAll,
    onEvent: (e) => {
      if (e.type === 'finished') recorded.push(e.record);
    },
  });
  await advance(sim, 10 * MINUTE);
  await stop(scheduler, sim, 'finish');
  assert.ok(recorded.length >= 2, 'it tried again after the failure');
  assert.deepEqual(recorded[0].error, { code: 'SOURCE', message: 'pg_dump exited with status 1' });
  assert.equal(recorded[0].result, 'failed');
});
