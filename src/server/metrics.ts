/**
 * Prometheus metrics of `lifeboat serve`, in its own registry, computed at scrape time from what
 * the service knows (the repository's snapshots and job records, the cached status): a restarted
 * serve reports the same history, and a second site's serve the same too. Names follow
 * Prometheus conventions and Velero's where they mean the same (velero_backup_last_successful_
 * timestamp, velero_backup_duration_seconds, velero_backup_total).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobRecord } from '../control/jobs.js';
import type { Stats } from '../engine/inspect.js';
import type { DrService } from '../control/service.js';
import { rpoStatus, type RpoStatus } from '../control/rpo.js';
import type { Asset, DrPlan } from '../control/plan.js';
import { verified } from '../control/status.js';

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200];

export function createServeMetrics(plan: DrPlan, service: DrService, clock: { now(): number }): Registry {
  const registry = new Registry();
  const assets = () => plan.assets.filter((a) => a.tier !== 3);
  const records = () => service.view().jobs.map((j) => j.record);
  const tierOf = (name: string | undefined) => String(plan.assets.find((a) => a.name === name)?.tier ?? '');
  const backups = () => records().filter((r) => r.kind === 'backup' && r.asset !== undefined);

  /** A gauge per backed-up asset, from its RPO status now; `value` undefined leaves the asset out. */
  const assetGauge = (name: string, help: string, value: (a: Asset, s: RpoStatus) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['asset', 'tier'],
      registers: [registry],
      collect() {
        this.reset();
        const now = clock.now();
        for (const a of assets()) {
          const v = value(a, rpoStatus(a, service.view().snapshots, now));
          if (v !== undefined) this.set({ asset: a.name, tier: String(a.tier) }, v);
        }
      },
    });

  assetGauge('lifeboat_backup_last_success_timestamp_seconds', 'Time of the newest complete snapshot of the asset (Unix seconds); absent when it has none.', (_, s) => (s.lastGood ? Date.parse(s.lastGood.snapshot.time) / 1000 : undefined));
  new Histogram({
    name: 'lifeboat_backup_duration_seconds',
    help: 'How long the backups of each asset took, from their job records.',
    labelNames: ['asset', 'tier'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of backups().filter((x) => x.result === 'ok')) this.observe({ asset: r.asset!, tier: tierOf(r.asset) }, seconds(r));
    },
  });
  new Counter({
    name: 'lifeboat_backup_total',
    help: 'Backups recorded in the repository, by asset and result (ok, failed, interrupted).',
    labelNames: ['asset', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of backups()) this.inc({ asset: r.asset!, result: r.result });
    },
  });
  new Gauge({
    name: 'lifeboat_backup_added_bytes',
    help: 'Stored bytes the newest successful backup of the asset added to the repository.',
    labelNames: ['asset', 'tier'],
    registers: [registry],
    collect() {
      this.reset();
      const newest = new Map<string, JobRecord>();
      for (const r of backups()) if (r.result === 'ok' && (newest.get(r.asset!)?.finishedAt ?? '') < r.finishedAt) newest.set(r.asset!, r);
      for (const [asset, r] of newest) this.set({ asset, tier: tierOf(asset) }, Number(r.details.newStoredBytes ?? 0));
    },
  });
  assetGauge('lifeboat_asset_rpo_seconds', 'The recovery point objective of the asset.', (a) => a.policy.rpoMs / 1000);
  assetGauge('lifeboat_asset_backup_age_seconds', 'Age of the newest complete snapshot of the asset; absent when it has none.', (_, s) => (s.ageMs === undefined ? undefined : s.ageMs / 1000));
  assetGauge('lifeboat_asset_rpo_violated', '1 when the asset is past its RPO or was never backed up, else 0.', (_, s) => (s.state === 'violated' || s.state === 'never' ? 1 : 0));
  const replicaGauge = (name: string, help: string, pick: (r: { lag_seconds: number | null; pending_bytes: number | null }) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['asset', 'replica'],
      registers: [registry],
      collect() {
        this.reset();
        for (const a of service.cached().status?.assets ?? []) {
          for (const r of a.replicas) {
            const v = pick(r);
            if (v !== null) this.set({ asset: a.name, replica: r.repository }, v);
          }
        }
      },
    });
  replicaGauge('lifeboat_replica_lag_seconds', 'Age of the newest snapshot of the asset the replica lacks (0: in sync), as of the last status refresh.', (r) => r.lag_seconds);
  replicaGauge('lifeboat_replica_lag_bytes', 'Stored bytes a copy would still send to the replica for the asset.', (r) => r.pending_bytes);
  new Gauge({
    name: 'lifeboat_verification_last_result',
    help: '1 when the newest verification found no damage, 0 when it found some; absent before the first.',
    registers: [registry],
    collect() {
      this.reset();
      const last = records().filter(verified).at(-1);
      if (last) this.set(last.result === 'ok' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'lifeboat_verification_last_timestamp_seconds',
    help: 'When the newest verification finished (Unix seconds).',
    registers: [registry],
    collect() {
      this.reset();
      const last = records().filter(verified).at(-1);
      if (last) this.set(Date.parse(last.finishedAt) / 1000);
    },
  });
  const statsGauge = (name: string, help: string, pick: (s: Stats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const s = service.cached().stats;
        if (s) this.set(pick(s));
      },
    });
  statsGauge('lifeboat_repository_stored_bytes', 'Stored (compressed, encrypted) bytes of every blob the snapshots reference, as of the last status refresh.', (s) => s.storedBytes);
  statsGauge('lifeboat_repository_dedup_ratio', 'Bytes of the files in all snapshots per byte of distinct data (before compression).', (s) => s.dedupRatio);
  new Gauge({
    name: 'lifeboat_jobs_running',
    help: 'Jobs this serve is running, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const j of service.running()) this.inc({ kind: j.kind });
    },
  });
  return registry;
}

function seconds(r: JobRecord): number {
  return Math.max(0, (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000);
}
