/** `backup --asset NAME | --tier N | --due | --all`: the assets of lifeboat.yaml, each copied to its replicas. */
import { hostName, systemClock } from '../../base/clock.js';
import { backupAsset, selectAssets, type BackupOutcome, type JobEnv } from '../../control/backup-job.js';
import { catalogFile, openCatalog } from '../../control/catalog.js';
import { fetchClient } from '../../control/http-client.js';
import type { Asset, DrPlan } from '../../control/plan.js';
import { dueJobs, DEFAULT_PERIODS } from '../../control/schedule.js';
import { cacheRoot } from '../../storage/object-cache.js';
import { OutcomeError, UsageError } from '../errors.js';
import { makeOutput, type Output } from '../output.js';
import { planAccess, readPlan } from '../plan-options.js';
import { startProgress } from '../progress.js';
import { interruptSignal } from '../repo-options.js';
import { hasLineage, type SourceFlags } from '../source-flags.js';
import { lineageRequestOf } from '../source-options.js';
import type { BackupFlags } from './backup.js';
import { describeSnapshot, incompleteError } from './backup-describe.js';

/** The assets of lifeboat.yaml that --asset/--tier/--due/--all name, one snapshot each, each copied to its replicas. */
export async function backupPlanned(flags: BackupFlags): Promise<void> {
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
