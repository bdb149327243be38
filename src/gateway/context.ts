/** Everything a request handler of one gateway instance needs, passed explicitly (no module state). */
import type { GatewayConfig } from './config.js';
import type { GatewayMetrics } from './metrics.js';
import type { ResponseCache } from './response-cache.js';
import type { RetryBudget } from './retry-budget.js';
import type { UpstreamPool } from './upstream-pool.js';

export interface GatewayContext {
  readonly config: GatewayConfig;
  readonly pool: UpstreamPool;
  readonly budget: RetryBudget;
  readonly cache: ResponseCache | undefined;
  readonly metrics: GatewayMetrics;
  /** Epoch milliseconds; injected so tests of time-based behaviour can control it. */
  readonly now: () => number;
  readonly log: (line: string) => void;
}
