/**
 * The DR service `lifeboat serve` runs: the scheduler, a status document kept fresh (replica lag
 * and repository statistics are costly, so they are recomputed on a period and after jobs, and
 * served from memory with their age), alerts on every change of state, and a stream of events for
 * the API. It knows no HTTP: src/server puts it on the network.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { messageOf } from '../base/error-codes.js';
import { groupedStats, type Stats } from '../engine/inspect.js';
import { alertBody, conditionsOf, evaluateAlerts, type AlertState } from './alerts.js';
import type { JobEnv } from './backup-job.js';
import type { CatalogView } from './catalog.js';
import { coreExecutors } from './executors.js';
import { trySend } from './http-client.js';
import type { JobKind, JobRecord } from './jobs.js';
import type { Asset } from './plan.js';
import type { Report } from './reports.js';
import { rpoStatus } from './rpo.js';
import { startScheduler, type Executor, type RunningJob, type Scheduler, type SchedulerEvent } from './scheduler.js';
import type { ServeSettings } from './serve-config.js';
import { gatherStatus, type StatusDocument } from './status.js';
import { statsDocument, tierOf, type StatsDocument } from './tier-stats.js';
import { sourcePaths } from '../sources/config.js';

export type ServiceEvent = SchedulerEvent | { type: 'status'; status: StatusDocument };

export interface CachedStatus {
  status?: StatusDocument;
  /** When it was computed, epoch ms. */
  updatedAt?: number;
  /** Why the last refresh (or the scheduler's last look at the repository) failed, if it did (the previous document is still served). */
  error?: string;
  /** How often the status is recomputed (serve.status_every). */
  refreshEveryMs?: number;
  stats?: Stats;
  /** Stored and protected bytes per tier (GET /api/v1/stats). */
  usage?: StatsDocument;
  /** Every drill and recovery report, oldest first, as of the last refresh (GET /api/v1/drills). */
  reports?: Report[];
}

export interface DrService {
  readonly host: string;
  cached(): CachedStatus;
  /** The latest look at the repository: snapshots and job records. */
  view(): CatalogView;
  running(): RunningJob[];
  backupNow(asset: string): { accepted: boolean; reason?: string };
  subscribe(listener: (e: ServiceEvent) => void): () => void;
  stop(mode: 'finish' | 'interrupt'): Promise<void>;
}

export interface ServiceOptions {
  env: JobEnv;
  settings: ServeSettings;
  /** The catalog's sync of the primary. */
  sync(): Promise<CatalogView>;
  /** Executors beside the core ones (drills: they need the runbooks). */
  executors?: Partial<Record<JobKind, Executor>>;
  /** Where alert state is kept between restarts. */
  stateDir: string;
}

/** This host backs up an asset when its host: names this host, or, with no host:, when every source path exists here. */
export function ownsAsset(asset: Asset, host: string): boolean {
  if (asset.tier === 3 || !asset.source) return false;
  if (asset.host !== undefined) return asset.host === host;
  return sourcePaths(asset.source).every((p) => existsSync(p));
}

