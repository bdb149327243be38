/**
 * Locks `locks/<id>`: sealed JSON { kind, operation, hostname, pid, created, refreshed }.
 *
 * Shared locks (backup, restore, check, copy) coexist; an exclusive lock (prune, key removal)
 * excludes everything. A lock is stale when its process is gone (same host, pid not alive) or
 * it has not been refreshed for STALE_AFTER_MS; stale locks are ignored and removed by
 * `lifeboat unlock`. Taking a lock writes it first and then looks for conflicts, so two
 * processes racing for an exclusive lock both see each other and at least one backs off.
 *
 * A held lock is refreshed every REFRESH_EVERY_MS. A refresh that fails is retried with backoff
 * and reported; when no refresh has succeeded for GIVE_UP_AFTER_MS (STALE_AFTER_MS less a margin
 * for clock skew and for stopping), the lock's signal fires with LockLostError, and the operation
 * holding it stops (restic cancels its lock's context the same way): another host may take the
 * lock for stale from then on, and a prune there must not meet a backup still writing here.
 */
import { hostName, isoNow, systemClock, type Clock } from '../base/clock.js';
import { LockedError, LockLostError } from './errors.js';
import { parseJson } from './json.js';
import { listIds, loadObject, objectKey, saveObject, type Repository } from './repository.js';

export const STALE_AFTER_MS = 30 * 60 * 1000;
export const REFRESH_EVERY_MS = 5 * 60 * 1000;
/** A holder gives its lock up this long before others may take it for stale (clock skew, time to stop). */
export const GIVE_UP_AFTER_MS = STALE_AFTER_MS - 5 * 60 * 1000;
/** Waits between the attempts of a failing refresh: 10 s, doubling, at most 2 minutes. */
const RETRY_FIRST_MS = 10_000;
const RETRY_MAX_MS = 120_000;

export interface LockInfo {
  kind: 'shared' | 'exclusive';
  operation: string;
  hostname: string;
  pid: number;
  created: string;
  refreshed: string;
}

export interface LockOptions {
  /** Times the refreshes and the deadline; the system clock by default. */
  clock?: Clock;
  /** Each failed refresh (what failed, when the next attempt is, when the lock is given up), and the release's failure. */
  onWarning?: (message: string) => void;
}

export interface HeldLock {
  readonly id: string;
  /** Fires with LockLostError when the lock could not be refreshed in time: stop the operation. */
  readonly signal: AbortSignal;
  /** Stops refreshing and deletes the lock (after a refresh in flight has settled, so none is left behind). */
  release(): Promise<void>;
}

