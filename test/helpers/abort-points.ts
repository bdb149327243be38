/**
 * Stopping an operation at chosen points: the n-th storage request it makes. Aborting at the
 * requests covers every step at which an operation changes the repository (each write, each
 * delete) and every read before them. Points are drawn from a seeded generator, so a failure is
 * reproduced by its seed (LIFEBOAT_TEST_SEED, printed by the tests).
 */
import { isAbort } from '../../src/base/errors.js';
import type { Repository } from '../../src/repo/repository.js';
import { rng } from '../repo/tensor-fixtures.js';
import { faultyStorage } from './faulty-storage.js';

export const SEED = Number(process.env.LIFEBOAT_TEST_SEED ?? 20261202);

/** A seeded generator of numbers in [0, 1) (the tensor tests' mulberry32). */
export const seededRandom = rng;

/** `count` distinct request numbers in 1..total, sorted, drawn by `random`. */
export function abortPoints(random: () => number, total: number, count: number): number[] {
  const points = new Set<number>();
  while (points.size < Math.min(count, total)) points.add(1 + Math.floor(random() * total));
  return [...points].sort((a, b) => a - b);
}

/** How an operation given a signal ended. */
export type Outcome<T> = { aborted: true; error: unknown; requests: number } | { aborted: false; result: T; requests: number };

/**
 * Runs `run` on the repositories (their storage requests counted together) with a signal that
 * fires at request number `at` (0: never): before the request is sent when `inFlight` is false,
 * else just after it is sent. An abort must end in the signal's reason; any other failure fails.
 */
export async function runAbortedAt<T>(repos: Repository[], at: number, inFlight: boolean, run: (repos: Repository[], signal: AbortSignal) => Promise<T>): Promise<Outcome<T>> {
  const controller = new AbortController();
  let n = 0;
  const wrapped = repos.map((repo) => ({
    ...repo,
    storage: faultyStorage(repo.storage, () => {
      if (++n !== at) return;
      if (inFlight) setImmediate(() => controller.abort());
      else controller.abort();
    }).storage,
  }));
  try {
    const result = await run(wrapped, controller.signal);
    return { aborted: false, result, requests: n };
  } catch (error) {
    if (!controller.signal.aborted || !isAbort(error)) throw error;
    return { aborted: true, error, requests: n };
  }
}
