/**
 * What is due: a pure function of the plan, what the repository holds (snapshots, job records),
 * what is running, and the time. `lifeboat backup --due` and the `serve` loop both ask it.
 *
 * - A backup is due when the asset's newest good snapshot is as old as its RPO minus the time its
 *   backups take (the slowest of its last few, from the job records) minus a jitter (a stable
 *   per-asset fraction of up to 5% of the RPO, at most 10 minutes, so that assets with one RPO
 *   do not all start at once); at once when it has none. After a failure, it is retried with a
 *   backoff (1 minute, doubling, at most 30 minutes) rather than in a loop.
 * - A replication is due when the asset's last backup could not reach a replica (same backoff).
 * - Verification, retention, prune and drills are repository-wide, on their period.
 */
import { createHash } from 'node:crypto';
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { JobKind, JobRecord } from './jobs.js';
import type { Asset } from './plan.js';
import { newestGood } from './rpo.js';

export interface PlannedJob {
  /** One job per key at a time: `backup:ASSET`, `replicate:ASSET`, `verify`, `retention`, `prune`, `drill:TIER`. */
  key: string;
  kind: JobKind;
  asset?: string;
  tier?: number;
  /** When it became (or becomes) due, epoch ms. */
  dueAt: number;
  reason: string;
}

export interface RepositoryPeriods {
  /** How often retention runs (each asset's keep policy, archive first); 0: never. */
  retentionEveryMs: number;
  pruneEveryMs: number;
}

export const DEFAULT_PERIODS: RepositoryPeriods = { retentionEveryMs: 86_400_000, pruneEveryMs: 7 * 86_400_000 };

export interface ScheduleState {
  /** The assets this host backs up (the caller decides by host: and by which sources it has). */
  assets: readonly Asset[];
  /** Every asset of the plan: repository-wide jobs (verification, drills) look at all of them. */
  allAssets: readonly Asset[];
  snapshots: readonly StoredSnapshot[];
  jobs: readonly JobRecord[];
  periods: RepositoryPeriods;
}

const MINUTE = 60_000;
const RECENT_DURATIONS = 5;

/** Every job of the plan with its due time (due or not yet), soonest first. */
export function planJobs(state: ScheduleState): PlannedJob[] {
  const planned: PlannedJob[] = [];
  for (const asset of state.assets) {
    if (asset.tier === 3) continue;
    planned.push(backupJob(asset, state));
    const replicate = replicateJob(asset, state.jobs);
    if (replicate) planned.push(replicate);
  }
  planned.push(...repositoryJobs(state));
  return planned.sort((a, b) => a.dueAt - b.dueAt || a.key.localeCompare(b.key));
}

/** The jobs due at `now` that are not running, soonest first. */
export function dueJobs(state: ScheduleState, now: number, running: ReadonlySet<string> = new Set()): PlannedJob[] {
  return planJobs(state).filter((j) => j.dueAt <= now && !running.has(j.key));
}

/** When the next job that is not due yet becomes due (for the scheduler's sleep); undefined when none will. */
export function nextDueAt(state: ScheduleState, now: number): number | undefined {
  return planJobs(state).find((j) => j.dueAt > now)?.dueAt;
}

function backupJob(asset: Asset, state: ScheduleState): PlannedJob {
  const key = `backup:${asset.name}`;
  const last = newestGood(state.snapshots, asset.name);
  const mine = state.jobs.filter((j) => j.kind === 'backup' && j.asset === asset.name);
  const retry = retryAt(mine);
  if (!last) return { key, kind: 'backup', asset: asset.name, dueAt: retry ?? 0, reason: retry ? 'no backup yet; retrying after a failure' : 'no backup yet' };
  const rpo = asset.policy.rpoMs;
  const expected = expectedDuration(mine);
  const dueAt = Date.parse(last.snapshot.time) + rpo - expected - jitter(asset.name, rpo);
  if (retry !== undefined && retry > dueAt) return { key, kind: 'backup', asset: asset.name, dueAt: retry, reason: 'retrying after a failed backup' };
  return { key, kind: 'backup', asset: asset.name, dueAt, reason: `RPO ${Math.round(rpo / MINUTE)} min since the last good backup, less ${Math.round(expected / 1000)} s it takes` };
}

