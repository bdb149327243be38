/**
 * Status: for each asset of the plan, whether its promises hold — RPO state, replicas and their
 * lag, the last verification, the last drill, and the RTO to expect from what this repository has
 * measured. `buildStatus` is pure (plan, what the repositories say, now); `gatherStatus` reads
 * the repositories. The document is the same for `status --json` and the HTTP API.
 */
import type { Clock } from '../base/clock.js';
import { messageOf } from '../base/error-codes.js';
import type { ErrorCode } from '../base/errors.js';
import { codeOf } from '../base/error-codes.js';
import { replicationLag, type LagReport } from '../engine/replication.js';
import type { Repository } from '../repo/repository.js';
import type { CatalogView } from './catalog.js';
import { latestDrill } from './drills.js';
import { listReports, type Report } from './reports.js';
import { newestRecord, type JobRecord } from './jobs.js';
import type { Asset, DrPlan } from './plan.js';
import { objectiveMissed, rpoStatus, type RpoState } from './rpo.js';
import { describeSource } from '../sources/config.js';

export interface ReplicaStatus {
  repository: string;
  /** Age of the newest snapshot of the asset the replica lacks; 0 when in sync. Null when the replica could not be read. */
  lag_seconds: number | null;
  missing_snapshots: number | null;
  pending_bytes: number | null;
  newest_replicated: string | null;
  error?: { code: ErrorCode; message: string };
}

export interface VerificationStatus {
  last_at: string;
  result: 'ok' | 'failed' | 'interrupted';
  age_seconds: number;
  packs_checked: number | null;
  errors: string[];
}

export interface DrillStatus {
  last_at: string;
  report: string;
  verdict: 'met' | 'missed' | 'failed';
  measured_rto_seconds: number | null;
  target_rto_seconds: number;
}

export interface AssetStatus {
  name: string;
  tier: number;
  kind: string;
  owner: string | null;
  source: string | null;
  git_remote: string | null;
  rpo_seconds: number;
  rto_seconds: number;
  rpo_state: RpoState;
  last_snapshot: { id: string; time: string } | null;
  age_seconds: number | null;
  /** When the state turns at_risk / violated if no backup comes (absent once it has). */
  at_risk_at: string | null;
  violated_at: string | null;
  /** Bytes of the newest good snapshot. */
  size_bytes: number | null;
  replicas: ReplicaStatus[];
  verification: VerificationStatus | null;
  drill: DrillStatus | null;
  estimated_rto_seconds: number | null;
  /** What the estimate rests on: the restore rate of drills, else the read rate of verifications, on this repository. */
  estimate_basis: 'drill' | 'verification' | null;
  last_backup: { result: 'ok' | 'failed' | 'interrupted'; finished_at: string; error: { code: string; message: string } | null } | null;
}

export interface StatusDocument {
  assets: AssetStatus[];
  summary: {
    generated_at: string;
    repository: string;
    assets: number;
    ok: number;
    at_risk: number;
    violated: number;
    never: number;
    git: number;
    /** False when any asset is violated or never backed up: `status` exits 4. */
    objectives_met: boolean;
  };
}

/** What the repositories say, as gathered: the primary's catalog view and one lag report per replica (or why it could not be read). */
export interface StatusInputs {
  repository: string;
  view: CatalogView;
  lags: Map<string, LagReport | Error>;
  /** The latest drill of each asset (from the drills' reports), when there are any. */
  drills?: Map<string, DrillStatus>;
  /** Bytes per second a restore from this repository runs at, measured by drills. */
  drillRestoreRate?: number;
}

