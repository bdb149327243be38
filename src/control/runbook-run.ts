/**
 * Running an asset's runbook, as a recovery or as a drill: preflight (stop before touching
 * anything if a check fails), plan, execute, and record the report in the repository and the
 * report directory; a drill then removes its scratch target. `runDrill` and `runRecovery` resolve
 * with the report whatever happens: a failure is its verdict, never a rejection.
 */
import { sourceLocations } from '../sources/config.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { hostName, type Clock } from '../base/clock.js';
import { messageOf } from '../base/error-codes.js';
import { UsageError } from '../base/errors.js';
import type { StoredSnapshot } from '../engine/snapshots.js';
import { PROGRAM } from '../engine/program.js';
import type { Repository } from '../repo/repository.js';
import type { Asset, DrPlan } from './plan.js';
import { defaultPreflightTools, failed, type CheckResult, type PreflightTools } from './preflight.js';
import { checkClockSkew, checkCredentialExpiry, checkRepository, type RepositoryOpener } from './preflight-repo.js';
import { checkPlannedRun, snapshotCheck } from './preflight-run.js';
import type { NamedRepository } from './repositories.js';
import { newReportId, saveReport, writeReportFiles, type Report, type StepRecord } from './reports.js';
import { executeSteps, type RunEvent } from './runbook-exec.js';
import { fetchClient, shellRunner, type HttpClient, type ShellRunner } from './runbook-io.js';
import { inside, planRunbook, type RunbookPlan } from './runbook-plan.js';
import { assembleReport, type ReportBase } from './runbook-report.js';
import { chooseSnapshot, type SnapshotChoice } from './runbook-snapshot.js';
import { makeStepRunner } from './runbook-steps.js';
import { clearState, resumePoint, writeState } from './runbook-state.js';
import { runbookFor, type RunMode, type Runbook, type RunbookSet } from './runbooks.js';

export interface DrContext {
  plan: DrPlan;
  runbooks?: RunbookSet;
  /** The repository restores read from and reports go to; default the plan's primary. */
  repository?: NamedRepository;
  /** Opens a repository of the plan (the caller may keep it open for the next call). */
  openRepository: RepositoryOpener;
  clock: Clock;
  http?: HttpClient;
  shell?: ShellRunner;
  env?: NodeJS.ProcessEnv;
  tools?: PreflightTools;
  /** Reports are also written here as JSON, Markdown and HTML. */
  reportDir?: string;
  /** A recovery's progress is kept here after every step, for --resume. */
  stateDir?: string;
  onEvent?(event: RunEvent): void;
}

export interface RunOptions extends SnapshotChoice {
  signal?: AbortSignal;
  /** A drill: leave the scratch target in place (to look at it). */
  keepScratch?: boolean;
  /** A drill: the seed that picked the asset, recorded in the report. */
  seed?: number;
}

export async function runDrill(ctx: DrContext, assetName: string, options: RunOptions = {}): Promise<Report> {
  return runGuarded(ctx, assetName, 'drill', options, false);
}

export async function runRecovery(ctx: DrContext, assetName: string, options: RunOptions & { resume?: boolean } = {}): Promise<Report> {
  return runGuarded(ctx, assetName, 'recovery', options, options.resume ?? false);
}

/** What a run would do: the plan with every variable filled in and the preflight's findings; nothing is touched. */
export async function dryRun(ctx: DrContext, assetName: string, mode: RunMode, options: SnapshotChoice = {}): Promise<{ plan?: RunbookPlan; preflight: CheckResult[]; error: string | null }> {
  const prepared = await prepare(ctx, assetOf(ctx, assetName), mode, options, newReportId(ctx.clock.now()));
  return { plan: prepared.plan, preflight: prepared.checks, error: prepared.error };
}

function assetOf(ctx: DrContext, name: string): Asset {
  const asset = ctx.plan.assets.find((a) => a.name === name);
  if (!asset) throw new RunError(`no asset "${name}" in ${ctx.plan.file} (it has ${ctx.plan.assets.map((a) => a.name).join(', ') || 'none'})`);
  if (asset.tier === 3) throw new RunError(`asset "${name}" is Tier 3: it is rebuilt from git (${asset.gitRemote ?? 'its git_remote'}), not restored`);
  return asset;
}

/** What the caller asked cannot be run at all (an unknown asset, nothing to resume). */
export class RunError extends UsageError {}

async function runGuarded(ctx: DrContext, assetName: string, mode: RunMode, options: RunOptions, resume: boolean): Promise<Report> {
  const started = ctx.clock.now();
  const asset = ctx.plan.assets.find((a) => a.name === assetName);
  const base = baseOf(ctx, asset, assetName, mode, newReportId(started), options.seed);
  try {
    return await run(ctx, assetOf(ctx, assetName), mode, options, resume);
  } catch (err) {
    // A report even for what should not happen: the scheduler records it, the operator reads why.
    if (resume && err instanceof RunError) throw err;
    const report = assembleReport(base, [], [], { startMs: started, endMs: ctx.clock.now(), preflightSeconds: 0 }, err instanceof RunError ? err.message : messageOf(err));
    await record(ctx, undefined, report);
    return report;
  }
}

