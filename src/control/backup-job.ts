/**
 * One asset's backup as the DR plan defines it: its source into the primary (immutable for the
 * tier's retain_days where the repository has Object Lock), then every repository of its
 * replicate_to brought up to date, a job record written, and the asset's dead-man URL pinged
 * around it all. Used by `lifeboat backup --asset/--tier/--due/--all` and by `lifeboat serve`.
 * It returns its outcome as a value; a failure is recorded, never thrown past the record.
 */
import { isoNow, type Clock } from '../base/clock.js';
import { codeOf, messageOf } from '../base/error-codes.js';
import { isAbort, LifeboatError } from '../base/errors.js';
import { backup, type BackupProgress } from '../engine/backup.js';
import { copy } from '../engine/copy.js';
import type { DirectIo } from '../engine/page-cache.js';
import { retentionUntil, withRetention } from '../engine/copy-retention.js';
import type { FileSplitter } from '../repo/chunker/chunker.js';
import { defaultSplitters } from '../repo/chunker/default-splitters.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot } from '../repo/snapshot.js';
import { sourcePaths } from '../sources/config.js';
import { trySend, type HttpClient } from './http-client.js';
import { copyReports } from './reports.js';
import { withLineageInputs } from './lineage.js';
import { resolveLineage, type LineageRequest } from './lineage-input.js';
import { listSnapshots } from '../engine/snapshots.js';
import { newJobId, saveJobRecord, type JobRecord, type JobResult } from './jobs.js';
import type { Asset, DrPlan } from './plan.js';
import type { RepositoryAccess } from './status.js';

/** What every job of the DR plane runs with. */
export interface JobEnv {
  plan: DrPlan;
  access: RepositoryAccess;
  clock: Clock;
  /** This host's name, as `serve --host` gives it. */
  host: string;
  http: HttpClient;
  /** Notes and warnings for people (stderr, the serve log). */
  log(message: string): void;
  splitters?: readonly FileSplitter[];
}

export interface ReplicationOutcome {
  repository: string;
  result: 'ok' | 'failed';
  copied: number;
  error?: { code: string; message: string };
}

export interface BackupOutcome {
  record: JobRecord;
  snapshotId?: string;
  snapshot?: Snapshot;
  replicated: ReplicationOutcome[];
}

export interface BackupJobOptions {
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /** Copy the new snapshot to the tier's replicate_to (default true). */
  replicate?: boolean;
  /** What this version was made from (`backup --asset NAME --lineage ...`), resolved against the primary. */
  lineage?: LineageRequest;
  /** Packs of a local repository: through the page cache or around it (engine/page-cache.ts). */
  directIo?: DirectIo;
}

export async function backupAsset(env: JobEnv, asset: Asset, options: BackupJobOptions = {}): Promise<BackupOutcome> {
  const startedAt = isoNow(env.clock);
  const job = newJobId();
  if (asset.ping) await ping(env, asset.ping, '/start');
  let outcome: { snapshotId?: string; snapshot?: Snapshot; replicated: ReplicationOutcome[]; immutableUntil?: string } = { replicated: [] };
  let failure: unknown;
  try {
    outcome = await runBackup(env, asset, options);
  } catch (err) {
    failure = err;
  }
  const incomplete = outcome.snapshot?.incomplete.length ?? 0;
  const result: JobResult = failure === undefined ? 'ok' : isAbort(failure) ? 'interrupted' : 'failed';
  const record: JobRecord = {
    version: 1,
    job,
    kind: 'backup',
    asset: asset.name,
    host: env.host,
    startedAt,
    finishedAt: isoNow(env.clock),
    result,
    ...(failure === undefined ? {} : { error: { code: codeOf(failure), message: messageOf(failure) } }),
    details: {
      tier: asset.tier,
      ...(outcome.snapshotId ? { snapshot: outcome.snapshotId, time: outcome.snapshot!.time, totalBytes: outcome.snapshot!.summary.totalBytes, newStoredBytes: outcome.snapshot!.summary.newStoredBytes, durationMs: outcome.snapshot!.summary.durationMs, incompleteFiles: incomplete } : {}),
      replicated: outcome.replicated,
      ...(outcome.immutableUntil ? { immutableUntil: outcome.immutableUntil } : {}),
    },
  };
  await recordJob(env, record);
  await recordOnReplicas(env, record, outcome.replicated);
  const replicationFailed = outcome.replicated.some((r) => r.result === 'failed');
  if (asset.ping) await ping(env, asset.ping, result === 'ok' && incomplete === 0 && !replicationFailed ? '' : '/fail');
  return { record, snapshotId: outcome.snapshotId, snapshot: outcome.snapshot, replicated: outcome.replicated };
}

