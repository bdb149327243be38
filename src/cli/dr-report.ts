/** How `recover` and `drill` print a run's report, and the exit code its verdict means (0 met, 4 over RTO, 1 failed, 130 interrupted). */
import { headline } from '../control/report-markdown.js';
import type { CheckResult } from '../control/preflight.js';
import type { Report } from '../control/reports.js';
import { OutcomeError } from './errors.js';
import { table, type Output } from './output.js';

const MARK = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const;

export function checksTable(checks: readonly CheckResult[]): string {
  return table(['status', 'check', 'subject', 'what it means'], checks.map((c) => [MARK[c.status], c.check, c.subject, c.message]));
}

export function humanReport(r: Report): string {
  const lines = [headline(r), `  report ${r.id}, runbook ${r.runbook}, snapshot ${r.snapshot?.slice(0, 12) ?? '-'}${r.restore_dir ? `, restored to ${r.restore_dir}` : ''}`];
  if (r.steps.length) {
    lines.push('', table(['#', 'step', 'kind', 'status', 'seconds', 'attempts', 'error'], r.steps.map((s, i) => [String(i + 1), s.name, s.kind, s.status, s.seconds.toFixed(2), String(s.attempts), (s.error ?? '').split('\n')[0]])));
  }
  const problems = r.preflight.filter((c) => c.status !== 'ok');
  if (problems.length) lines.push('', 'preflight:', checksTable(problems));
  const detail = r.steps.find((s) => s.status === 'failed' && s.error?.includes('\n'));
  if (detail) lines.push('', `${detail.name}: ${detail.error}`);
  if (r.error) lines.push('', r.error);
  return lines.join('\n');
}

/** Prints the report and turns its verdict into the exit code. */
export function finishRun(r: Report, out: Output, interrupted: boolean): void {
  out.result(r, () => humanReport(r));
  if (interrupted) throw new OutcomeError('ABORTED', `the ${r.mode} of ${r.asset} was interrupted; ${r.mode === 'recovery' ? `continue it with lifeboat recover ${r.asset} --resume` : 'run the drill again'}`);
  if (r.verdict === 'missed') throw new OutcomeError('OBJECTIVE_NOT_MET', `every step passed, but the ${r.mode} took ${r.total_seconds.toFixed(1)} s, more than the RTO of ${r.rto_seconds} s`);
  if (r.verdict === 'failed') {
    const preflight = r.steps.every((s) => s.status !== 'failed') && r.preflight.some((c) => c.status === 'fail');
    throw new OutcomeError(preflight ? 'PREFLIGHT_FAILED' : 'STEP_FAILED', r.error ?? `the ${r.mode} of ${r.asset} failed`);
  }
}

/**
 * An AbortSignal that fires on SIGINT or SIGTERM, for as long as `body` runs: the running step
 * stops at a safe point and the report is written. A second signal exits at once.
 */
export async function withInterrupt<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctrl = new AbortController();
  const on = (sig: NodeJS.Signals) => {
    if (ctrl.signal.aborted) process.exit(130);
    process.stderr.write(`${sig}: stopping at the next safe point and writing the report (again to exit at once)\n`);
    ctrl.abort(new Error(`${sig}`));
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  try {
    return await body(ctrl.signal);
  } finally {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  }
}