export function isStale(lock: LockInfo, now = systemClock.now()): boolean {
  if (lock.hostname === hostName() && !processAlive(lock.pid)) return true;
  return now - Date.parse(lock.refreshed) > STALE_AFTER_MS;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The repository's locks, but for `except` (a lock of ours, which need not be read back). */
export async function listLocks(repo: Repository, except?: string): Promise<Array<{ id: string; lock: LockInfo }>> {
  const out: Array<{ id: string; lock: LockInfo }> = [];
  for (const id of await listIds(repo.storage, 'lock')) {
    if (id === except) continue;
    try {
      out.push({ id, lock: parseJson<LockInfo>(await loadObject(repo, 'lock', id), `lock ${id.slice(0, 8)}`) });
    } catch {
      // A lock removed while listing, or unreadable: it cannot protect anything.
    }
  }
  return out;
}

export async function acquireLock(repo: Repository, kind: LockInfo['kind'], operation: string, options: LockOptions = {}): Promise<HeldLock> {
  const clock = options.clock ?? systemClock;
  const now = isoNow(clock);
  const info: LockInfo = { kind, operation, hostname: hostName(), pid: process.pid, created: now, refreshed: now };
  const id = await saveObject(repo, 'lock', Buffer.from(JSON.stringify(info)));
  const conflicts = (await listLocks(repo, id)).filter((other) => !isStale(other.lock, clock.now()) && (kind === 'exclusive' || other.lock.kind === 'exclusive'));
  if (conflicts.length > 0) {
    await repo.storage.delete(objectKey('lock', id));
    const c = conflicts[0].lock;
    throw new LockedError(
      `repository is locked ${c.kind === 'exclusive' ? 'exclusively ' : ''}by "${c.operation}" (pid ${c.pid} on ${c.hostname}, since ${c.created}); ` +
        `wait for it to finish, or if that process is gone run "lifeboat unlock"`,
    );
  }
  return keepFresh(repo, info, id, clock, options.onWarning ?? (() => {}));
}

/** The held lock: refreshed in the background until released, its signal fired when it is lost. */
function keepFresh(repo: Repository, info: LockInfo, firstId: string, clock: Clock, warn: (message: string) => void): HeldLock {
  let id = firstId;
  /** Old lock objects whose deletion failed: tried again at each refresh and at release. */
  const leftovers = new Set<string>();
  let refreshedAt = clock.now();
  const stop = new AbortController();
  const lost = new AbortController();
  const where = repo.storage.location;

  async function refresh(): Promise<void> {
    const at = clock.now();
    const fresh = await saveObject(repo, 'lock', Buffer.from(JSON.stringify({ ...info, refreshed: isoNow(clock) })));
    leftovers.add(id);
    id = fresh;
    refreshedAt = at;
    for (const old of leftovers) {
      // A lock object we could not delete only stays until it is stale: it blocks nothing new.
      await repo.storage.delete(objectKey('lock', old)).then(() => leftovers.delete(old), () => {});
    }
  }

  /** Refreshes every REFRESH_EVERY_MS; a failed refresh is retried sooner, with backoff, until the lock is lost. */
  async function refreshing(): Promise<void> {
    for (let failures = 0; !lost.signal.aborted; ) {
      await clock.sleep(failures === 0 ? REFRESH_EVERY_MS : retryDelay(failures), stop.signal);
      if (lost.signal.aborted) return; // given up meanwhile: the operation is stopping
      try {
        await refresh();
        failures = 0;
      } catch (err) {
        if (stop.signal.aborted) return;
        failures++;
        const retry = retryDelay(failures);
        const giveUp = new Date(refreshedAt + GIVE_UP_AFTER_MS).toISOString();
        warn(`could not refresh the lock on ${where} (attempt ${failures}): ${(err as Error).message}; trying again in ${retry / 1000} s, the operation stops if none succeeds by ${giveUp}`);
      }
    }
  }

  /** Fires `lost` once GIVE_UP_AFTER_MS pass without a successful refresh. */
  async function watching(): Promise<void> {
    for (;;) {
      const left = refreshedAt + GIVE_UP_AFTER_MS - clock.now();
      if (left <= 0) break;
      await clock.sleep(left, stop.signal);
    }
    const minutes = Math.round(GIVE_UP_AFTER_MS / 60_000);
    const err = new LockLostError(
      `the lock on ${where} could not be refreshed for ${minutes} minutes, so other hosts may soon take it for stale: ` +
        `the operation stopped at a safe point (what it wrote stays valid). Check that the repository's storage is reachable, then run the command again`,
    );
    warn(err.message);
    lost.abort(err);
  }

  // Both loops end by stop (their sleeps reject): nothing here can become an unhandled rejection.
  const loops = Promise.allSettled([refreshing(), watching()]);
  return {
    get id() {
      return id;
    },
    signal: lost.signal,
    async release() {
      stop.abort();
      await loops;
      for (const old of [id, ...leftovers]) await repo.storage.delete(objectKey('lock', old));
    },
  };
}

/** The wait before the next attempt after `failures` failed refreshes in a row. */
function retryDelay(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (failures - 1));
}

/** Removes stale locks (or all, with `all`); returns how many were removed. */
export async function removeLocks(repo: Repository, all = false): Promise<number> {
  let removed = 0;
  for (const { id, lock } of await listLocks(repo)) {
    if (all || isStale(lock)) {
      await repo.storage.delete(objectKey('lock', id));
      removed++;
    }
  }
  return removed;
}
