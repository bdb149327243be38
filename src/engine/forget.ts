/**
 * Forget: removes snapshot objects by a keep policy (the newest N of each asset). Only snapshots
 * go; their data stays until prune. A snapshot still under Object Lock retention is not deleted:
 * it is reported with the date it can go. Stopped, it has removed some of the snapshots (each
 * removal is whole), and a rerun removes the rest.
 */
import { systemClock } from '../base/clock.js';
import { throwIfAborted } from '../base/errors.js';
import { objectKey, type Repository } from '../repo/repository.js';
import { deleteUnlessLocked, lockedUntil } from './object-lock.js';
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
    const sorted = [...list].sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id));
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
  const now = new Date((options.clock ?? systemClock).now());
  return underLock(repo, 'exclusive', 'forget', options, async ({ repo, signal }) => {
    const plan = planKeepLast(await listSnapshots(repo), options.keepLast, options.asset);
    const result: ForgetResult = { kept: plan.keep.map((s) => s.id), removed: [], locked: [], dryRun: !!options.dryRun };
    for (const s of plan.remove) {
      throwIfAborted(signal);
      const until = await lockedUntil(repo, objectKey('snapshot', s.id), now);
      if (until) {
        result.locked.push({ id: s.id, until: until.toISOString() });
        continue;
      }
      const refused = options.dryRun ? undefined : await deleteUnlessLocked(repo, objectKey('snapshot', s.id));
      if (refused) result.locked.push({ id: s.id, until: refused });
      else result.removed.push(s.id);
    }
    return result;
  });
}
