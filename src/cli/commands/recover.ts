/**
 * `lifeboat recover ASSET [--snapshot S | --as-of TIME] [--dry-run] [--resume] [--json]`: runs the
 * asset's runbook for real (restore, verify, deploy, smoke, switch …), after its preflight checks.
 * Exit 0 when the RTO was met, 4 when every step passed over the RTO, 1 when a step or the
 * preflight failed, 130 when interrupted (continue with --resume).
 */
import type { Command } from 'commander';
import type { RunbookPlan } from '../../control/runbook-plan.js';
import type { CheckResult } from '../../control/preflight.js';
import { shownUrl, shownWebhook } from '../../control/runbook-io.js';
import { loadDrContext, withReportDir, type DrFlags } from '../dr-context.js';
import { runProgress } from '../dr-progress.js';
import { checksTable, finishRun, withInterrupt } from '../dr-report.js';
import { OutcomeError, UsageError } from '../errors.js';
import { makeOutput, table } from '../output.js';
import { withRepoOptions } from '../repo-options.js';
import { withSkipDamaged, type SkipDamagedFlags } from '../snapshot-spec.js';

interface RecoverFlags extends DrFlags, SkipDamagedFlags {
  snapshot?: string;
  asOf?: string;
  dryRun?: boolean;
  resume?: boolean;
}

export function registerRecover(program: Command): void {
  withSkipDamaged(withReportDir(withRepoOptions(program.command('recover').description("recover an asset for real by running its runbook: restore, verify, deploy, smoke test, switch traffic"))), 'latest, --as-of')
    .argument('<asset>', 'the asset to recover (lifeboat.yaml assets:)')
    .option('--snapshot <snapshot>', 'latest (default), vN, or a snapshot id')
    .option('--as-of <time>', 'the newest snapshot taken at or before this time (ISO 8601)')
    .option('--dry-run', 'print what would run, with every variable filled in, and the preflight checks; touch nothing')
    .option('--resume', 'continue the failed recovery from its failed step (same snapshot, same target)')
    .action(async (asset: string, flags: RecoverFlags) => {
      if (flags.snapshot && flags.asOf) throw new UsageError('give --snapshot or --as-of, not both');
      if (flags.resume && (flags.snapshot || flags.asOf || flags.dryRun)) throw new UsageError('--resume continues with the failed run\'s snapshot: it takes no --snapshot, --as-of or --dry-run');
      const out = makeOutput(!!flags.json, !!flags.quiet);
      const progress = runProgress(!flags.json && !flags.quiet);
      const { ctx, close } = await loadDrContext(flags, progress.onEvent);
      try {
        if (!ctx.plan.assets.some((a) => a.name === asset)) throw new UsageError(`no asset "${asset}" in ${ctx.plan.file} (it has ${ctx.plan.assets.map((a) => a.name).join(', ') || 'none'})`);
        if (flags.dryRun) {
          const { dryRun } = await import('../../control/runbook-run.js');
          const result = await dryRun(ctx, asset, 'recovery', { snapshot: flags.snapshot, asOf: flags.asOf, skipDamaged: flags.skipDamaged });
          out.result(dryRunDocument(asset, result), () => humanDryRun(result));
          if (result.error) throw new OutcomeError('PREFLIGHT_FAILED', result.error);
          return;
        }
        const { runRecovery } = await import('../../control/runbook-run.js');
        await withInterrupt(async (signal) => {
          const report = await runRecovery(ctx, asset, { snapshot: flags.snapshot, asOf: flags.asOf, skipDamaged: flags.skipDamaged, resume: flags.resume, signal });
          progress.stop();
          finishRun(report, out, signal.aborted);
        });
      } finally {
        progress.stop();
        await close();
      }
    });
}

interface DryRunResult {
  plan?: RunbookPlan;
  preflight: CheckResult[];
  error: string | null;
}

/** The plan as JSON: each step with what it would do, variables filled in (secrets in URLs hidden). */
export function dryRunDocument(asset: string, r: DryRunResult) {
  const p = r.plan;
  return {
    asset,
    mode: p?.mode ?? null,
    runbook: p?.runbook ?? null,
    snapshot: p?.vars.snapshot ?? null,
    restore_dir: p?.restoreDir ?? null,
    steps: (p?.steps ?? []).map((s) => ({
      name: s.name,
      kind: s.kind,
      skip: s.skip,
      does: describeStep(s),
      timeout_seconds: s.timeoutMs === undefined ? null : s.timeoutMs / 1000,
      retries: s.retries,
      retry_delay_seconds: s.retryDelayMs / 1000,
      on_failure: s.onFailure,
    })),
    preflight: r.preflight,
    error: r.error,
  };
}

function describeStep(s: RunbookPlan['steps'][number]): string {
  if (s.restore) return `restore to ${s.restore.target}${s.restore.subpath ? ` (only ${s.restore.subpath})` : ''}`;
  if (s.verify) return `verify ${[s.verify.sha256 && 'SHA-256 of every file', s.verify.format && 'safetensors/GGUF headers', s.verify.rowCounts && 'row counts'].filter(Boolean).join(', ')}`;
  if (s.webhook) return `POST the report to ${shownWebhook(s.webhook)}`;
  const a = s.action!;
  if (a.type === 'run') return `run: ${a.command}`;
  if (a.type === 'http') return `${a.request.method} ${shownUrl(a.request.url)}${a.request.json !== undefined ? ` ${JSON.stringify(a.request.json)}` : ''}`;
  return `switch the gateway ${a.url} to group ${a.group}`;
}

export function humanDryRun(r: DryRunResult): string {
  const lines: string[] = [];
  if (r.plan) {
    lines.push(`${r.plan.mode} of ${r.plan.vars.asset} with runbook ${r.plan.runbook}: snapshot ${r.plan.vars.snapshot.slice(0, 12)}${r.plan.restoreDir ? `, restore to ${r.plan.restoreDir}` : ''}`, '');
    lines.push(table(['#', 'step', 'would', 'timeout', 'retries'], r.plan.steps.map((s, i) => [String(i + 1), s.name, s.skip ? '(skipped in a drill)' : describeStep(s), s.timeoutMs ? `${s.timeoutMs / 1000} s` : '-', String(s.retries)])));
  }
  lines.push('', 'preflight:', checksTable(r.preflight));
  if (r.error) lines.push('', r.error);
  return lines.join('\n');
}
