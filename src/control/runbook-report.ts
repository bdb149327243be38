/**
 * A run's report from its parts, and its verdict: pure. `failed` when a step that stops the run
 * failed (or the preflight did, or the run was interrupted), `missed` when every step passed but
 * the total exceeded the RTO, `met` otherwise. A failing `on_failure: continue` step shows as
 * failed in its record and changes nothing else.
 */
import type { CheckResult } from './preflight.js';
import type { Report, StepRecord, Verdict } from './reports.js';
import { REPORT_VERSION } from './reports.js';
import type { RunMode } from './runbooks.js';

/** What is known of a run before its first step. */
export interface ReportBase {
  id: string;
  revision: number;
  asset: string;
  tier: number;
  runbook: string;
  mode: RunMode;
  snapshot: string | null;
  rto_seconds: number;
  restore_dir: string | null;
  host: string;
  program: string;
  seed?: number;
  /** A resumed run keeps the first run's start. */
  started_at?: string;
  resumed_at: string[];
}

export interface RunTiming {
  /** First step's start, epoch ms (the run's start when none ran). */
  startMs: number;
  endMs: number;
  preflightSeconds: number;
}

export function verdictOf(records: readonly StepRecord[], totalSeconds: number, rtoSeconds: number, failed: boolean): Verdict {
  if (failed || records.some((r) => r.status === 'failed' && r.on_failure === 'stop')) return 'failed';
  return rtoSeconds > 0 && totalSeconds > rtoSeconds ? 'missed' : 'met';
}

export function assembleReport(base: ReportBase, records: StepRecord[], preflight: CheckResult[], timing: RunTiming, error: string | null): Report {
  const startedAt = base.started_at ?? new Date(timing.startMs).toISOString();
  const total = Math.max(0, timing.endMs - Date.parse(startedAt)) / 1000;
  const totalSeconds = Math.round(total * 1000) / 1000;
  const { started_at: _s, ...rest } = base;
  return {
    version: REPORT_VERSION,
    ...rest,
    started_at: startedAt,
    finished_at: new Date(timing.endMs).toISOString(),
    total_seconds: totalSeconds,
    verdict: verdictOf(records, totalSeconds, base.rto_seconds, error !== null),
    steps: records,
    preflight,
    preflight_seconds: Math.round(timing.preflightSeconds * 1000) / 1000,
    error,
  };
}

/** One sentence for a notify step, a log line and an alert: "drill of llama-ft: restore ok 12.3 s, verify FAILED (…)". */
export function runSummary(mode: RunMode, asset: string, records: readonly StepRecord[]): string {
  const parts = records.filter((r) => r.status !== 'skipped').map((r) => (r.status === 'ok' ? `${r.name} ok ${r.seconds.toFixed(1)} s` : `${r.name} FAILED (${(r.error ?? '').split('\n')[0].slice(0, 200)})`));
  return `Lifeboat ${mode} of ${asset}: ${parts.join(', ') || 'no step ran yet'}`;
}