function baseOf(ctx: DrContext, asset: Asset | undefined, name: string, mode: RunMode, id: string, seed?: number): ReportBase {
  return {
    id,
    revision: 1,
    asset: name,
    tier: asset?.tier ?? 0,
    runbook: asset?.runbook ?? '(built-in)',
    mode,
    snapshot: null,
    rto_seconds: (asset?.policy.rtoMs ?? 0) / 1000,
    restore_dir: null,
    host: hostName(),
    program: PROGRAM,
    ...(seed === undefined ? {} : { seed }),
    resumed_at: [],
  };
}

interface Prepared {
  runbook?: Runbook;
  repo?: Repository;
  snapshot?: StoredSnapshot;
  plan?: RunbookPlan;
  checks: CheckResult[];
  /** Why the run cannot start; null when it can. */
  error: string | null;
}

async function prepare(ctx: DrContext, asset: Asset, mode: RunMode, choice: SnapshotChoice, id: string, scratchDir?: string): Promise<Prepared> {
  const tools = ctx.tools ?? defaultPreflightTools(ctx.clock, ctx.http ?? fetchClient, ctx.env ?? process.env);
  const baseDir = path.dirname(path.resolve(ctx.plan.file));
  const runbook = runbookFor(ctx.runbooks, asset, baseDir);
  if (!runbook) return { checks: [], error: `asset "${asset.name}" names runbook "${asset.runbook}", which the runbooks: section does not have` };
  const named = ctx.repository ?? ctx.plan.primary;
  if (!named) return { runbook, checks: [], error: `${ctx.plan.file} names no primary repository to restore from: add one to repositories:, or pass -r` };
  const { results: checks, repo } = await checkRepository(named, ctx.openRepository, tools);
  const stop = (error: string, extra: Partial<Prepared> = {}): Prepared => ({ runbook, repo, checks, error, ...extra });
  if (!repo) return stop(`preflight failed: ${failed(checks)[0]?.message}`);
  let snapshot: StoredSnapshot;
  try {
    // A snapshot skipped as damaged stays in the report, as a warning beside the one taken.
    const skipped: string[] = [];
    snapshot = await chooseSnapshot(repo, asset.name, choice, (m) => skipped.push(m));
    checks.push(snapshotCheck(asset.name, snapshot), ...skipped.map((message): CheckResult => ({ check: 'snapshot', subject: asset.name, status: 'warn', message })));
  } catch (err) {
    checks.push({ check: 'snapshot', subject: asset.name, status: 'fail', message: messageOf(err) });
    return stop(`preflight failed: ${messageOf(err)}`);
  }
  let plan: RunbookPlan;
  try {
    const protectedPaths = asset.source ? sourceLocations(asset.source) : [];
    plan = planRunbook(runbook, mode, { asset: asset.name, snapshot: snapshot.id, scratchDir: scratchDir ?? path.join(runbook.scratchRoot, `${asset.name}-${id}`), protectedPaths });
  } catch (err) {
    checks.push({ check: 'runbook', subject: runbook.name, status: 'fail', message: messageOf(err) });
    return stop(messageOf(err), { snapshot });
  }
  checks.push(...(await checkPlannedRun(plan, asset, snapshot.snapshot.summary.totalBytes, runbook.baseDir, tools)));
  const skew = await checkClockSkew(named, tools);
  const expiry = checkCredentialExpiry(tools);
  for (const c of [skew, expiry]) if (c) checks.push(c);
  const failures = failed(checks);
  return { runbook, repo, snapshot, plan, checks, error: failures.length ? `preflight failed: ${failures.map((f) => f.message).join('; ')}` : null };
}

