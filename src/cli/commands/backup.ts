import type { Command } from 'commander';
import { hostName, systemClock } from '../../base/clock.js';
import { backupAsset, selectAssets, type BackupOutcome, type JobEnv } from '../../control/backup-job.js';
import { catalogFile, openCatalog } from '../../control/catalog.js';
import { fetchClient } from '../../control/http-client.js';
import type { Asset, DrPlan } from '../../control/plan.js';
import { dueJobs, DEFAULT_PERIODS } from '../../control/schedule.js';
import { backup } from '../../engine/backup.js';
import { retentionUntil, withRetention } from '../../engine/copy-retention.js';
import type { Snapshot } from '../../repo/snapshot.js';
import { defaultSplitters } from '../../repo/chunker/default-splitters.js';
import { cacheRoot } from '../../storage/object-cache.js';
import { withDirectIo, type DirectIoFlags } from '../direct-io.js';
import { OutcomeError, UsageError } from '../errors.js';
import { formatBytes, formatRate, type Output } from '../output.js';
import { planAccess, readPlan } from '../plan-options.js';
import { startProgress } from '../progress.js';
import { makeOutput } from '../output.js';
import { interruptSignal, withRepo, withRepoOptions, type RepoFlags, SNAPSHOTS_AND_INDEX } from '../repo-options.js';
import { backupFromFlags, hasLineage, lineageRequestOf, withSourceOptions, type SourceFlags } from '../source-options.js';

interface BackupFlags extends RepoFlags, DirectIoFlags {
  asset?: string;
  tag: string[];
  meta: string[];
  tier?: number;
  due?: boolean;
  all?: boolean;
  replicate?: boolean;
  host?: string;
  parent?: string;
  force?: boolean;
  retainDays?: number;
}

export function registerBackup(program: Command): void {
  withDirectIo(withSourceOptions(withRepoOptions(program.command('backup').description('back up files and directories as a snapshot of an asset, or the assets of lifeboat.yaml (--asset, --tier, --due, --all)'))
    .argument('[paths...]', 'one directory (its contents become the snapshot), or files and directories; none: the asset\'s source from lifeboat.yaml')
    .option('--asset <name>', 'the asset this snapshot belongs to (e.g. llama-ft); without paths, the asset of lifeboat.yaml')
    .option('--tier <n>', 'with paths: the recovery tier to record; without: every asset of this tier in lifeboat.yaml', Number)
    .option('--due', 'every asset of lifeboat.yaml whose RPO clock says a backup is due')
    .option('--all', 'every asset of lifeboat.yaml (Tier 1 and 2)')
    .option('--no-replicate', 'lifeboat.yaml assets: do not copy the new snapshots to the tier\'s replicate_to')
    .option('--host <name>', 'the host the snapshots and job records name (default: this machine\'s name)')
    .option('--tag <tag>', 'a tag (repeatable)', collect, [])
    .option('--meta <key=value>', 'metadata (repeatable)', collect, [])
    .option('--parent <snapshot>', 'compare against this snapshot instead of the asset\'s latest')
    .option('--force', 're-read every file, even when it looks unchanged')
    .option('--retain-days <n>', 'write with Object Lock retention of n days, and extend older data the snapshot needs (S3 with Object Lock)', Number)), 'packs of a local repository')
    .action(async (paths: string[], flags: BackupFlags) => {
      if (flags.tier !== undefined && ![1, 2, 3].includes(flags.tier)) throw new UsageError('--tier takes 1, 2 or 3');
      if (await backupFromFlags(paths, flags as BackupFlags & SourceFlags)) return; // a source (--postgres, ...), or paths with lineage: cli/source-options.ts
      if (paths.length > 0) return backupPaths(paths, flags);
      if (flags.asset === undefined && flags.tier === undefined && !flags.due && !flags.all) {
        throw new UsageError('say what to back up: paths with --asset NAME, or --asset NAME, --tier N, --due or --all for the assets of lifeboat.yaml');
      }
      return backupPlanned(flags);
    });
}

/** Paths on the command line, as an asset named by --asset. */
async function backupPaths(paths: string[], flags: BackupFlags): Promise<void> {
  if (!flags.asset) throw new UsageError('backing up paths needs --asset NAME (the asset the snapshot belongs to)');
  if (flags.due || flags.all) throw new UsageError('--due and --all back up the assets of lifeboat.yaml: give no paths with them');
  const meta = Object.fromEntries(flags.meta.map(parseMeta));
  const signal = interruptSignal(); // armed now: a signal while the repository opens stops the backup before it starts
  await withRepo(flags, async ({ repo: opened, out }) => {
    const repo = flags.retainDays === undefined ? opened : withRetention(opened, { until: retentionUntil(flags.retainDays) });
    const bar = startProgress('backup', !flags.json && !flags.quiet);
    const { snapshotId, snapshot } = await backup(repo, {
      asset: flags.asset!,
      paths,
      tags: flags.tag,
      meta,
      tier: flags.tier,
      host: flags.host,
      parent: flags.force ? null : flags.parent,
      splitters: defaultSplitters(),
      directIo: flags.directIo,
      onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal),
      onWarning: (m) => out.warn(m),
      signal,
    }).finally(() => bar.stop());
    out.result({ id: snapshotId, ...snapshot }, () => describeSnapshot(snapshotId, snapshot));
    if (snapshot.incomplete.length) throw incompleteError(snapshot);
  }, { prefetch: SNAPSHOTS_AND_INDEX });
}

