/**
 * A retry budget in the manner of Envoy's: over a sliding window, retries (including failovers to the next
 * group) may add at most `budgetPercent` of the request count, with a floor of `minPerSecond` so a quiet
 * gateway can still fail over. During an outage this bounds the extra load to a fraction instead of
 * multiplying it by the number of attempts.
 */

export interface RetryBudgetPolicy {
  readonly budgetPercent: number;
  readonly minPerSecond: number;
}

const BUCKET_MS = 1000;
const BUCKETS = 10;

export interface RetryBudget {
  recordRequest(now: number): void;
  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(now: number): boolean;
  snapshot(now: number): { requests: number; retries: number; allowed: number };
}

export function createRetryBudget(policy: RetryBudgetPolicy): RetryBudget {
  const requests = new Array<number>(BUCKETS).fill(0);
  const retries = new Array<number>(BUCKETS).fill(0);
  let currentBucket = 0;

  // Zero the buckets that slid out of the window since the last call.
  const advance = (now: number): number => {
    const b = Math.floor(now / BUCKET_MS);
    if (b !== currentBucket) {
      const gap = Math.min(b - currentBucket, BUCKETS);
      for (let i = 1; i <= gap; i++) {
        requests[(currentBucket + i) % BUCKETS] = 0;
        retries[(currentBucket + i) % BUCKETS] = 0;
      }
      currentBucket = b;
    }
    return b % BUCKETS;
  };
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const allowed = () => Math.max(policy.minPerSecond * BUCKETS, (sum(requests) * policy.budgetPercent) / 100);

  return {
    recordRequest(now) {
      requests[advance(now)]++;
    },
    tryRetry(now) {
      const i = advance(now);
      if (sum(retries) >= allowed()) return false;
      retries[i]++;
      return true;
    },
    snapshot(now) {
      advance(now);
      return { requests: sum(requests), retries: sum(retries), allowed: Math.floor(allowed()) };
    },
  };
}