function replicateJob(asset: Asset, jobs: readonly JobRecord[]): PlannedJob | undefined {
  if (asset.policy.replicateTo.length === 0) return undefined;
  const mine = jobs.filter((j) => (j.kind === 'backup' || j.kind === 'replicate') && j.asset === asset.name);
  const last = latest(mine);
  if (!last) return undefined;
  const failed = ((last.details.replicated as Array<{ result: string }> | undefined) ?? []).some((r) => r.result === 'failed') || (last.kind === 'replicate' && last.result !== 'ok');
  if (!failed) return undefined;
  const failures = consecutive(mine, (j) => j.result !== 'ok' || ((j.details.replicated as Array<{ result: string }> | undefined) ?? []).some((r) => r.result === 'failed'));
  return { key: `replicate:${asset.name}`, kind: 'replicate', asset: asset.name, dueAt: Date.parse(last.finishedAt) + backoff(failures), reason: 'a replica lacks its newest snapshot' };
}

function repositoryJobs(state: ScheduleState): PlannedJob[] {
  const backedUp = state.allAssets.filter((a) => a.tier !== 3);
  const jobs: PlannedJob[] = [];
  const periodic = (key: string, kind: JobKind, every: number, reason: string, match: (j: JobRecord) => boolean = (j) => j.kind === kind, tier?: number) => {
    if (every <= 0 || backedUp.length === 0) return;
    const mine = state.jobs.filter(match);
    const lastOk = latest(mine.filter((j) => j.result === 'ok'));
    const retry = retryAt(mine);
    const dueAt = Math.max(lastOk ? Date.parse(lastOk.finishedAt) + every : 0, retry ?? 0);
    jobs.push({ key, kind, dueAt, reason, ...(tier === undefined ? {} : { tier }) });
  };
  const verifyEvery = minPositive(backedUp.map((a) => a.policy.verifyEveryMs));
  if (verifyEvery !== undefined) periodic('verify', 'verify', verifyEvery, 'verify a random subset of packs');
  periodic('retention', 'retention', state.periods.retentionEveryMs, 'apply each asset\'s keep policy');
  periodic('prune', 'prune', state.periods.pruneEveryMs, 'delete data no snapshot needs');
  for (const tier of [1, 2] as const) {
    const every = minPositive(backedUp.filter((a) => a.tier === tier).map((a) => a.policy.drillEveryMs));
    if (every !== undefined) periodic(`drill:${tier}`, 'drill', every, `drill a random Tier ${tier} asset`, (j) => j.kind === 'drill' && j.details.tier === tier, tier);
  }
  return jobs;
}

/** The subset of packs verification reads: the largest verify_subset of the assets. */
export function verifySubsetPercent(assets: readonly Asset[]): number {
  return Math.max(0, ...assets.filter((a) => a.tier !== 3).map((a) => a.policy.verifySubsetPercent));
}

/** How long the asset's backups take: the slowest of the last few successful ones (0 with no history). */
function expectedDuration(jobs: readonly JobRecord[]): number {
  const recent = jobs
    .filter((j) => j.result === 'ok')
    .sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))
    .slice(0, RECENT_DURATIONS)
    .map((j) => Date.parse(j.finishedAt) - Date.parse(j.startedAt));
  return Math.max(0, ...recent);
}

/** When to try again after the newest job failed; undefined when it did not. */
function retryAt(jobs: readonly JobRecord[]): number | undefined {
  const last = latest(jobs);
  if (!last || last.result === 'ok') return undefined;
  return Date.parse(last.finishedAt) + backoff(consecutive(jobs, (j) => j.result !== 'ok'));
}

function backoff(failures: number): number {
  return Math.min(30 * MINUTE, MINUTE * 2 ** Math.max(0, failures - 1));
}

/** How many of the newest jobs in a row match. */
function consecutive(jobs: readonly JobRecord[], match: (j: JobRecord) => boolean): number {
  let n = 0;
  for (const j of [...jobs].sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))) {
    if (!match(j)) break;
    n++;
  }
  return n;
}

function latest(jobs: readonly JobRecord[]): JobRecord | undefined {
  let best: JobRecord | undefined;
  for (const j of jobs) if (!best || j.finishedAt > best.finishedAt) best = j;
  return best;
}

function minPositive(values: number[]): number | undefined {
  const positive = values.filter((v) => v > 0);
  return positive.length ? Math.min(...positive) : undefined;
}

/** A stable fraction of up to 5% of the RPO (at most 10 minutes), from the asset's name. */
function jitter(name: string, rpo: number): number {
  const fraction = createHash('sha256').update(name).digest().readUInt32BE(0) / 2 ** 32;
  return Math.floor(fraction * Math.min(0.05 * rpo, 10 * MINUTE));
}
