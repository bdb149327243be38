/**
 * What each kind of step does, for the executor: restore and verify through the asset's source
 * recovery (runbook-recovery.ts), notify through its webhook, and deploy, smoke, switch, run and
 * http through their action (runbook-actions.ts). Run steps get the run's variables in their
 * environment: LIFEBOAT_ASSET, LIFEBOAT_SNAPSHOT, LIFEBOAT_RESTORE_DIR, LIFEBOAT_DRILL.
 */
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { Repository } from '../repo/repository.js';
import type { Asset } from './plan.js';
import type { StepRecord } from './reports.js';
import { notifyWebhook, runCommand, runHttp, switchGateway, type ActionContext } from './runbook-actions.js';
import { StepFailedError } from './runbook-errors.js';
import type { StepRunner } from './runbook-exec.js';
import { fetchClient, shellRunner } from './runbook-io.js';
import type { RunbookPlan } from './runbook-plan.js';
import { recoveryFor, type RestoredData } from './runbook-recovery.js';
import { runSummary } from './runbook-report.js';
import type { DrContext } from './runbook-run.js';

export interface StepRunnerInput {
  ctx: DrContext;
  asset: Asset;
  repo: Repository;
  plan: RunbookPlan;
  snapshot: StoredSnapshot;
  /** Commands run in lifeboat.yaml's folder. */
  baseDir: string;
  /** The records so far, for a notify step. */
  records(): StepRecord[];
}

export function makeStepRunner(input: StepRunnerInput): StepRunner {
  const { ctx, plan, asset } = input;
  const recovery = () => recoveryFor(asset.source?.kind ?? 'path');
  let restored: RestoredData | undefined;
  const env = {
    LIFEBOAT_ASSET: asset.name,
    LIFEBOAT_SNAPSHOT: plan.vars.snapshot,
    LIFEBOAT_RESTORE_DIR: plan.vars.restore_dir,
    LIFEBOAT_DRILL: plan.mode === 'drill' ? '1' : '0',
  };
  return async (step, index, signal, hooks) => {
    const recoveryCtx = () => ({
      repo: input.repo,
      asset: asset.name,
      snapshot: input.snapshot,
      target: plan.restoreDir!,
      subpath: plan.steps.find((s) => s.kind === 'restore')?.restore?.subpath,
      signal,
      onProgress: hooks.onProgress,
    });
    const actx: ActionContext = { http: ctx.http ?? fetchClient, shell: ctx.shell ?? shellRunner, clock: ctx.clock, env: ctx.env ?? process.env, cwd: input.baseDir, signal, onOutput: hooks.onOutput };
    switch (step.kind) {
      case 'restore': {
        restored = await recovery().restore(recoveryCtx());
        // Damaged data is verify's to name; with no verify after it, the restore fails itself.
        const verifies = plan.steps.slice(index + 1).some((s) => s.kind === 'verify' && !s.skip);
        if (restored.damaged.length > 0 && !verifies) {
          throw new StepFailedError(`${restored.damaged.length} file(s) were not restored, their data in the repository is damaged:\n  ${restored.damaged.slice(0, 20).map((d) => `${d.path}: ${d.error}`).join('\n  ')}`);
        }
        return restored.summary;
      }
      case 'verify':
        return recovery().verify(recoveryCtx(), { ...step.verify!, restored });
      case 'notify':
        return notifyWebhook(step.webhook!, runSummary(plan.mode, asset.name, input.records()), { asset: asset.name, mode: plan.mode, snapshot: plan.vars.snapshot, steps: input.records() }, actx);
      default: {
        const a = step.action!;
        if (a.type === 'run') return runCommand(a.command, env, actx);
        if (a.type === 'http') return runHttp(a.request, actx);
        return switchGateway(a.url, a.group, a.tokenEnv, actx);
      }
    }
  };
}
