/**
 * Locks `locks/<id>`: sealed JSON { kind, operation, hostname, pid, created, refreshed }.
 *
 * Shared locks (backup, restore, check, copy) coexist; an exclusive lock (prune, key removal)
 * excludes everything. A lock is stale when its process is gone (same host, pid not alive) or
 * it has not been refreshed for STALE_AFTER_MS; stale locks are ignored and removed by
 * `lifeboat unlock`. Taking a lock writes it first and then looks for conflicts, so two
 * processes racing for an exclusive lock both see each other and at least one backs off.
 */
import { hostName, isoNow, systemClock } from '../base/clock.js';
import { LockedError } from './errors.js';
import { listIds, loadObject, objectKey, parseJson, saveObject, type Repository } from './repository.js';

export const STALE_AFTER_MS = 30 * 60 * 1000;
const REFRESH_EVERY_MS = 5 * 60 * 1000;

export interface LockInfo {
  kind: 'shared' | 'exclusive';
  operation: string;
  hostname: string;
  pid: number;
  created: string;
  refreshed: string;
}

export interface HeldLock {
  id: string;
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

export async function acquireLock(repo: Repository, kind: LockInfo['kind'], operation: string): Promise<HeldLock> {
  const now = isoNow();
  const info: LockInfo = { kind, operation, hostname: hostName(), pid: process.pid, created: now, refreshed: now };
  let id = await saveObject(repo, 'lock', Buffer.from(JSON.stringify(info)));
  const conflicts = (await listLocks(repo, id)).filter((other) => !isStale(other.lock) && (kind === 'exclusive' || other.lock.kind === 'exclusive'));
  if (conflicts.length > 0) {
    await repo.storage.delete(objectKey('lock', id));
    const c = conflicts[0].lock;
    throw new LockedError(
      `repository is locked ${c.kind === 'exclusive' ? 'exclusively ' : ''}by "${c.operation}" (pid ${c.pid} on ${c.hostname}, since ${c.created}); ` +
        `wait for it to finish, or if that process is gone run "lifeboat unlock"`,
    );
  }
  // Refresh so that a long backup is never taken for stale; the new lock replaces the old one.
  const timer = setInterval(async () => {
    const refreshed = { ...info, refreshed: isoNow() };
    const old = id;
    id = await saveObject(repo, 'lock', Buffer.from(JSON.stringify(refreshed)));
    await repo.storage.delete(objectKey('lock', old));
  }, REFRESH_EVERY_MS);
  timer.unref();
  return {
    get id() {
      return id;
    },
    async release() {
      clearInterval(timer);
      await repo.storage.delete(objectKey('lock', id));
    },
  };
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
