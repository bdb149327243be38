/**
 * A counting semaphore: at most `n` holders at once. The one limiter of the code base: the S3
 * backend bounds its requests in flight with it, the read-ahead its reads, the engine its files,
 * batches and fetches. A waiter given an AbortSignal stops waiting when it fires.
 */
import { abortReason } from '../base/errors.js';

export interface Limit {
  /** Waits for a free slot; call the returned function exactly once to give it back. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export function makeLimit(n: number): Limit {
  let active = 0;
  const waiting: Array<{ resolve(): void }> = [];

  function wait(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = waiting.indexOf(waiter);
        if (i >= 0) waiting.splice(i, 1);
        reject(abortReason(signal!));
      };
      const waiter = {
        resolve() {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async function acquire(signal?: AbortSignal): Promise<() => void> {
    if (active >= n) await wait(signal);
    else active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next waiter, so no newcomer can slip in between.
      const next = waiting.shift();
      if (next) next.resolve();
      else active--;
    };
  }

  return {
    acquire,
    async run(task, signal) {
      const release = await acquire(signal);
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