/** The assets of lifeboat.yaml that --asset/--tier/--due/--all name, one snapshot each, each copied to its replicas. */
async function backupPlanned(flags: BackupFlags): Promise<void> {
  const out = makeOutput(!!flags.json, !!flags.quiet);
  const plan = await readPlan(flags);
  const access = planAccess(flags, plan);
  const signal = interruptSignal();
  const env: JobEnv = { plan, access, clock: systemClock, host: flags.host ?? hostName(), http: fetchClient, log: (m) => out.warn(m) };
  const sourceFlags = flags as BackupFlags & SourceFlags;
  if (hasLineage(sourceFlags) && (flags.asset === undefined || flags.tier !== undefined || flags.due || flags.all)) {
    throw new UsageError('--lineage, --param and --metric describe one version: give --asset NAME (not --tier, --due or --all)');
  }
  const lineage = hasLineage(sourceFlags) ? await lineageRequestOf(sourceFlags) : undefined;
  try {
    const assets = flags.due ? await dueAssets(plan, env) : selectAssets(plan, { asset: flags.asset, tier: flags.tier, all: flags.all });
    if (assets.length === 1 && assets[0].tier === 3) throw new UsageError(`${assets[0].name} is Tier 3: rebuilt from git (${assets[0].gitRemote ?? 'no git_remote'}), never backed up`);
    const outcomes: BackupOutcome[] = [];
    for (const asset of assets) {
      const bar = startProgress(`backup ${asset.name}`, !flags.json && !flags.quiet);
      if (signal.aborted) break;
      outcomes.push(await backupAsset(env, asset, { replicate: flags.replicate, lineage, signal, directIo: flags.directIo, onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal) }).finally(() => bar.stop()));
    }
    const single = flags.asset !== undefined && outcomes.length === 1 && outcomes[0].snapshot;
    if (single) {
      const o = outcomes[0];
      out.result({ id: o.snapshotId, ...o.snapshot, replicated: o.replicated, job: o.record.job }, () => describeOutcome(o));
    } else {
      out.result({ backups: outcomes.map(outcomeDocument) }, () => (outcomes.length ? outcomes.map(describeOutcome).join('\n') : 'nothing to back up: every asset is within its RPO'));
    }
    failOn(outcomes, out);
  } finally {
    await access.close();
  }
}

/** The assets whose backup is due now, by the same planner as `serve`. */
async function dueAssets(plan: DrPlan, env: JobEnv): Promise<Asset[]> {
  const catalog = openCatalog(catalogFile(process.env, cacheRoot(process.env)));
  try {
    const view = await catalog.sync(await env.access.primary());
    const due = dueJobs({ assets: plan.assets, allAssets: plan.assets, snapshots: view.snapshots, jobs: view.jobs.map((j) => j.record), periods: DEFAULT_PERIODS }, env.clock.now());
    const names = new Set(due.filter((j) => j.kind === 'backup' || j.kind === 'replicate').map((j) => j.asset));
    return plan.assets.filter((a) => names.has(a.name));
  } finally {
    catalog.close();
  }
}

/** The worst outcome decides the exit code: a failed backup (its own code), then replication, then incomplete files. */
function failOn(outcomes: BackupOutcome[], out: Output): void {
  const failed = outcomes.filter((o) => o.record.result !== 'ok');
  if (failed.length) {
    const first = failed[0].record.error!;
    throw new OutcomeError(first.code, failed.map((o) => `${o.record.asset}: ${o.record.error?.message}`).join('\n'));
  }
  const unreplicated = outcomes.flatMap((o) => o.replicated.filter((r) => r.result === 'failed').map((r) => `${o.record.asset} -> ${r.repository}: ${r.error?.message}`));
  if (unreplicated.length) throw new OutcomeError('REQUEST_FAILED', `backed up, but not replicated:\n${unreplicated.join('\n')}`);
  const incomplete = outcomes.find((o) => o.snapshot && o.snapshot.incomplete.length > 0);
  if (incomplete) throw incompleteError(incomplete.snapshot!);
  out.info(`${outcomes.length} asset(s) backed up`);
}

function outcomeDocument(o: BackupOutcome) {
  return {
    asset: o.record.asset,
    result: o.record.result,
    snapshot: o.snapshot ? { id: o.snapshotId, ...o.snapshot } : null,
    replicated: o.replicated,
    error: o.record.error ?? null,
    job: o.record.job,
  };
}

function describeOutcome(o: BackupOutcome): string {
  if (!o.snapshot) return `${o.record.asset}: FAILED: ${o.record.error?.message}`;
  const lines = [describeSnapshot(o.snapshotId!, o.snapshot)];
  for (const r of o.replicated) lines.push(r.result === 'ok' ? `  replicated to ${r.repository} (${r.copied} snapshot(s) copied)` : `  NOT replicated to ${r.repository}: ${r.error?.message}`);
  return lines.join('\n');
}

function describeSnapshot(snapshotId: string, snapshot: Snapshot): string {
  const s = snapshot.summary;
  return [
    `snapshot ${snapshotId.slice(0, 12)} of ${snapshot.asset} saved${snapshot.incomplete.length ? ' (INCOMPLETE: some files could not be read)' : ''}`,
    `  files ${s.files}, dirs ${s.dirs}, ${formatBytes(s.totalBytes)} in total, ${formatBytes(s.readBytes)} read`,
    `  added ${s.newBlobs} blobs: ${formatBytes(s.newRawBytes)} of new data stored as ${formatBytes(s.newStoredBytes)}`,
    `  took ${(s.durationMs / 1000).toFixed(1)} s (${formatRate(s.readBytes, s.durationMs)} read)`,
  ].join('\n');
}

function incompleteError(snapshot: Snapshot): OutcomeError {
  return new OutcomeError('INCOMPLETE', `${snapshot.incomplete.length} file(s) could not be read completely; the snapshot is marked incomplete`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseMeta(kv: string): [string, string] {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new UsageError(`--meta takes key=value, got "${kv}"`);
  return [kv.slice(0, eq), kv.slice(eq + 1)];
}
