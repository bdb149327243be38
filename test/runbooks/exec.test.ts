/**
 * The executor: steps timed on the injected clock, retries after their delay, timeouts, on_failure,
 * notify steps after a failure, interruption, resume; and real shell steps (a timeout stops the
 * command and what it started).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { manualClock, systemClock } from '../../src/base/clock.js';
import { runCommand } from '../../src/control/runbook-actions.js';
import { StepFailedError } from '../../src/control/runbook-errors.js';
import { executeSteps, type RunEvent, type StepRunner } from '../../src/control/runbook-exec.js';
import { shellRunner, fetchClient } from '../../src/control/runbook-io.js';
import type { RunbookPlan } from '../../src/control/runbook-plan.js';
import type { StepSpec } from '../../src/control/runbooks.js';
import { tempDir } from '../helpers/tmp-dir.js';

function step(name: string, over: Partial<StepSpec> = {}): StepSpec {
  return { name, kind: (over.kind ?? 'run') as StepSpec['kind'], retries: 0, retryDelayMs: 1000, onFailure: 'stop', skip: false, ...over };
}

function planOf(steps: StepSpec[]): RunbookPlan {
  return { runbook: 'r', mode: 'recovery', scratch: false, vars: { asset: 'a', snapshot: 's', restore_dir: '/r' }, steps };
}

/** A step runner whose steps take the given time on the clock and then pass or fail. */
function scripted(clock: ReturnType<typeof manualClock>, script: Record<string, Array<{ ms: number; fail?: string }>>): { runner: StepRunner; calls: string[] } {
  const calls: string[] = [];
  const runner: StepRunner = async (s, _i, signal) => {
    calls.push(s.name);
    const next = script[s.name].shift() ?? { ms: 0 };
    await clock.sleep(next.ms, signal);
    if (next.fail) throw new StepFailedError(next.fail, `output of ${s.name}`);
    return `${s.name} done`;
  };
  return { runner, calls };
}

/** Runs the executor while advancing the manual clock until it settles. */
async function drive<T>(clock: ReturnType<typeof manualClock>, work: Promise<T>): Promise<T> {
  let done = false;
  void work.finally(() => (done = true));
  while (!done) if (!(await clock.next())) await new Promise((r) => setImmediate(r));
  return work;
}

test('every step timed on the clock; a retried step records its attempts and the time between them', async () => {
  const clock = manualClock('2025-01-01T00:00:00Z');
  const { runner, calls } = scripted(clock, { restore: [{ ms: 30_000 }], smoke: [{ ms: 500, fail: 'HTTP 503' }, { ms: 500, fail: 'HTTP 503' }, { ms: 500 }] });
  const events: RunEvent[] = [];
  const plan = planOf([step('restore', { kind: 'restore' }), step('smoke', { kind: 'smoke', retries: 5, retryDelayMs: 3000 })]);
  const result = await drive(clock, executeSteps({ plan, clock, runStep: runner, onEvent: (e) => events.push(e) }));
  assert.deepEqual(calls, ['restore', 'smoke', 'smoke', 'smoke']);
  assert.deepEqual(result.records.map((r) => [r.name, r.status, r.seconds, r.attempts, r.started_at]), [
    ['restore', 'ok', 30, 1, '2025-01-01T00:00:00.000Z'],
    ['smoke', 'ok', 7.5, 3, '2025-01-01T00:00:30.000Z'],
  ]);
  assert.equal(result.endMs - result.firstStartMs!, 37_500);
  assert.deepEqual(events.filter((e) => e.type === 'step-retry').map((e) => e.type === 'step-retry' && [e.attempt, e.error, e.delayMs]), [[1, 'HTTP 503', 3000], [2, 'HTTP 503', 3000]]);
});

test('a failure stops the run: later steps are skipped, except notify steps, which report it; continue steps do not stop it', async () => {
  const clock = manualClock(0);
  const { runner, calls } = scripted(clock, { warm: [{ ms: 10, fail: 'cache warm-up failed' }], deploy: [{ ms: 10, fail: 'exited with status 3' }], smoke: [], notify: [{ ms: 10 }] });
  const plan = planOf([step('warm', { onFailure: 'continue' }), step('deploy'), step('smoke'), step('notify', { kind: 'notify', onFailure: 'continue' })]);
  const result = await drive(clock, executeSteps({ plan, clock, runStep: runner }));
  assert.deepEqual(calls, ['warm', 'deploy', 'notify']);
  assert.deepEqual(result.records.map((r) => [r.name, r.status, r.error]), [
    ['warm', 'failed', 'cache warm-up failed'],
    ['deploy', 'failed', 'exited with status 3'],
    ['smoke', 'skipped', null],
    ['notify', 'ok', null],
  ]);
  assert.deepEqual(result.failure, { step: 'deploy', error: 'exited with status 3' });
  assert.equal(result.records[1].output_tail, 'output of deploy');
});

