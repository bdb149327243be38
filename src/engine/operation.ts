/**
 * What every engine operation shares: how it is stopped and how it holds its lock.
 *
 * An operation takes an AbortSignal (SIGINT/SIGTERM in the CLI, a scheduler's timeout) and runs
 * under a repository lock whose own signal fires when the lock cannot be refreshed in time. The
 * two are one signal for the work; the repository the work gets has its storage bound to it
 * (storage/abortable.ts), so every request stops, retries included. The work stops at its next
 * safe point and the operation throws the signal's reason (AbortedError, or LockLostError); the
 * lock is released after the work has settled, whatever happened.
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../base/clock.js';
import { abortReason, throwIfAborted } from '../base/errors.js';
import { acquireLock, type HeldLock, type LockInfo } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import { abortable } from '../storage/abortable.js';
import type { DirectIo } from './page-cache.js';

export interface OperationOptions {
  /** Stops the operation at its next safe point; it then throws the signal's reason. */
  signal?: AbortSignal;
  /** Times the lock's refreshes (and what the operation records); the system clock by default. */
  clock?: Clock;
  /** Notes for people: files left out, a lock refresh that failed. */
  onWarning?: (message: string) => void;
  /** Restored files and local packs: through the page cache or around it (page-cache.ts); auto by default. */
  directIo?: DirectIo;
}

/** What the work of an operation gets once its lock is held. */
export interface Held {
  /** The repository, every storage request of it bound to `signal`. */
  repo: Repository;
  /** The caller's signal and the lock's, as one. */
  signal: AbortSignal;
}

/** Runs `work` under a lock of `kind`; see the module comment. */
export async function underLock<T>(repo: Repository, kind: LockInfo['kind'], operation: string, options: OperationOptions, work: (held: Held) => Promise<T>): Promise<T> {
  throwIfAborted(options.signal);
  const lock = await acquireLock(repo, kind, operation, { clock: options.clock, onWarning: options.onWarning });
  try {
    const signal = withLockSignal(options.signal, lock);
    return await stoppable(signal, () => work({ repo: bindSignal(repo, signal), signal }));
  } finally {
    await releaseLock(lock, options.onWarning);
  }
}

/** The caller's signal (if any) and the lock's, as one. */
function withLockSignal(signal: AbortSignal | undefined, lock: HeldLock): AbortSignal {
  return anySignal(signal ? [signal, lock.signal] : [lock.signal]);
}

/**
 * A signal that fires with the first of `signals`. Every waiter of an operation (a file, a fetch,
 * a request) listens to it, so it has no listener limit (Node warns past 10 by default).
 */
export function anySignal(signals: AbortSignal[]): AbortSignal {
  const signal = AbortSignal.any(signals);
  setMaxListeners(0, signal);
  return signal;
}

/** The repository with every storage request bound to `signal`. */
export function bindSignal(repo: Repository, signal: AbortSignal | undefined): Repository {
  return signal ? { ...repo, storage: abortable(repo.storage, signal) } : repo;
}

/**
 * Runs `work`; when it fails after `signal` fired, the failure is the signal's reason (the work's
 * own error then is only a consequence: a request given up, a pool closed).
 */
export async function stoppable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  try {
    throwIfAborted(signal);
    return await work();
  } catch (err) {
    throw signal.aborted ? abortReason(signal) : err;
  }
}

/** The first failure of an operation's parallel work, and the signal that stops the rest of it. */
export interface FailFast {
  /** The operation's signal, and fired at the first failure. */
  readonly signal: AbortSignal;
  /** Records a failure; the first one stops the other tasks. */
  fail(err: unknown): void;
  /** Runs `work`; a failure of it after one was recorded is that first failure (not a task stopped because of it). */
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function failFast(signal: AbortSignal): FailFast {
  const failed = new AbortController();
  let first: { err: unknown } | undefined;
  return {
    signal: anySignal([signal, failed.signal]),
    fail(err) {
      if (first) return;
      first = { err };
      failed.abort(err);
    },
    async run(work) {
      try {
        return await work();
      } catch (err) {
        throw first ? first.err : err;
      }
    },
  };
}

/**
 * Releases the lock. A lock that cannot be deleted (the storage unreachable) is not the
 * operation's failure: it is reported, and it is stale once this process has ended.
 */
export async function releaseLock(lock: HeldLock, onWarning?: (message: string) => void): Promise<void> {
  await lock.release().catch((err: Error) => {
    onWarning?.(`could not remove the lock ${lock.id.slice(0, 12)} (${err.message}): it counts as stale once this process has ended, and "lifeboat unlock" removes it`);
  });
}

/**
 * Waits for every task and then throws the first failure, if any: an operation that fails or is
 * stopped returns only once nothing of it is still running (no file still being written, no
 * request still in flight), so its lock is released last. `onFailure` runs at the first failure,
 * to stop the other tasks early.
 */
export async function settleAll<T>(tasks: Array<Promise<T>>, onFailure?: (err: unknown) => void): Promise<T[]> {
  let failed = false;
  let first: unknown;
  const results = await Promise.all(
    tasks.map((task) =>
      task.catch((err: unknown) => {
        if (!failed) {
          failed = true;
          first = err;
          onFailure?.(err);
        }
        return undefined as T;
      }),
    ),
  );
  if (failed) throw first;
  return results;
}