export function buildStatus(plan: DrPlan, inputs: StatusInputs, now: number, only?: string): StatusDocument {
  const records = inputs.view.jobs.map((j) => j.record);
  const verification = verificationOf(newestRecord(records, verified), now);
  const rate = restoreRate(inputs.drillRestoreRate, records);
  const assets = plan.assets
    .filter((a) => only === undefined || a.name === only)
    .map((asset) => assetStatus(asset, inputs, records, verification, rate, now));
  // What fails comes first: a person reads the top of the list.
  const order: Record<RpoState, number> = { violated: 0, never: 1, at_risk: 2, ok: 3, git: 4 };
  assets.sort((a, b) => order[a.rpo_state] - order[b.rpo_state] || a.tier - b.tier || a.name.localeCompare(b.name));
  const count = (s: RpoState) => assets.filter((a) => a.rpo_state === s).length;
  return {
    assets,
    summary: {
      generated_at: new Date(now).toISOString(),
      repository: inputs.repository,
      assets: assets.length,
      ok: count('ok'),
      at_risk: count('at_risk'),
      violated: count('violated'),
      never: count('never'),
      git: count('git'),
      objectives_met: !assets.some((a) => objectiveMissed(a.rpo_state)),
    },
  };
}

function assetStatus(asset: Asset, inputs: StatusInputs, records: JobRecord[], verification: VerificationStatus | null, rate: Rate | undefined, now: number): AssetStatus {
  const rpo = rpoStatus(asset, inputs.view.snapshots, now);
  const last = rpo.lastGood;
  const size = last ? last.snapshot.summary.totalBytes : null;
  const backup = newestRecord(records, (r) => r.kind === 'backup' && r.asset === asset.name);
  const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms / 1000));
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    name: asset.name,
    tier: asset.tier,
    kind: asset.kind,
    owner: asset.owner ?? null,
    source: asset.source ? describeSource(asset.source) : null,
    git_remote: asset.gitRemote ?? null,
    rpo_seconds: seconds(asset.policy.rpoMs)!,
    rto_seconds: seconds(asset.policy.rtoMs)!,
    rpo_state: rpo.state,
    last_snapshot: last ? { id: last.id, time: last.snapshot.time } : null,
    age_seconds: seconds(rpo.ageMs),
    at_risk_at: iso(rpo.atRiskAt),
    violated_at: iso(rpo.violatedAt),
    size_bytes: size,
    replicas: asset.tier === 3 ? [] : asset.policy.replicateTo.map((name) => replicaStatus(name, asset.name, inputs.lags.get(name))),
    verification: asset.tier === 3 ? null : verification,
    drill: inputs.drills?.get(asset.name) ?? null,
    estimated_rto_seconds: size !== null && rate ? Math.round(size / rate.bytesPerSecond) : null,
    estimate_basis: size !== null && rate ? rate.basis : null,
    last_backup: backup ? { result: backup.result, finished_at: backup.finishedAt, error: backup.error ?? null } : null,
  };
}

function replicaStatus(name: string, asset: string, lag: LagReport | Error | undefined): ReplicaStatus {
  const empty = { repository: name, lag_seconds: null, missing_snapshots: null, pending_bytes: null, newest_replicated: null };
  if (lag === undefined) return { ...empty, error: { code: 'ERROR', message: `replica ${name} was not read` } };
  if (lag instanceof Error) return { ...empty, error: { code: codeOf(lag), message: messageOf(lag) } };
  const a = lag.assets.find((x) => x.asset === asset);
  if (!a) return { repository: name, lag_seconds: 0, missing_snapshots: 0, pending_bytes: 0, newest_replicated: null };
  return { repository: name, lag_seconds: Math.round(a.lagMs / 1000), missing_snapshots: a.missing, pending_bytes: a.pendingBytes, newest_replicated: a.newestReplicated ?? null };
}

/** A verification that ran to its end: it passed, or it found damage (not one that could not start, e.g. locked). */
export function verified(r: JobRecord): boolean {
  return r.kind === 'verify' && (r.result === 'ok' || r.error?.code === 'DAMAGE_FOUND');
}

function verificationOf(record: JobRecord | undefined, now: number): VerificationStatus | null {
  if (!record) return null;
  const d = record.details as { packsChecked?: number; errors?: string[] };
  return {
    last_at: record.finishedAt,
    result: record.result,
    age_seconds: Math.round((now - Date.parse(record.finishedAt)) / 1000),
    packs_checked: d.packsChecked ?? null,
    errors: d.errors ?? (record.error ? [record.error.message] : []),
  };
}

