/**
 * What each kind of planned job does, for the scheduler: the engine operations with the DR plan's
 * policy filled in, each ending as a job record. Backups and replication write their own records
 * (backup-job.ts); the others are recorded by the scheduler from what they return.
 */
import { isoNow } from '../base/clock.js';
import { check } from '../engine/check.js';
import { prune } from '../engine/prune.js';
import { backupAsset, replicateAsset, type JobEnv } from './backup-job.js';
import { randomInt } from 'node:crypto';
import { drillCandidates, drillOutcome, pickDrill } from './drills.js';
import { listReports } from './reports.js';
import { applyRetention } from './retention-run.js';
import { runDrill, type DrContext } from './runbook-run.js';
import type { RunbookSet } from './runbooks.js';
import { finishedJob, type JobKind, type JobOutcome, type JobRecord } from './jobs.js';
import type { Executor } from './scheduler.js';
import { verifySubsetPercent, type PlannedJob } from './schedule.js';
import { verificationOutcome } from './verification.js';

/** The executors of every serve; drills are added where their module provides them. */
export function coreExecutors(env: JobEnv): Partial<Record<JobKind, Executor>> {
  return {
    backup: async (job, ctx) => {
      const asset = assetOf(env, job);
      const outcome = await backupAsset(env, asset, { signal: ctx.signal, onProgress: (p) => ctx.onProgress({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, files: p.files }) });
      return { record: outcome.record, saved: true };
    },
    replicate: (job, ctx) =>
      timed(env, job, async () => {
        const asset = assetOf(env, job);
        const replicated = await replicateAsset(env, asset, await env.access.primary(), ctx.signal);
        const failed = replicated.filter((r) => r.result === 'failed');
        return { result: failed.length ? 'failed' : 'ok', details: { replicated }, ...(failed.length ? { error: failed[0].error as JobRecord['error'] } : {}) };
      }),
    verify: (job, ctx) =>
      timed(env, job, async () => {
        const percent = verifySubsetPercent(env.plan.assets);
        const started = env.clock.now();
        const report = await check(await env.access.primary(), { readData: percent / 100, signal: ctx.signal });
        return verificationOutcome(report, percent, env.clock.now() - started);
      }),
    retention: (job, ctx) =>
      timed(env, job, async () => {
        const archive = env.plan.archive;
        const outcome = await applyRetention(await env.access.primary(), {
          source: { from: 'file', plan: env.plan },
          openArchive: archive ? async () => ({ repo: await env.access.open(archive.name), close: async () => {} }) : undefined,
          onWarning: env.log,
          clock: env.clock,
          signal: ctx.signal,
        });
        return { result: 'ok', details: { removed: outcome.removed.length, kept: outcome.kept.length, locked: outcome.locked.length, archived: outcome.archive?.copied ?? 0 } };
      }),
    prune: (job, ctx) =>
      timed(env, job, async () => {
        const result = await prune(await env.access.primary(), { clock: env.clock, signal: ctx.signal });
        return { result: 'ok', details: { packsDeleted: result.packsDeleted, bytesFreed: result.bytesFreed, lockedPacks: result.lockedPacks.length } };
      }),
  };
}

/** Drills on each tier's drill_every: a random asset (weighted toward the least recently drilled) through its runbook in drill mode. */
export function drillExecutor(env: JobEnv, runbooks: RunbookSet, dirs: { reportDir: string; stateDir: string }): Executor {
  const ctx: DrContext = {
    plan: env.plan,
    runbooks,
    openRepository: (named) => (named.name === env.plan.primary?.name ? env.access.primary() : env.access.open(named.name)),
    clock: env.clock,
    http: env.http,
    reportDir: dirs.reportDir,
    stateDir: dirs.stateDir,
  };
  return (job, run) =>
    timed(env, job, async () => {
      const candidates = drillCandidates(env.plan.assets, { tier: job.tier }).filter((a) => a.policy.drillEveryMs > 0);
      const seed = randomInt(2 ** 31);
      const pick = pickDrill(candidates, await listReports(await env.access.primary()), seed, env.clock.now());
      if (!pick) return { result: 'ok', details: { tier: job.tier, asset: null, note: 'no asset of the tier to drill' } };
      return drillOutcome(await runDrill(ctx, pick.asset, { seed, signal: run.signal }));
    });
}

/** Runs `body` and makes its outcome a record (saved by the scheduler). A throw is left to the scheduler, which records it as failed. */
export async function timed(env: JobEnv, job: PlannedJob, body: () => Promise<JobOutcome>): Promise<{ record: JobRecord; saved: boolean }> {
  const startedAt = isoNow(env.clock);
  const outcome = await body();
  return { record: finishedJob(job.kind, outcome, { host: env.host, asset: job.asset, startedAt, finishedAt: isoNow(env.clock) }), saved: false };
}

function assetOf(env: JobEnv, job: PlannedJob) {
  const asset = env.plan.assets.find((a) => a.name === job.asset);
  if (!asset) throw new Error(`job ${job.key} names asset ${job.asset}, which the plan no longer has`);
  return asset;
}
