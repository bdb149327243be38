/** The preflight checks of one planned run: what its steps will need, looked at before any of them runs. */
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { Asset } from './plan.js';
import type { CheckResult, PreflightTools } from './preflight.js';
import { checkCommand, checkEndpoint, checkGateway, checkSourceTools } from './preflight-endpoints.js';
import { checkSpace, formatSize } from './preflight-space.js';
import { shownWebhook } from './runbook-io.js';
import type { RunbookPlan } from './runbook-plan.js';

/** Checks already made (by subject): `doctor` looks at a shared endpoint or command once. */
export type CheckMemo = Set<string>;

export function snapshotCheck(asset: string, s: StoredSnapshot): CheckResult {
  const { summary, time, incomplete } = s.snapshot;
  const what = `${s.id.slice(0, 12)} of ${time} (${summary.files} files, ${formatSize(summary.totalBytes)})`;
  if (incomplete.length > 0) {
    return { check: 'snapshot', subject: asset, status: 'warn', message: `the snapshot to restore, ${what}, is incomplete (${incomplete.length} file(s) could not be read at backup): pick a complete one with --snapshot` };
  }
  return { check: 'snapshot', subject: asset, status: 'ok', message: `restores ${what}` };
}

/** `bytes`: the size of what the restore brings back; undefined (no snapshot yet) skips the space check. */
export async function checkPlannedRun(plan: RunbookPlan, asset: Asset, bytes: number | undefined, baseDir: string, tools: PreflightTools, memo: CheckMemo = new Set()): Promise<CheckResult[]> {
  const checks: Array<Promise<CheckResult | CheckResult[]>> = [];
  const once = (key: string, check: () => Promise<CheckResult | CheckResult[]>) => {
    if (memo.has(key)) return;
    memo.add(key);
    checks.push(check());
  };
  const restoring = plan.steps.some((s) => s.kind === 'restore' && !s.skip);
  if (restoring && plan.restoreDir && bytes !== undefined && (asset.source?.kind ?? 'path') === 'path') {
    const dir = plan.restoreDir;
    once(`space ${dir}`, () => checkSpace(dir, bytes, `restoring ${asset.name} (${plan.mode})`, tools));
  }
  for (const step of plan.steps) {
    if (step.skip) continue;
    const a = step.action;
    if (a?.type === 'run') once(`command ${a.command}`, () => checkCommand(a.command, step.name, baseDir, tools));
    if (a?.type === 'http') once(`endpoint ${a.request.url}`, () => checkEndpoint(a.request.url, step.name, step.kind === 'smoke' ? 'warn' : 'fail', tools));
    if (a?.type === 'gateway') once(`gateway ${a.url} ${a.group}`, () => checkGateway(a.url, a.group, a.tokenEnv, tools));
    if (step.webhook) once(`endpoint ${step.webhook}`, () => checkEndpoint(step.webhook!, step.name, step.onFailure === 'continue' ? 'warn' : 'fail', tools, shownWebhook(step.webhook!)));
  }
  const kind = asset.source?.kind;
  if (kind) once(`tools ${kind}`, () => checkSourceTools(asset.name, kind, tools));
  return (await Promise.all(checks)).flat();
}
