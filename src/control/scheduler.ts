/**
 * The scheduler of `lifeboat serve`: a thin loop around the planner. Each round it reads what the
 * repository says (snapshots, job records), asks `dueJobs` what is due, and starts it — one job
 * per key at a time, at most `maxJobs` at once, repository-wide jobs and assets any host could
 * back up under a lease so that exactly one host runs them. It sleeps until the next job falls due
 * (or a job ends, or someone asks for a backup now) on the injected clock, so a test runs days of
 * it in a second. Jobs end as records, never as unhandled rejections.
 *
 * Restarts are safe because the state is the repository's: a job that was cut off wrote no
 * record and no snapshot, so the planner sees it as due again and runs it once more; a job that
 * finished is on record and is not run again.
 */
import { isoNow } from '../base/clock.js';
import { codeOf, messageOf } from '../base/error-codes.js';
import { isAbort } from '../base/errors.js';
import type { JobEnv } from './backup-job.js';
import { recordJob } from './backup-job.js';
import type { CatalogView } from './catalog.js';
import { newJobId, type JobKind, type JobRecord } from './jobs.js';
import { tryAcquireLease, type Lease, type LeaseAttempt } from './lease.js';
import type { Asset } from './plan.js';
import { dueJobs, planJobs, type PlannedJob, type RepositoryPeriods } from './schedule.js';

export interface JobProgress {
  bytesDone: number;
  bytesTotal: number;
  files?: number;
}

export interface RunContext {
  signal: AbortSignal;
  onProgress(p: JobProgress): void;
}

/** Runs one planned job and returns its record (already saved, or to be saved by the scheduler when `saved` is false). */
export type Executor = (job: PlannedJob, ctx: RunContext) => Promise<{ record: JobRecord; saved: boolean }>;

export interface RunningJob {
  id: string;
  key: string;
  kind: JobKind;
  asset?: string;
  host: string;
  startedAt: string;
  reason: string;
  progress?: JobProgress;
}

export type SchedulerEvent =
  | { type: 'started'; job: RunningJob }
  | { type: 'progress'; job: RunningJob }
  | { type: 'finished'; job: RunningJob; record: JobRecord }
  | { type: 'skipped'; key: string; reason: string }
  | { type: 'round'; view: CatalogView; now: number };

export interface SchedulerOptions {
  env: JobEnv;
  /** The primary's snapshots and job records, brought up to date (the catalog). */
  view(): Promise<CatalogView>;
  executors: Partial<Record<JobKind, Executor>>;
  /** Whether this host backs up `asset`: its host: key, else whether it has the source. */
  ownsAsset(asset: Asset): boolean;
  maxJobs: number;
  periods: RepositoryPeriods;
  leaseTtlMs: number;
  /** The longest sleep between two rounds (a new snapshot by another host is seen within it). */
  pollMs: number;
  onEvent?(event: SchedulerEvent): void;
  /** How a lease is taken; default: in the primary repository (lease.ts). */
  acquireLease?(name: string): Promise<LeaseAttempt>;
}

export interface Scheduler {
  running(): RunningJob[];
  /** Starts a backup of `asset` now (unless one runs); false when the asset is unknown, Tier 3 or not this host's. */
  backupNow(asset: string): boolean;
  /** Another round now (after a config reload, a job elsewhere). */
  wake(): void;
  /** Stops taking jobs; `interrupt` also aborts the running ones at their next safe point. Resolves when all have ended. */
  stop(mode: 'finish' | 'interrupt'): Promise<void>;
}

/** Jobs that take the repository's exclusive lock (forget, prune). */
const EXCLUSIVE = new Set<JobKind>(['prune', 'retention']);
/** How long an exclusive job waits for a quiet moment before it holds new jobs back. */
const EXCLUSIVE_WAIT_MS = 3_600_000;

/** Repository-wide jobs, and backups of assets with no host: key, run under a lease of this name. */
function leaseName(job: PlannedJob, asset: Asset | undefined): string | undefined {
  if (job.asset === undefined) return `job-${job.key.replace(/[^A-Za-z0-9._-]/g, '-')}`;
  return asset && asset.host === undefined ? `asset-${asset.name}` : undefined;
}