async function run(ctx: DrContext, asset: Asset, mode: RunMode, options: RunOptions, resume: boolean): Promise<Report> {
  const t0 = ctx.clock.now();
  const previous = resume ? await resumePoint(ctx, asset.name) : undefined;
  if (resume && !previous) throw new RunError(`there is no failed recovery of "${asset.name}" to resume: run lifeboat recover ${asset.name} without --resume`);
  const base = baseOf(ctx, asset, asset.name, mode, previous?.report.id ?? newReportId(t0), options.seed);
  const choice = previous ? { snapshot: previous.report.snapshot ?? undefined } : options;
  const prep = await prepare(ctx, asset, mode, choice, base.id, previous?.report.restore_dir ?? undefined);
  const { plan, repo } = prep;
  Object.assign(base, {
    runbook: prep.runbook?.name ?? base.runbook,
    snapshot: prep.snapshot?.id ?? null,
    restore_dir: plan?.restoreDir ?? null,
    ...(previous ? resumedFields(previous.report, t0) : {}),
  });
  const t1 = ctx.clock.now();
  const timing = (end: number, start = t1) => ({ startMs: start, endMs: end, preflightSeconds: (t1 - t0) / 1000 });
  if (prep.error || !plan || !repo || !prep.snapshot) {
    const records = plan ? plan.steps.map((s) => skipped(s.name, s.kind, s.onFailure)) : [];
    const report = assembleReport(base, previous ? [...previous.records, ...records.slice(previous.records.length)] : records, prep.checks, timing(t1), prep.error ?? 'preflight failed');
    await record(ctx, repo, report);
    return report;
  }
  if (previous && previous.records.some((r, i) => plan.steps[i]?.name !== r.name)) {
    throw new RunError(`the runbook of "${asset.name}" changed since the failed run: run lifeboat recover ${asset.name} without --resume`);
  }
  let sofar: StepRecord[] = previous?.records ?? [];
  const runStep = makeStepRunner({ ctx, asset, repo, plan, snapshot: prep.snapshot, baseDir: prep.runbook!.baseDir, records: () => sofar });
  const exec = await executeSteps({
    plan,
    clock: ctx.clock,
    runStep,
    signal: options.signal,
    startAt: previous?.records.length ?? 0,
    previous: previous?.records,
    onEvent: ctx.onEvent,
    onRecords: async (records) => {
      sofar = records;
      if (mode !== 'recovery') return;
      // A state that cannot be written costs only --resume after a crash: the run goes on.
      const state = assembleReport(base, records, prep.checks, timing(ctx.clock.now(), firstStepStart(records, t1)), 'in progress');
      await writeState(ctx, state).catch((err) => ctx.onEvent?.({ type: 'note', message: `the resume state could not be written: ${messageOf(err)}` }));
    },
  });
  const error = exec.failure ? `step ${exec.failure.step} failed: ${oneSentence(exec.failure.error)}` : null;
  const report = assembleReport(base, exec.records, prep.checks, timing(exec.endMs, exec.firstStartMs ?? t1), error);
  if (mode === 'drill' && plan.restoreDir && !options.keepScratch) await removeScratch(ctx, prep.runbook!, plan.restoreDir);
  else if (mode === 'drill' && plan.restoreDir) ctx.onEvent?.({ type: 'note', message: `the scratch target is kept: ${plan.restoreDir}` });
  await record(ctx, repo, report);
  return report;
}

/** A step's error in one line for the report's headline: a list it introduces is named by its first item. */
export function oneSentence(error: string): string {
  const [first, ...rest] = error.split('\n');
  const item = rest.find((l) => l.trim() !== '')?.trim();
  return first.endsWith(':') && item ? `${first.slice(0, -1)} (first: ${item})` : first;
}

/** A resumed run is the same run: its id, one more revision, the first attempt's start. */
function resumedFields(previous: Report, now: number): Partial<ReportBase> {
  return { revision: previous.revision + 1, started_at: previous.started_at, resumed_at: [...previous.resumed_at, new Date(now).toISOString()] };
}

/** The first step's start from its record (the state written mid-run). */
function firstStepStart(records: StepRecord[], fallback: number): number {
  const first = records.find((r) => r.started_at !== null);
  return first ? Date.parse(first.started_at!) : fallback;
}

function skipped(name: string, kind: string, onFailure: 'stop' | 'continue'): StepRecord {
  return { name, kind, status: 'skipped', started_at: null, seconds: 0, attempts: 0, output_tail: '', error: null, on_failure: onFailure };
}

/** A drill's scratch target goes once the drill is over: only ever below the runbook's scratch root. */
async function removeScratch(ctx: DrContext, runbook: Runbook, dir: string): Promise<void> {
  if (!inside(dir, runbook.scratchRoot)) return;
  await fs.rm(dir, { recursive: true, force: true }).catch((err: Error) => ctx.onEvent?.({ type: 'note', message: `could not remove the scratch target ${dir}: ${err.message}` }));
}

/** The report into the repository (the second site sees it), the report directory and the resume state. */
async function record(ctx: DrContext, repo: Repository | undefined, report: Report): Promise<void> {
  const note = (message: string) => ctx.onEvent?.({ type: 'note', message });
  if (repo) {
    await saveReport(repo, report).then(
      (objectId) => note(`report ${report.id} saved in ${repo.storage.location} (reports/${objectId.slice(0, 12)}…)`),
      (err) => note(`the report could not be saved in ${repo.storage.location}: ${messageOf(err)}`),
    );
  }
  if (ctx.reportDir) {
    await writeReportFiles(ctx.reportDir, report).then(
      (files) => note(`report written to ${files.join(', ')}`),
      (err) => note(`the report could not be written to ${ctx.reportDir}: ${messageOf(err)}`),
    );
  }
  if (report.mode === 'recovery') {
    if (report.verdict === 'failed' && report.snapshot) await writeState(ctx, report);
    else await clearState(ctx, report.asset);
  }
}
