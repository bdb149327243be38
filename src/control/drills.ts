/**
 * Drills, as pure functions of the plan, the report history and the time: which asset to drill
 * (random, seedable, weighted toward the least recently drilled), an asset's last drill (for
 * `lifeboat status`), and the trend of measured recovery times (`lifeboat drill history`).
 */
import { mulberry32 } from '../base/seeded-random.js';
import type { JobOutcome } from './jobs.js';
import type { Asset } from './plan.js';
import type { Report, Verdict } from './reports.js';

const DAY = 86_400_000;
/** An asset whose tier does not drill it on a schedule still ages as if drilled quarterly. */
const DEFAULT_INTERVAL_MS = 90 * DAY;
/** A drill overdue by this many intervals (or never drilled) weighs the most: 1 + MAX_STALENESS. */
const MAX_STALENESS = 3;

export interface DrillWeight {
  asset: string;
  weight: number;
  last_drill_at: string | null;
}

export interface DrillPick {
  asset: string;
  seed: number;
  /** Every candidate with its weight, for the report and `--dry-run`. */
  weights: DrillWeight[];
}

/**
 * Picks one of `assets` to drill. An asset's weight is 1 plus how many of its drill intervals
 * have passed since its last drill (capped at 3; never drilled counts as 3), so a recently
 * drilled asset is still picked sometimes, and an overdue one four times as often. The same
 * assets, history, seed and time give the same pick. Undefined when there is no asset.
 */
export function pickDrill(assets: readonly Asset[], history: readonly Report[], seed: number, now: number): DrillPick | undefined {
  if (assets.length === 0) return undefined;
  const sorted = [...assets].sort((a, b) => a.name.localeCompare(b.name));
  const weights = sorted.map((asset): DrillWeight => {
    const last = lastDrill(history, asset.name);
    const interval = asset.policy.drillEveryMs > 0 ? asset.policy.drillEveryMs : DEFAULT_INTERVAL_MS;
    const staleness = last ? Math.max(0, now - Date.parse(last.started_at)) / interval : MAX_STALENESS;
    return { asset: asset.name, weight: 1 + Math.min(staleness, MAX_STALENESS), last_drill_at: last?.started_at ?? null };
  });
  const total = weights.reduce((s, w) => s + w.weight, 0);
  let point = mulberry32(seed)() * total;
  const chosen = weights.find((w) => (point -= w.weight) < 0) ?? weights[weights.length - 1];
  return { asset: chosen.asset, seed, weights };
}

function lastDrill(reports: readonly Report[], asset: string): Report | undefined {
  let last: Report | undefined;
  for (const r of reports) if (r.mode === 'drill' && r.asset === asset && (!last || r.started_at > last.started_at)) last = r;
  return last;
}

/** An asset's last drill as `lifeboat status` shows it. */
export interface DrillStatus {
  id: string;
  at: string;
  verdict: Verdict;
  measured_seconds: number;
  target_seconds: number;
  /** The step that failed, when the verdict is failed (null: the preflight). */
  failed_step: string | null;
}

export function latestDrill(reports: readonly Report[], asset: string): DrillStatus | undefined {
  const r = lastDrill(reports, asset);
  if (!r) return undefined;
  return { id: r.id, at: r.finished_at, verdict: r.verdict, measured_seconds: r.total_seconds, target_seconds: r.rto_seconds, failed_step: failedStep(r) };
}

function failedStep(r: Report): string | null {
  if (r.verdict !== 'failed') return null;
  return r.steps.find((s) => s.status === 'failed' && s.on_failure === 'stop')?.name ?? null;
}

export interface DrillRun {
  id: string;
  started_at: string;
  total_seconds: number;
  /** The RTO the run was measured against (the target may change over time). */
  rto_seconds: number;
  verdict: Verdict;
  /** The step that stopped a failed run (null: the preflight, or the run did not fail). */
  failed_step: string | null;
}

export interface AssetDrillHistory {
  asset: string;
  /** The tier of its newest drill. */
  tier: number;
  rto_seconds: number;
  runs: DrillRun[];
  /** The last completed drill against the median of the ones before it: within 10% is steady. */
  trend: 'faster' | 'slower' | 'steady' | null;
  change_percent: number | null;
}

/** Each asset's drills, oldest first, with the trend of the measured times (failed drills measure nothing). */
export function drillHistory(reports: readonly Report[], asset?: string): AssetDrillHistory[] {
  const byAsset = new Map<string, Report[]>();
  for (const r of reports) {
    if (r.mode !== 'drill' || (asset !== undefined && r.asset !== asset)) continue;
    byAsset.set(r.asset, [...(byAsset.get(r.asset) ?? []), r]);
  }
  return [...byAsset.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, runs]) => {
      runs.sort((a, b) => a.started_at.localeCompare(b.started_at));
      const measured = runs.filter((r) => r.verdict !== 'failed').map((r) => r.total_seconds);
      const { trend, change } = trendOf(measured);
      return {
        asset: name,
        tier: runs[runs.length - 1].tier,
        rto_seconds: runs[runs.length - 1].rto_seconds,
        runs: runs.map((r) => ({ id: r.id, started_at: r.started_at, total_seconds: r.total_seconds, rto_seconds: r.rto_seconds, verdict: r.verdict, failed_step: failedStep(r) })),
        trend,
        change_percent: change,
      };
    });
}

function trendOf(times: number[]): { trend: AssetDrillHistory['trend']; change: number | null } {
  if (times.length < 2) return { trend: null, change: null };
  const earlier = [...times.slice(0, -1)].sort((a, b) => a - b);
  const mid = earlier.length / 2;
  const median = earlier.length % 2 ? earlier[Math.floor(mid)] : (earlier[mid - 1] + earlier[mid]) / 2;
  if (median <= 0) return { trend: null, change: null };
  const change = Math.round(((times[times.length - 1] - median) / median) * 1000) / 10;
  return { trend: change > 10 ? 'slower' : change < -10 ? 'faster' : 'steady', change };
}

/** The assets a drill may pick: backed up (Tier 1 or 2, with a source), of `tier` (default 1) or the one named. */
export function drillCandidates(assets: readonly Asset[], filter: { tier?: number; asset?: string } = {}): Asset[] {
  const drillable = assets.filter((a) => a.tier !== 3 && a.source !== undefined);
  if (filter.asset !== undefined) return drillable.filter((a) => a.name === filter.asset);
  return drillable.filter((a) => a.tier === (filter.tier ?? 1));
}

/** A drill's report as a job's outcome (serve's drills and `lifeboat drill` record the same): failed when the drill failed. */
export function drillOutcome(report: Report): JobOutcome {
  const details = { tier: report.tier, asset: report.asset, seed: report.seed ?? null, report: report.id, verdict: report.verdict, total_seconds: report.total_seconds, rto_seconds: report.rto_seconds };
  if (report.verdict === 'failed') return { result: 'failed', details, error: { code: 'STEP_FAILED', message: `drill of ${report.asset} failed: ${report.error ?? 'see the report'}` } };
  return { result: 'ok', details };
}