async function runBackup(env: JobEnv, asset: Asset, options: BackupJobOptions) {
  if (!asset.source) throw new LifeboatError('CONFIG', `asset ${asset.name} has no source to back up (Tier ${asset.tier})`);
  const primary = await env.access.primary();
  const { repo, until } = await immutable(primary, asset, env.clock);
  const source = asset.source;
  const lineage = options.lineage ? await resolveLineage(primary, options.lineage) : undefined;
  const { snapshotId, snapshot } = source.kind !== 'path'
    ? await (await import('../sources/all.js')).backupSource(repo, source, { asset: asset.name, tier: asset.tier, kind: asset.kind, host: env.host, lineage }, { signal: options.signal, warn: (m) => env.log(`${asset.name}: ${m}`) })
    : await backup(repo, {
    asset: asset.name,
    paths: sourcePaths(source),
    exclude: source.exclude,
    tier: asset.tier,
    kind: asset.kind,
    host: env.host,
    record: lineage ? { lineage } : undefined,
    clock: env.clock,
    splitters: env.splitters ?? defaultSplitters(),
    onProgress: options.onProgress,
    onWarning: (m) => env.log(`${asset.name}: ${m}`),
    signal: options.signal,
    directIo: options.directIo,
  });
  const replicated = options.replicate === false ? [] : await replicateAsset(env, asset, primary, options.signal);
  return { snapshotId, snapshot, replicated, immutableUntil: until?.toISOString() };
}

/** Copies every snapshot of the asset that a replica of its replicate_to lacks; each replica's failure is its own. */
export async function replicateAsset(env: JobEnv, asset: Asset, primary: Repository, signal?: AbortSignal): Promise<ReplicationOutcome[]> {
  const outcomes: ReplicationOutcome[] = [];
  for (const name of asset.policy.replicateTo) {
    if (signal?.aborted) break;
    try {
      const { repo } = await immutable(await env.access.open(name), asset, env.clock);
      // The asset's snapshots and the dataset versions they name (lineage): a model is not recoverable without its data.
      const all = await listSnapshots(primary);
      const ids = withLineageInputs(all, all.filter((s) => s.snapshot.asset === asset.name)).map((s) => s.id);
      const result = await copy(primary, repo, { ids, clock: env.clock, onWarning: (m) => env.log(`${asset.name} -> ${name}: ${m}`), signal });
      // The second site also gets the drill and recovery reports it lacks (format.md, section 14).
      await copyReports(primary, repo).catch((err: unknown) => env.log(`${asset.name}: reports not copied to ${name}: ${messageOf(err)}`));
      outcomes.push({ repository: name, result: 'ok', copied: result.copied });
    } catch (err) {
      if (isAbort(err)) throw err;
      env.log(`${asset.name}: replication to ${name} failed: ${messageOf(err)}`);
      outcomes.push({ repository: name, result: 'failed', copied: 0, error: { code: codeOf(err), message: messageOf(err) } });
    }
  }
  return outcomes;
}

/** The repository as a backup of `asset` writes to it: under Object Lock retention for retain_days where the storage has Object Lock. */
async function immutable(repo: Repository, asset: Asset, clock: Clock): Promise<{ repo: Repository; until?: Date }> {
  if (asset.policy.retainDays <= 0 || !(await repo.storage.objectLock?.().catch(() => false))) return { repo };
  const until = retentionUntil(asset.policy.retainDays, new Date(clock.now()));
  return { repo: withRetention(repo, { until }), until };
}

/** Writes a job record to the primary; a record that cannot be written is logged (the job's own work stands). */
export async function recordJob(env: JobEnv, record: JobRecord): Promise<string | undefined> {
  try {
    return await saveJobRecord(await env.access.primary(), record);
  } catch (err) {
    env.log(`cannot record ${record.kind} job ${record.job}${record.asset ? ` of ${record.asset}` : ''}: ${messageOf(err)}`);
    return undefined;
  }
}

/** The record goes to each replica the backup reached too, so the second site knows the history (format.md, section 14). */
async function recordOnReplicas(env: JobEnv, record: JobRecord, replicated: ReplicationOutcome[]): Promise<void> {
  for (const r of replicated.filter((x) => x.result === 'ok')) {
    try {
      await saveJobRecord(await env.access.open(r.repository), record);
    } catch (err) {
      env.log(`cannot record the backup of ${record.asset} on ${r.repository}: ${messageOf(err)}`);
    }
  }
}

async function ping(env: JobEnv, base: string, suffix: string): Promise<void> {
  const problem = await trySend(env.http, base.replace(/\/+$/, '') + suffix);
  if (problem) env.log(`dead-man ping: ${problem}`);
}

/** Assets of the plan by a selection, in the plan's order: one by name, a tier, or all backed-up ones. */
export function selectAssets(plan: DrPlan, selection: { asset?: string; tier?: number; all?: boolean }): Asset[] {
  if (selection.asset !== undefined) {
    const found = plan.assets.find((a) => a.name === selection.asset);
    if (!found) throw new LifeboatError('NOT_FOUND_ASSET', `no asset "${selection.asset}" in ${plan.file} (it has ${plan.assets.map((a) => a.name).join(', ') || 'none'})`);
    return [found];
  }
  return plan.assets.filter((a) => a.tier !== 3 && (selection.tier === undefined || a.tier === selection.tier) && (selection.all || selection.tier !== undefined));
}