export async function startService(options: ServiceOptions): Promise<DrService> {
  const { env, settings } = options;
  const listeners = new Set<(e: ServiceEvent) => void>();
  const publish = (e: ServiceEvent) => {
    for (const l of listeners) l(e);
  };
  let latest: CatalogView = { snapshots: [], jobs: [] };
  const cache: CachedStatus = { refreshEveryMs: settings.statusEveryMs };
  const alertFile = path.join(options.stateDir, 'alerts.json');
  let alertState: AlertState = await readJson(alertFile);

  const sync = async () => (latest = await options.sync());

  let refreshing: Promise<void> | undefined;
  // Asked for while one runs (a job finished mid-refresh): that one may have read the repository before the job's record, so one more follows.
  let again = false;
  let stopped = false;
  let lastRefresh = 0;
  const refresh = (): Promise<void> => {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    return (refreshing = (async () => {
      try {
        const status = await gatherStatus(env.plan, env.access, { clock: env.clock, view: () => sync(), onReports: (r) => (cache.reports = r) });
        cache.status = status;
        cache.updatedAt = env.clock.now();
        cache.error = undefined;
        publish({ type: 'status', status });
        const snapshots = latest.snapshots;
        const { all, groups } = await groupedStats(await env.access.primary(), snapshots, (s) => String(tierOf(env.plan, s)));
        cache.stats = all;
        cache.usage = statsDocument(env.plan, env.access.primaryName, snapshots, all, groups, env.clock.now());
      } catch (err) {
        cache.error = messageOf(err);
        env.log(`status: ${cache.error}`);
      } finally {
        lastRefresh = env.clock.now();
        refreshing = undefined;
        if (again && !stopped) {
          again = false;
          void refresh();
        }
      }
    })());
  };

  async function alert(view: CatalogView, now: number): Promise<void> {
    const rpo = new Map(env.plan.assets.map((a) => [a.name, rpoStatus(a, view.snapshots, now).state]));
    const everyWebhook = [...new Set(env.plan.assets.flatMap((a) => a.policy.alerts.webhooks))];
    const { alerts, state } = evaluateAlerts(conditionsOf(env.plan.assets, rpo, view.jobs.map((j) => j.record)), alertState, now, everyWebhook);
    alertState = state;
    for (const a of alerts) {
      for (const url of a.webhooks) {
        const problem = await trySend(env.http, url, alertBody(a, env.host, now));
        if (problem) env.log(`alert ${a.event}: ${problem}`);
      }
    }
    await writeJson(alertFile, alertState).catch((err) => env.log(`cannot keep the alert state in ${alertFile}: ${messageOf(err)}`));
  }

  const scheduler: Scheduler = startScheduler({
    env,
    // A round that cannot read the repository refreshes nothing: the served status says why it is getting old.
    view: () =>
      sync().catch((err: unknown) => {
        cache.error = messageOf(err);
        throw err;
      }),
    executors: { ...coreExecutors(env), ...options.executors },
    ownsAsset: (a) => ownsAsset(a, env.host),
    maxJobs: settings.maxJobs,
    periods: { retentionEveryMs: settings.retentionEveryMs, pruneEveryMs: settings.pruneEveryMs },
    leaseTtlMs: settings.leaseTtlMs,
    pollMs: Math.min(settings.pollMs, settings.statusEveryMs),
    onEvent: (e) => {
      publish(e);
      if (e.type === 'round') {
        void alert(e.view, e.now).catch((err) => env.log(`alerts: ${messageOf(err)}`));
        if (e.now - lastRefresh >= settings.statusEveryMs) void refresh();
      }
      if (e.type === 'finished') void refresh();
    },
  });
  void refresh();

  return {
    host: env.host,
    cached: () => cache,
    view: () => latest,
    running: () => scheduler.running(),
    backupNow(name) {
      const asset = env.plan.assets.find((a) => a.name === name);
      if (!asset) return { accepted: false, reason: `no asset "${name}" in ${env.plan.file}` };
      if (asset.tier === 3) return { accepted: false, reason: `${name} is Tier 3: rebuilt from git, never backed up` };
      if (!ownsAsset(asset, env.host)) return { accepted: false, reason: `${name} is backed up by ${asset.host ?? 'a host that has its source'}, not by ${env.host}` };
      return { accepted: scheduler.backupNow(name) };
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop(mode) {
      await scheduler.stop(mode);
      stopped = true;
      await refreshing;
    },
  };
}

/** The most recent job records, newest first. */
export function recentJobs(view: CatalogView, limit = 50): JobRecord[] {
  return view.jobs.slice(-limit).map((j) => j.record).reverse();
}

async function readJson(file: string): Promise<AlertState> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as AlertState;
  } catch {
    return {};
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(value), { mode: 0o600 });
  await fs.rename(tmp, file);
}