test('a step over its timeout fails with how long it was given, and each attempt gets the whole timeout', async () => {
  const clock = manualClock(0);
  const { runner, calls } = scripted(clock, { deploy: [{ ms: 120_000 }, { ms: 120_000 }] });
  const plan = planOf([step('deploy', { timeoutMs: 60_000, retries: 1, retryDelayMs: 5000 })]);
  const result = await drive(clock, executeSteps({ plan, clock, runStep: runner }));
  assert.deepEqual(calls, ['deploy', 'deploy']);
  assert.deepEqual([result.records[0].status, result.records[0].error, result.records[0].attempts, result.records[0].seconds], ['failed', 'timed out after 1m', 2, 125]);
});

test('an interrupted run stops at once: the running step failed, everything after skipped (notify too), no retry', async () => {
  const clock = manualClock(0);
  const stop = new AbortController();
  const { runner, calls } = scripted(clock, { restore: [{ ms: 10_000 }], notify: [] });
  const plan = planOf([step('restore', { kind: 'restore', retries: 3 }), step('notify', { kind: 'notify', onFailure: 'continue' })]);
  const running = executeSteps({ plan, clock, runStep: runner, signal: stop.signal });
  await clock.advance(2000);
  stop.abort(new Error('SIGINT'));
  const result = await drive(clock, running);
  assert.deepEqual(calls, ['restore']);
  assert.equal(result.interrupted, true);
  assert.deepEqual(result.records.map((r) => [r.name, r.status, r.error]), [['restore', 'failed', 'interrupted: Error: SIGINT'], ['notify', 'skipped', null]]);
});

test('resume: the steps before the start keep their records and are not run again', async () => {
  const clock = manualClock(1000);
  const { runner, calls } = scripted(clock, { smoke: [{ ms: 100 }] });
  const kept = { name: 'restore', kind: 'restore', status: 'ok' as const, started_at: '1970-01-01T00:00:00.000Z', seconds: 42, attempts: 1, output_tail: 'restored', error: null, on_failure: 'stop' as const };
  const plan = planOf([step('restore', { kind: 'restore' }), step('smoke')]);
  const result = await drive(clock, executeSteps({ plan, clock, runStep: runner, startAt: 1, previous: [kept, { ...kept, name: 'smoke', status: 'failed' }] }));
  assert.deepEqual(calls, ['smoke']);
  assert.deepEqual(result.records[0], kept);
  assert.equal(result.records[1].status, 'ok');
});

test('a real shell step: the variables in its environment, its output kept, a non-zero exit its error', async (t) => {
  const dir = await tempDir(t);
  const ctx = { http: fetchClient, shell: shellRunner, clock: systemClock, env: process.env, cwd: dir, signal: new AbortController().signal, onOutput: () => {} };
  const out = await runCommand('echo "$LIFEBOAT_ASSET in $PWD"; echo to-stderr >&2', { LIFEBOAT_ASSET: 'llama-ft' }, ctx);
  assert.match(out, new RegExp(`llama-ft in ${dir}\\nto-stderr`));
  await assert.rejects(runCommand('echo about to fail; exit 3', {}, ctx), (err) => err instanceof StepFailedError && err.message === '"echo about to fail; exit 3" exited with status 3: about to fail' && err.output === 'about to fail\n');
});

test('a real shell step over its timeout: the command and the process it started are stopped', async (t) => {
  const dir = await tempDir(t);
  const pidFile = path.join(dir, 'child.pid');
  const runner: StepRunner = (s, _i, signal) => runCommand(`sleep 30 & echo $! > ${pidFile}; wait`, {}, { http: fetchClient, shell: shellRunner, clock: systemClock, env: process.env, cwd: dir, signal, onOutput: () => {} });
  const started = Date.now();
  const result = await executeSteps({ plan: planOf([step('deploy', { timeoutMs: 500 })]), clock: systemClock, runStep: runner });
  assert.equal(result.records[0].error, 'timed out after 500ms');
  assert.ok(Date.now() - started < 5000);
  const pid = Number(await fs.readFile(pidFile, 'utf8'));
  await new Promise((r) => setTimeout(r, 200));
  // Gone, or a zombie where the container's init does not reap orphans: either way no longer running.
  const state = await fs.readFile(`/proc/${pid}/stat`, 'utf8').then((s) => s.split(' ')[2], () => 'gone');
  assert.ok(state === 'gone' || state === 'Z', `the background sleep was killed with its process group (state ${state})`);
});