export function startScheduler(options: SchedulerOptions): Scheduler {
  const { env } = options;
  const running = new Map<string, { job: RunningJob; controller: AbortController; done: Promise<void> }>();
  const forced = new Map<string, PlannedJob>();
  /** Keys another host holds the lease of, and when it can be taken (not asked again before). */
  const heldElsewhere = new Map<string, number>();
  /** When this process first saw an exclusive job due (its waiting for a quiet moment is measured from there). */
  const dueSince = new Map<string, number>();
  const stopping = new AbortController();
  const interrupt = new AbortController();
  // A wake-up that comes while a round runs is kept, so the loop does not sleep past it.
  let pendingWake = false;
  let resolveWake: (() => void) | undefined;
  const wakeUp = () => {
    pendingWake = true;
    resolveWake?.();
  };
  const emit = (e: SchedulerEvent) => {
    try {
      options.onEvent?.(e);
    } catch (err) {
      env.log(`scheduler event handler failed: ${messageOf(err)}`);
    }
  };

  const assetOf = (name: string | undefined) => env.plan.assets.find((a) => a.name === name);
  const acquireLease =
    options.acquireLease ?? (async (name: string) => tryAcquireLease(await env.access.primary(), name, { clock: env.clock, host: env.host, ttlMs: options.leaseTtlMs, onWarning: env.log }));

  function start(job: PlannedJob): void {
    const asset = assetOf(job.asset);
    const executor = options.executors[job.kind];
    if (!executor) return;
    const controller = new AbortController();
    const view: RunningJob = { id: newJobId(), key: job.key, kind: job.kind, asset: job.asset, host: env.host, startedAt: isoNow(env.clock), reason: job.reason };
    const done = (async () => {
      const name = leaseName(job, asset);
      let lease: Lease | undefined;
      try {
        if (name) {
          const attempt = await acquireLease(name);
          lease = attempt.lease;
          if (!attempt.lease) {
            // Asked again once it can be taken: a dead holder's jobs pass on as soon as its lease runs out.
            heldElsewhere.set(job.key, attempt.freeAt);
            emit({ type: 'skipped', key: job.key, reason: 'another host holds its lease' });
            return;
          }
        }
        emit({ type: 'started', job: view });
        const signal = AbortSignal.any([controller.signal, interrupt.signal, ...(lease ? [lease.signal] : [])]);
        const { record, saved } = await executor(job, { signal, onProgress: (p) => emit({ type: 'progress', job: Object.assign(view, { progress: p }) }) }).catch((err: unknown) => ({ record: failedRecord(view, err), saved: false }));
        if (!saved) await recordJob(env, record);
        emit({ type: 'finished', job: view, record });
      } catch (err) {
        env.log(`${job.key}: ${messageOf(err)}`);
      } finally {
        await lease?.release().catch(() => {});
        running.delete(job.key);
        wakeUp();
      }
    })();
    running.set(job.key, { job: view, controller, done });
  }

  function failedRecord(job: RunningJob, err: unknown): JobRecord {
    return {
      version: 1,
      job: job.id,
      kind: job.kind,
      ...(job.asset ? { asset: job.asset } : {}),
      host: env.host,
      startedAt: job.startedAt,
      finishedAt: isoNow(env.clock),
      result: isAbort(err) ? 'interrupted' : 'failed',
      error: { code: codeOf(err), message: messageOf(err) },
      details: {},
    };
  }

  async function round(): Promise<number> {
    const view = await options.view();
    const now = env.clock.now();
    emit({ type: 'round', view, now });
    const state = {
      assets: env.plan.assets.filter(options.ownsAsset),
      allAssets: env.plan.assets,
      snapshots: view.snapshots,
      jobs: view.jobs.map((j) => j.record),
      periods: options.periods,
    };
    for (const [key, until] of heldElsewhere) if (until <= now) heldElsewhere.delete(key);
    const keys = new Set([...running.keys(), ...heldElsewhere.keys()]);
    const runnable = (j: PlannedJob) => options.executors[j.kind] !== undefined;
    const due = [...forced.values(), ...dueJobs(state, now, keys).filter((j) => !forced.has(j.key))].filter(runnable);
    for (const job of startable(due, now)) {
      forced.delete(job.key);
      start(job);
    }
    // Awake for the next job due, or a lease held elsewhere running out, whichever comes first.
    const next = Math.min(planJobs(state).find((j) => j.dueAt > now && runnable(j))?.dueAt ?? Infinity, ...heldElsewhere.values());
    return Math.min(options.pollMs, Math.max(0, next - now));
  }

  /**
   * What may start now. Prune and retention take the repository's exclusive lock: they start only
   * when nothing else runs, and nothing starts beside them. One that has waited EXCLUSIVE_WAIT_MS
   * for a quiet moment stops new jobs from starting until it gets one.
   */
  function startable(due: PlannedJob[], now: number): PlannedJob[] {
    const out: PlannedJob[] = [];
    if (stopping.signal.aborted || [...running.values()].some((r) => EXCLUSIVE.has(r.job.kind))) return out;
    for (const job of due) {
      if (running.size + out.length >= options.maxJobs) break;
      if (running.has(job.key)) continue;
      if (EXCLUSIVE.has(job.kind)) {
        if (!dueSince.has(job.key)) dueSince.set(job.key, now);
        if (running.size + out.length === 0) {
          dueSince.delete(job.key);
          return [job];
        }
        if (now - dueSince.get(job.key)! >= EXCLUSIVE_WAIT_MS) break; // drain: let the running jobs end first
        continue;
      }
      out.push(job);
    }
    return out;
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let waitMs = options.pollMs;
      try {
        waitMs = await round();
      } catch (err) {
        env.log(`scheduler: cannot read the repository (${messageOf(err)}); trying again in ${Math.round(options.pollMs / 1000)} s`);
      }
      if (!pendingWake && !stopping.signal.aborted) {
        const tick = new AbortController();
        const woken = new Promise<void>((resolve) => (resolveWake = resolve));
        await Promise.race([env.clock.sleep(waitMs, AbortSignal.any([tick.signal, stopping.signal])).catch(() => {}), woken]);
        tick.abort();
      }
      pendingWake = false;
      resolveWake = undefined;
    }
  })();

  return {
    running: () => [...running.values()].map((r) => r.job),
    backupNow(name) {
      const asset = assetOf(name);
      if (!asset || asset.tier === 3 || !options.ownsAsset(asset)) return false;
      if (running.has(`backup:${name}`)) return true; // the running one is the backup asked for
      forced.set(`backup:${name}`, { key: `backup:${name}`, kind: 'backup', asset: name, dueAt: env.clock.now(), reason: 'asked for now' });
      wakeUp();
      return true;
    },
    wake: () => wakeUp(),
    async stop(mode) {
      stopping.abort();
      if (mode === 'interrupt') interrupt.abort();
      wakeUp();
      await loop;
      await Promise.all([...running.values()].map((r) => r.done));
    },
  };
}
