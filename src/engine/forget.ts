/**
 * Forget: removes snapshot objects, by a keep policy (the newest N of each asset) or by id (what
 * control/retention.ts selected). Only snapshots go; their data stays until prune. A snapshot
 * still under Object Lock retention is not deleted: it is reported with the date it can go.
 * Stopped, it has removed some of the snapshots (each removal is whole), and a rerun removes the rest.
 */
import { systemClock } from '../base/clock.js';
import { throwIfAborted } from '../base/errors.js';
import { byCodeUnit } from '../base/order.js';
import { objectKey, type Repository } from '../repo/repository.js';
import { recordForgotten } from './forgotten.js';
import { deleteUnlessLocked } from './object-lock.js';
import { underLock, type OperationOptions } from './operation.js';
import { listSnapshots, type StoredSnapshot } from './snapshots.js';

export interface ForgetPlan {
  keep: StoredSnapshot[];
  remove: StoredSnapshot[];
}

/** Pure: per asset (or only `asset`), keep the newest `keepLast` snapshots and remove the others. */
export function planKeepLast(all: readonly StoredSnapshot[], keepLast: number, asset?: string): ForgetPlan {
  const plan: ForgetPlan = { keep: [], remove: [] };
  const byAsset = new Map<string, StoredSnapshot[]>();
  for (const s of all) {
    if (asset !== undefined && s.snapshot.asset !== asset) continue;
    byAsset.set(s.snapshot.asset, [...(byAsset.get(s.snapshot.asset) ?? []), s]);
  }
  for (const list of byAsset.values()) {
    const sorted = [...list].sort((a, b) => byCodeUnit(a.snapshot.time, b.snapshot.time) || byCodeUnit(a.id, b.id));
    const cut = Math.max(0, sorted.length - keepLast);
    plan.remove.push(...sorted.slice(0, cut));
    plan.keep.push(...sorted.slice(cut));
  }
  return plan;
}

export interface ForgetOptions extends OperationOptions {
  keepLast: number;
  asset?: string;
  dryRun?: boolean;
}

export interface ForgetResult {
  kept: string[];
  removed: string[];
  /** Snapshots the policy would remove that are locked (Object Lock) until the given time. */
  locked: Array<{ id: string; until: string }>;
  dryRun: boolean;
}

export async function forget(repo: Repository, options: ForgetOptions): Promise<ForgetResult> {
  if (!Number.isInteger(options.keepLast) || options.keepLast < 0) throw new RangeError(`keep-last must be a whole number of at least 0, not ${options.keepLast}`);
  return underLock(repo, 'exclusive', 'forget', options, async ({ repo, signal }) => {
    const plan = planKeepLast(await listSnapshots(repo), options.keepLast, options.asset);
    const removed = await removeSnapshots(repo, plan.remove.map((s) => s.id), options, signal);
    return { kept: plan.keep.map((s) => s.id), removed: removed.removed, locked: removed.locked, dryRun: !!options.dryRun };
  });
}

export interface ForgetIdsResult {
  removed: string[];
  locked: Array<{ id: string; until: string }>;
  /** Ids that were not there (any more): nothing to remove. */
  missing: string[];
  dryRun: boolean;
}

/** Removes the snapshot objects `ids` under an exclusive lock (what a retention planner chose); locked ones stay and are reported. */
export async function forgetSnapshots(repo: Repository, ids: readonly string[], options: Omit<ForgetOptions, 'keepLast' | 'asset'> = {}): Promise<ForgetIdsResult> {
  return underLock(repo, 'exclusive', 'forget', options, async ({ repo, signal }) => ({ ...(await removeSnapshots(repo, ids, options, signal)), dryRun: !!options.dryRun }));
}

async function removeSnapshots(repo: Repository, ids: readonly string[], options: Omit<ForgetOptions, 'keepLast' | 'asset'>, signal: AbortSignal): Promise<Omit<ForgetIdsResult, 'dryRun'>> {
  const now = new Date((options.clock ?? systemClock).now());
  const result: Omit<ForgetIdsResult, 'dryRun'> = { removed: [], locked: [], missing: [] };
  // First: the numbers of the versions about to go stay taken (docs/format.md §9).
  if (!options.dryRun && ids.length > 0) await recordForgotten(repo, (await listSnapshots(repo)).filter((s) => ids.includes(s.id)), options.clock);
  for (const id of ids) {
    throwIfAborted(signal);
    const key = objectKey('snapshot', id);
    const info = await repo.storage.head(key);
    if (!info) {
      result.missing.push(id);
      continue;
    }
    if (info.retainUntil && info.retainUntil > now) {
      result.locked.push({ id, until: info.retainUntil.toISOString() });
      continue;
    }
    const refused = options.dryRun ? undefined : await deleteUnlessLocked(repo, key);
    if (refused) result.locked.push({ id, until: refused });
    else result.removed.push(id);
  }
  return result;
}
