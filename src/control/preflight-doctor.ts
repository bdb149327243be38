/**
 * `lifeboat doctor`: every preflight check for the whole plan. Every repository of the
 * repositories: section (primary, replicas, archive) reachable with its credentials and password,
 * the clock against each object store; then, for every asset that is backed up, its runbook as a
 * recovery and as a drill: free space at each restore target, every endpoint, command and gateway
 * its steps use, the tools its source needs. A shared endpoint or command is checked once.
 */
import { sourceLocations } from '../sources/config.js';
import { messageOf } from '../base/error-codes.js';
import { describeDamaged, latestOf, listSnapshotsAndDamage, type StoredSnapshot } from '../engine/snapshots.js';
import path from 'node:path';
import type { Asset, DrPlan } from './plan.js';
import type { CheckResult, PreflightTools } from './preflight.js';
import { checkClockSkew, checkCredentialExpiry, checkRepository, type RepositoryOpener } from './preflight-repo.js';
import { checkPlannedRun, snapshotCheck, type CheckMemo } from './preflight-run.js';
import { planRunbook } from './runbook-plan.js';
import { runbookFor, type RunMode, type RunbookSet } from './runbooks.js';

export interface DoctorInput {
  plan: DrPlan;
  runbooks?: RunbookSet;
  openRepository: RepositoryOpener;
  tools: PreflightTools;
}

export async function doctor(input: DoctorInput): Promise<CheckResult[]> {
  const { plan, tools } = input;
  const results: CheckResult[] = [];
  if (plan.repositories.length === 0) {
    results.push({ check: 'repository', subject: plan.file, status: 'fail', message: `${plan.file} names no repository: add a repositories: section with a primary` });
  }
  const opened = await Promise.all(
    plan.repositories.map(async (named) => {
      const [{ results: found, repo }, skew] = await Promise.all([checkRepository(named, input.openRepository, tools), checkClockSkew(named, tools)]);
      return { named, repo, found: skew ? [...found, skew] : found };
    }),
  );
  for (const o of opened) results.push(...o.found);
  const expiry = checkCredentialExpiry(tools);
  if (expiry) results.push(expiry);
  const primary = opened.find((o) => o.named === plan.primary)?.repo;
  const listing = primary ? await listSnapshotsAndDamage(primary).catch(() => undefined) : undefined;
  const snapshots = listing?.snapshots;
  // A recovery or drill of latest refuses while any snapshot object cannot be read (runbook-snapshot.ts).
  if (primary && listing?.damaged.length) {
    const ids = listing.damaged.map((d) => d.id);
    results.push({ check: 'snapshots', subject: plan.primary!.name, status: 'fail', message: `${describeDamaged(ids, primary.storage.location)}: a recovery or drill of an asset's latest snapshot refuses until then (any of them may be the newest); recover with --snapshot ID or vN, remove the unreadable objects with "lifeboat repair snapshots", or pass --skip-damaged to take the newest readable one` });
  }
  const memo: CheckMemo = new Set();
  for (const asset of plan.assets) {
    if (asset.tier === 3 || !asset.source) continue;
    results.push(...(await assetChecks(input, asset, snapshots, memo)));
  }
  return results;
}

async function assetChecks(input: DoctorInput, asset: Asset, snapshots: StoredSnapshot[] | undefined, memo: CheckMemo): Promise<CheckResult[]> {
  const { plan, tools } = input;
  const baseDir = path.dirname(path.resolve(plan.file));
  const runbook = runbookFor(input.runbooks, asset, baseDir);
  if (!runbook) return [{ check: 'runbook', subject: asset.name, status: 'fail', message: `asset "${asset.name}" names runbook "${asset.runbook}", which the runbooks: section does not have` }];
  const out: CheckResult[] = [];
  const latest = snapshots && latestOf(snapshots, asset.name);
  if (snapshots && !latest) out.push({ check: 'snapshot', subject: asset.name, status: 'warn', message: `no snapshot of ${asset.name} yet: a recovery or drill has nothing to restore (lifeboat backup --asset ${asset.name} …)` });
  if (latest) out.push(snapshotCheck(asset.name, latest));
  const protectedPaths = asset.source ? sourceLocations(asset.source) : [];
  const modes: RunMode[] = ['recovery', 'drill'];
  for (const mode of modes) {
    try {
      const run = planRunbook(runbook, mode, { asset: asset.name, snapshot: latest?.id ?? 'SNAPSHOT', scratchDir: path.join(runbook.scratchRoot, `${asset.name}-doctor`), protectedPaths });
      out.push(...(await checkPlannedRun(run, asset, latest?.snapshot.summary.totalBytes, runbook.baseDir, tools, memo)));
    } catch (err) {
      out.push({ check: 'runbook', subject: `${runbook.name} (${mode})`, status: 'fail', message: messageOf(err) });
    }
  }
  return out;
}
