/** Prometheus metrics of one gateway instance, in its own registry (no process-global state). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { UpstreamView } from './upstream-pool.js';

export interface GatewayMetrics {
  readonly registry: Registry;
  request(route: string, status: number, endpoint: string, seconds: number): void;
  upstreamLatency(upstream: string, seconds: number): void;
  failover(from: string, to: string): void;
  retryDenied(): void;
  cacheLookup(hit: boolean): void;
}

export function createMetrics(views: () => UpstreamView[], cacheStats: () => { entries: number; bytes: number }): GatewayMetrics {
  const registry = new Registry();
  const requests = new Counter({ name: 'lifeboat_gateway_requests_total', help: 'Requests answered, by route (primary|standby|degraded|cache|none), HTTP status and endpoint.', labelNames: ['route', 'status', 'endpoint'], registers: [registry] });
  const duration = new Histogram({
    name: 'lifeboat_gateway_request_duration_seconds',
    help: 'Time from request to the end of the response, by route.',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: 'lifeboat_gateway_upstream_response_seconds',
    help: 'Time until an upstream sent its response headers.',
    labelNames: ['upstream'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const failovers = new Counter({ name: 'lifeboat_gateway_failovers_total', help: 'Requests that moved on to another upstream after a failure, by the routes left and taken.', labelNames: ['from', 'to'], registers: [registry] });
  const retryDenied = new Counter({ name: 'lifeboat_gateway_retry_budget_exhausted_total', help: 'Retries refused because the retry budget was spent.', registers: [registry] });
  const cacheHits = new Counter({ name: 'lifeboat_gateway_cache_hits_total', help: 'Cache lookups that found an answer.', registers: [registry] });
  const cacheMisses = new Counter({ name: 'lifeboat_gateway_cache_misses_total', help: 'Cache lookups that found nothing.', registers: [registry] });
  let hits = 0;
  let lookups = 0;
  new Gauge({
    name: 'lifeboat_gateway_cache_hit_ratio',
    help: 'Cache hits / lookups since start.',
    registers: [registry],
    collect() {
      this.set(lookups ? hits / lookups : 0);
    },
  });
  new Gauge({
    name: 'lifeboat_gateway_cache_entries',
    help: 'Answers held in the response cache.',
    registers: [registry],
    collect() {
      this.set(cacheStats().entries);
    },
  });
  new Gauge({
    name: 'lifeboat_gateway_upstream_available',
    help: '1 when the upstream takes traffic (healthy, not ejected, not drained).',
    labelNames: ['upstream', 'group', 'route'],
    registers: [registry],
    collect() {
      this.reset();
      for (const v of views()) this.set({ upstream: v.name, group: v.group, route: v.route }, v.available ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lifeboat_gateway_upstream_healthy',
    help: '1 when the active health checks pass.',
    labelNames: ['upstream', 'group'],
    registers: [registry],
    collect() {
      this.reset();
      for (const v of views()) this.set({ upstream: v.name, group: v.group }, v.healthy ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lifeboat_gateway_upstream_in_flight',
    help: 'Requests in flight per upstream.',
    labelNames: ['upstream'],
    registers: [registry],
    collect() {
      this.reset();
      for (const v of views()) this.set({ upstream: v.name }, v.inFlight);
    },
  });

  return {
    registry,
    request: (route, status, endpoint, seconds) => {
      requests.inc({ route, status: String(status), endpoint });
      duration.observe({ route }, seconds);
    },
    upstreamLatency: (upstream, seconds) => upstreamDuration.observe({ upstream }, seconds),
    failover: (from, to) => failovers.inc({ from, to }),
    retryDenied: () => retryDenied.inc(),
    cacheLookup: (hit) => {
      lookups++;
      if (hit) {
        hits++;
        cacheHits.inc();
      } else cacheMisses.inc();
    },
  };
}
