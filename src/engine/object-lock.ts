/**
 * Deleting under Object Lock: what forget, prune and repair index share. An object under
 * retention stays; the caller reports it with the date it can go, instead of failing.
 */
import type { Repository } from '../repo/repository.js';
import { ObjectLockedError } from '../storage/s3-errors.js';

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
    if (!(err instanceof ObjectLockedError)) throw err;
    return err.retainUntil?.toISOString() ?? 'unknown';
  }
}
