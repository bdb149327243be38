/** A counting semaphore: at most `n` holders at once. */
export interface Limit {
  /** Waits for a free slot; call the returned function exactly once to give it back. */
  acquire(): Promise<() => void>;
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function makeLimit(n: number): Limit {
  let active = 0;
  const waiting: Array<() => void> = [];
  async function acquire(): Promise<() => void> {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else active--;
    };
  }
  return {
    acquire,
    async run(task) {
      const release = await acquire();
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