interface Rate {
  bytesPerSecond: number;
  basis: 'drill' | 'verification';
}

/** A drill's measured restore rate if there is one, else the median read rate of successful verifications. */
function restoreRate(drillRate: number | undefined, records: JobRecord[]): Rate | undefined {
  if (drillRate && drillRate > 0) return { bytesPerSecond: drillRate, basis: 'drill' };
  const rates = records
    .filter((r) => verified(r) && r.result === 'ok')
    .map((r) => r.details as { bytesRead?: number; durationMs?: number })
    .filter((d) => (d.bytesRead ?? 0) > 0 && (d.durationMs ?? 0) > 0)
    .map((d) => (d.bytesRead! * 1000) / d.durationMs!)
    .sort((a, b) => a - b);
  return rates.length ? { bytesPerSecond: rates[Math.floor(rates.length / 2)], basis: 'verification' } : undefined;
}

/** Opens what status needs; injected so that the CLI and `serve` decide how repositories are opened (passwords, caches). */
export interface RepositoryAccess {
  /** The repository name backups go to, for messages. */
  readonly primaryName: string;
  primary(): Promise<Repository>;
  /** A repository of the plan by name (replicas, the archive), opened once and kept. */
  open(name: string): Promise<Repository>;
  close(): Promise<void>;
}

export interface GatherOptions {
  clock: Clock;
  asset?: string;
  /** Called with the primary, returns its catalog view (cached or not). */
  view(primary: Repository): Promise<CatalogView>;
  /** Told the reports read for the drills, so that a caller (serve) can keep them. */
  onReports?(reports: Report[]): void;
}

/** Reads the primary and every replica the assets name; a replica that cannot be read is reported, not fatal. */
export async function gatherStatus(plan: DrPlan, access: RepositoryAccess, options: GatherOptions): Promise<StatusDocument> {
  const primary = await access.primary();
  const view = await options.view(primary);
  const wanted = plan.assets.filter((a) => options.asset === undefined || a.name === options.asset);
  const replicaNames = [...new Set(wanted.flatMap((a) => (a.tier === 3 ? [] : a.policy.replicateTo)))];
  const lags = new Map<string, LagReport | Error>();
  await Promise.all(
    replicaNames.map(async (name) => {
      try {
        lags.set(name, await replicationLag(primary, await access.open(name), { clock: options.clock, asset: options.asset }));
      } catch (err) {
        lags.set(name, err as Error);
      }
    }),
  );
  // Reports that cannot be read leave the drills out of this status (and the kept ones as they were), not the rest.
  const reports = await listReports(primary).then(
    (all) => (options.onReports?.(all), all),
    () => [],
  );
  const drills = new Map(plan.assets.flatMap((a) => {
    const d = latestDrill(reports, a.name);
    return d ? [[a.name, { last_at: d.at, report: d.id, verdict: d.verdict, measured_rto_seconds: d.measured_seconds, target_rto_seconds: d.target_seconds }] as const] : [];
  }));
  return buildStatus(plan, { repository: access.primaryName, view, lags, drills, drillRestoreRate: drillRestoreRate(reports, view) }, options.clock.now(), options.asset);
}

/**
 * Bytes per second the drills' restore steps ran at on this repository (the median over drills
 * whose restore succeeded): the snapshot's size over the step's time.
 */
export function drillRestoreRate(reports: readonly Report[], view: CatalogView): number | undefined {
  const sizes = new Map(view.snapshots.map((s) => [s.id, s.snapshot.summary.totalBytes]));
  const rates = reports
    .filter((r) => r.mode === 'drill' && r.snapshot !== null && sizes.has(r.snapshot))
    .flatMap((r) => r.steps.filter((s) => s.kind === 'restore' && s.status === 'ok' && s.seconds > 0).map((s) => sizes.get(r.snapshot!)! / s.seconds))
    .sort((a, b) => a - b);
  return rates.length ? rates[Math.floor(rates.length / 2)] : undefined;
}
