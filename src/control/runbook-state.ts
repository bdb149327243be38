/**
 * What `lifeboat recover --resume` continues from: the state file a recovery rewrites after each
 * step (so a killed run can be resumed too), else the newest failed recovery report of the asset
 * in the repository (so another host can resume it). It starts again at the first step that did
 * not pass, with the same snapshot and restore directory.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { listReports, type Report, type StepRecord } from './reports.js';
import type { DrContext } from './runbook-run.js';

function stateFile(dir: string, asset: string): string {
  return path.join(dir, `${asset}.recovery.json`);
}

export async function writeState(ctx: DrContext, report: Report): Promise<void> {
  if (!ctx.stateDir) return;
  await fs.mkdir(ctx.stateDir, { recursive: true, mode: 0o700 });
  const file = stateFile(ctx.stateDir, report.asset);
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, JSON.stringify(report, null, 2) + '\n', { mode: 0o600 });
  await fs.rename(tmp, file);
}

export async function clearState(ctx: DrContext, asset: string): Promise<void> {
  if (ctx.stateDir) await fs.rm(stateFile(ctx.stateDir, asset), { force: true });
}

export interface ResumePoint {
  report: Report;
  /** The records kept: every step before the first that did not pass. */
  records: StepRecord[];
}

export async function resumePoint(ctx: DrContext, asset: string): Promise<ResumePoint | undefined> {
  const report = (await fromStateFile(ctx, asset)) ?? (await fromRepository(ctx, asset));
  if (!report || report.verdict !== 'failed' || !report.snapshot) return undefined;
  const first = report.steps.findIndex((s) => s.status !== 'ok');
  return { report, records: report.steps.slice(0, first < 0 ? report.steps.length : first) };
}

async function fromStateFile(ctx: DrContext, asset: string): Promise<Report | undefined> {
  if (!ctx.stateDir) return undefined;
  const text = await fs.readFile(stateFile(ctx.stateDir, asset), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Report;
  } catch {
    return undefined;
  }
}

async function fromRepository(ctx: DrContext, asset: string): Promise<Report | undefined> {
  const named = ctx.repository ?? ctx.plan.primary;
  if (!named) return undefined;
  try {
    const reports = await listReports(await ctx.openRepository(named));
    return reports.filter((r) => r.mode === 'recovery' && r.asset === asset).pop();
  } catch {
    return undefined;
  }
}
