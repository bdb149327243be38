/** Bounds how many requests of one repository are in flight at once (a counting semaphore). */

export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(maxInFlight: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= maxInFlight) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
