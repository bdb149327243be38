/**
 * Assembles and runs one gateway: upstream pool, health checker, retry budget, response cache (loaded
 * from and saved to its file), metrics and the HTTP server. `close()` stops it gracefully.
 */
import { systemClock } from '../base/clock.js';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { readCacheFile, writeCacheFile } from './cache-file.js';
import { readWarmFile, warmCache } from './cache-warm.js';
import type { GatewayConfig } from './config.js';
import type { GatewayContext } from './context.js';
import { GatewayListenError } from './errors.js';
import { startHealthChecker, type HealthChecker } from './health-checker.js';
import { createMetrics } from './metrics.js';
import { createResponseCache, type ResponseCache } from './response-cache.js';
import { createRetryBudget } from './retry-budget.js';
import { createGatewayServer } from './server.js';
import { createUpstreamPool } from './upstream-pool.js';

export interface GatewayOptions {
  /** Overrides config.listen (port 0 picks a free port). */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly now?: () => number;
  readonly log?: (line: string) => void;
  /** How long close() lets in-flight requests finish before cutting them. */
  readonly drainMs?: number;
}

export interface Gateway {
  /** Base URL, e.g. http://127.0.0.1:8089 */
  readonly url: string;
  readonly ctx: GatewayContext;
  readonly health: HealthChecker;
  /** Resolves when the warm_file (if any) has been asked of the upstreams. */
  readonly warmed: Promise<void>;
  /** Writes the cache file now (also done a second after each change and at close). */
  saveCache(): Promise<void>;
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const now = opts.now ?? systemClock.now;
  const log = opts.log ?? (() => {});
  const cacheCfg = config.cache;
  let saveTimer: NodeJS.Timeout | undefined;
  let cache: ResponseCache | undefined;
  const saveCache = async () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = undefined;
    if (cache && cacheCfg?.path) await writeCacheFile(cacheCfg.path, cache.entries());
  };
  if (cacheCfg) {
    cache = createResponseCache(cacheCfg, () => {
      if (!cacheCfg.path || saveTimer) return;
      saveTimer = setTimeout(() => void saveCache().catch((e: Error) => log(`cannot save the cache to ${cacheCfg.path}: ${e.message}`)), 1000);
      saveTimer.unref();
    });
    if (cacheCfg.path) cache.restore(await readCacheFile(cacheCfg.path), now());
  }
  const pool = createUpstreamPool(config, now(), log);
  const budget = createRetryBudget(config.retries);
  const metrics = createMetrics(() => pool.view(now()), () => cache?.stats() ?? { entries: 0, bytes: 0 });
  const ctx: GatewayContext = { config, pool, budget, cache, metrics, now, log };
  const health = startHealthChecker(pool, { intervalMs: config.healthCheck.intervalMs, timeoutMs: config.healthCheck.timeoutMs, now });
  const server = createGatewayServer(ctx);
  const listen = opts.listen ?? config.listen;
  try {
    await listenOn(server, listen.host, listen.port);
  } catch (e) {
    health.stop();
    pool.close();
    throw new GatewayListenError(`cannot listen on ${listen.host}:${listen.port}: ${(e as Error).message}; pick another address with --listen`, { cause: e });
  }
  const firstProbes = health.probeAll();
  const warmFile = cacheCfg?.warmFile;
  const warmed = warmFile
    ? firstProbes
        .then(() => readWarmFile(warmFile))
        .then((qs) => warmCache(ctx, qs))
        .then((r) => log(`cache warmed from ${warmFile}: ${r.warmed} answers stored, ${r.failed.length} failed`))
        .catch((e: Error) => log(`cache warm from ${warmFile} failed: ${e.message}`))
    : firstProbes;
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    ctx,
    health,
    warmed,
    saveCache,
    async close() {
      health.stop();
      await closeServer(server, opts.drainMs ?? 5000);
      pool.close();
      await saveCache();
    },
  };
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), drainMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
