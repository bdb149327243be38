/**
 * The executor of a planned runbook: runs the steps in order, each timed on the injected clock,
 * each attempt under its timeout, retried after `retry_delay` where the step allows it, and on a
 * failure either stops (the rest is skipped, except notify steps, which report it) or continues
 * (`on_failure: continue`). Every step's record is handed to `onRecords` as it ends, so a run
 * killed half-way can be resumed from its state. What each kind of step does is `runStep`'s.
 */
import type { Clock } from '../base/clock.js';
import { messageOf } from '../base/error-codes.js';
import { formatDuration } from '../base/duration.js';
import type { StepRecord } from './reports.js';
import { StepFailedError } from './runbook-errors.js';
import { tail } from './runbook-io.js';
import type { RunbookPlan } from './runbook-plan.js';
import type { StepSpec } from './runbooks.js';

export type RunEvent =
  | { type: 'step-start'; index: number; total: number; step: StepSpec; attempt: number }
  | { type: 'step-retry'; index: number; step: StepSpec; attempt: number; error: string; delayMs: number }
  | { type: 'step-end'; index: number; total: number; step: StepSpec; record: StepRecord }
  | { type: 'progress'; index: number; bytesDone: number; bytesTotal: number }
  | { type: 'output'; index: number; text: string }
  | { type: 'note'; message: string };

export interface StepHooks {
  onProgress(bytesDone: number, bytesTotal: number): void;
  onOutput(text: string): void;
}

/** Does one attempt of a step; resolves with its output, or throws (StepFailedError for an expected failure). */
export type StepRunner = (step: StepSpec, index: number, signal: AbortSignal, hooks: StepHooks) => Promise<string>;

export interface ExecuteInput {
  plan: RunbookPlan;
  clock: Clock;
  runStep: StepRunner;
  signal?: AbortSignal;
  /** Resume: the first step to run, and the records of the steps before it. */
  startAt?: number;
  previous?: StepRecord[];
  onEvent?(event: RunEvent): void;
  onRecords?(records: StepRecord[]): Promise<void>;
}

export interface ExecuteResult {
  records: StepRecord[];
  /** When the first step run here started (epoch ms); undefined when none ran. */
  firstStartMs?: number;
  endMs: number;
  /** The step whose failure stopped the run. */
  failure?: { step: string; error: string };
  interrupted: boolean;
}

export async function executeSteps(input: ExecuteInput): Promise<ExecuteResult> {
  const { plan, clock } = input;
  const total = plan.steps.length;
  const records: StepRecord[] = [...(input.previous ?? [])].slice(0, input.startAt ?? 0);
  let failure: ExecuteResult['failure'];
  let interrupted = false;
  let firstStartMs: number | undefined;
  for (let index = records.length; index < total; index++) {
    const step = plan.steps[index];
    const skipped = step.skip || interrupted || (failure !== undefined && step.kind !== 'notify');
    if (skipped) {
      records.push(skippedRecord(step));
      continue;
    }
    const started = clock.now();
    firstStartMs ??= started;
    const outcome = await attempts(step, index, input);
    const record: StepRecord = {
      name: step.name,
      kind: step.kind,
      status: outcome.error === undefined ? 'ok' : 'failed',
      started_at: new Date(started).toISOString(),
      seconds: round((clock.now() - started) / 1000),
      attempts: outcome.attempts,
      output_tail: tail(outcome.output, 2000),
      error: outcome.error ?? null,
      on_failure: step.onFailure,
    };
    records.push(record);
    input.onEvent?.({ type: 'step-end', index, total, step, record });
    if (outcome.interrupted) interrupted = true;
    else if (outcome.error !== undefined && step.onFailure === 'stop') failure ??= { step: step.name, error: outcome.error };
    await input.onRecords?.(records);
  }
  return { records, firstStartMs, endMs: clock.now(), failure: interrupted ? { step: records.find((r) => r.status === 'failed')?.name ?? '', error: 'interrupted' } : failure, interrupted };
}

interface Outcome {
  attempts: number;
  output: string;
  error?: string;
  interrupted: boolean;
}

async function attempts(step: StepSpec, index: number, input: ExecuteInput): Promise<Outcome> {
  const { clock, signal } = input;
  for (let attempt = 1; ; attempt++) {
    input.onEvent?.({ type: 'step-start', index, total: input.plan.steps.length, step, attempt });
    const result = await oneAttempt(step, index, input);
    if (result.error === undefined) return { attempts: attempt, output: result.output, interrupted: false };
    if (signal?.aborted) return { attempts: attempt, output: result.output, error: `interrupted: ${messageOf(signal.reason)}`, interrupted: true };
    if (attempt > step.retries) return { attempts: attempt, output: result.output, error: result.error, interrupted: false };
    input.onEvent?.({ type: 'step-retry', index, step, attempt, error: result.error, delayMs: step.retryDelayMs });
    try {
      await clock.sleep(step.retryDelayMs, signal);
    } catch {
      return { attempts: attempt, output: result.output, error: `interrupted: ${messageOf(signal?.reason)}`, interrupted: true };
    }
  }
}

/** One attempt under the step's timeout and the run's signal. */
async function oneAttempt(step: StepSpec, index: number, input: ExecuteInput): Promise<{ output: string; error?: string }> {
  const { clock, signal } = input;
  const attempt = new AbortController();
  const stopTimer = new AbortController();
  const onAbort = () => attempt.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  let timedOut = false;
  if (step.timeoutMs !== undefined) {
    clock.sleep(step.timeoutMs, stopTimer.signal).then(
      () => {
        timedOut = true;
        attempt.abort(new StepFailedError(`timed out after ${formatDuration(step.timeoutMs!)}`));
      },
      () => {},
    );
  }
  let output = '';
  const hooks: StepHooks = {
    onProgress: (bytesDone, bytesTotal) => input.onEvent?.({ type: 'progress', index, bytesDone, bytesTotal }),
    onOutput: (text) => {
      output = tail(output + text);
      input.onEvent?.({ type: 'output', index, text });
    },
  };
  try {
    // The step stops at its own safe point when the signal fires; the race ends the wait for one that does not.
    const aborted = new Promise<never>((_, reject) => attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason), { once: true }));
    aborted.catch(() => {});
    const done = await Promise.race([input.runStep(step, index, attempt.signal, hooks), aborted]);
    return { output: done || output };
  } catch (err) {
    const tailOut = err instanceof StepFailedError && err.output ? err.output : output;
    return { output: tailOut, error: timedOut ? `timed out after ${formatDuration(step.timeoutMs!)}` : messageOf(err) };
  } finally {
    stopTimer.abort();
    signal?.removeEventListener('abort', onAbort);
  }
}

function skippedRecord(step: StepSpec): StepRecord {
  return { name: step.name, kind: step.kind, status: 'skipped', started_at: null, seconds: 0, attempts: 0, output_tail: '', error: null, on_failure: step.onFailure };
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
