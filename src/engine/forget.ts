/**
 * Forget: removes snapshot objects by a keep policy (the newest N of each asset). Only snapshots
 * go; their data stays until prune. A snapshot still under Object Lock retention is not deleted:
 * it is reported with the date it can go.
 */
import { systemClock, type Clock } from '../base/clock.js';
import { acquireLock } from '../repo/lock.js';
import { objectKey, type Repository } from '../repo/repository.js';
import { recordForgotten } from './forgotten.js';
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

export interface ForgetOptions {
  keepLast: number;
  asset?: string;
  dryRun?: boolean;
  clock?: Clock;
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
  const lock = await acquireLock(repo, 'exclusive', 'forget');
  try {
    const plan = planKeepLast(await listSnapshots(repo), options.keepLast, options.asset);
    const result: ForgetResult = { kept: plan.keep.map((s) => s.id), removed: [], locked: [], dryRun: !!options.dryRun };
    if (!options.dryRun) await recordForgotten(repo, plan.remove, options.clock); // first: their numbers must stay taken
    for (const s of plan.remove) {
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
  } finally {
    await lock.release();
  }
}

/** The retention date of an object when it lies after `now`, else undefined. */
export async function lockedUntil(repo: Repository, key: string, now: Date): Promise<Date | undefined> {
  const until = (await repo.storage.head(key))?.retainUntil;
  return until && until > now ? until : undefined;
}

/** Deletes an object; when storage refuses because it is locked, returns the lock's date (or "unknown") instead of throwing. */
export async function deleteUnlessLocked(repo: Repository, key: string): Promise<string | undefined> {
  try {
    await repo.storage.delete(key);
    return undefined;
  } catch (err) {
    const e = err as { code?: string; retainUntil?: Date };
    if (e.code !== 'OBJECT_LOCKED') throw err;
    return e.retainUntil?.toISOString() ?? 'unknown';
  }
}
