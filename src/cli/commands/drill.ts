/**
 * `lifeboat drill [--tier 1 | --asset A] [--seed N] [--json]`: picks an asset (seedable, weighted
 * toward the least recently drilled), simulates its loss by running its runbook in drill mode
 * (scratch restore target, the drill overrides), measures every step and the total against its
 * RTO, records the report and removes the scratch target. Exit 0 met, 4 over the RTO, 1 failed.
 *
 * `lifeboat drill report [ID] [--format md|html|json]` prints a report (default: the latest
 * drill); `lifeboat drill history [--asset A]` the trend of measured recovery times.
 */
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { isoNow } from '../../base/clock.js';
import { messageOf } from '../../base/error-codes.js';
import { formatRto, formatSeconds } from '../../control/report-markdown.js';
import type { Report } from '../../control/reports.js';
import { loadDrContext, withReportDir, type DrFlags, type LoadedDr } from '../dr-context.js';
import { runProgress } from '../dr-progress.js';
import { finishRun, withInterrupt } from '../dr-report.js';
import { UsageError } from '../errors.js';
import { makeOutput, table, type Output } from '../output.js';
import { withRepoOptions } from '../repo-options.js';
import { withSkipDamaged, type SkipDamagedFlags } from '../snapshot-spec.js';

interface DrillFlags extends DrFlags, SkipDamagedFlags {
  tier?: string;
  asset?: string;
  seed?: string;
  keepScratch?: boolean;
}

export function registerDrill(program: Command): void {
  const drill = withSkipDamaged(withReportDir(withRepoOptions(program.command('drill').description('drill a recovery: restore an asset to scratch with its runbook, and measure it against the RTO'))), 'the asset\'s latest snapshot')
    .option('--tier <n>', 'pick among the assets of this tier (default 1)')
    .option('--asset <name>', 'drill this asset')
    .option('--seed <n>', 'seed of the random pick, to repeat a drill exactly')
    .option('--keep-scratch', 'leave the scratch target in place afterwards')
    .action((flags: DrillFlags) => drillAction(flags));
  // A subcommand's options, such as --json, are parsed by `drill` when it has them too: read both.
  withRepoOptions(drill.command('report').description('print a drill or recovery report (default: the latest drill)'))
    .argument('[id]', 'report id or a unique prefix of it')
    .option('--format <format>', 'md, html or json (default md; --json means json)')
    .action((id: string | undefined, _flags: unknown, cmd: Command) => reportAction(id, cmd.optsWithGlobals()));
  withRepoOptions(drill.command('history').description("the trend of each asset's measured recovery times in drills"))
    .option('--asset <name>', 'only this asset')
    .action((_flags: unknown, cmd: Command) => historyAction(cmd.optsWithGlobals()));
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} takes a whole number, got "${value}"`);
  return Number(value);
}

async function drillAction(flags: DrillFlags): Promise<void> {
  if (flags.tier !== undefined && flags.asset !== undefined) throw new UsageError('give --tier or --asset, not both');
  const tier = integer('--tier', flags.tier);
  if (tier !== undefined && tier !== 1 && tier !== 2) throw new UsageError('--tier takes 1 or 2 (Tier 3 is rebuilt from git, not restored)');
  const seed = integer('--seed', flags.seed) ?? randomInt(2 ** 31);
  const out = makeOutput(!!flags.json, !!flags.quiet);
  const progress = runProgress(!flags.json && !flags.quiet);
  const loaded = await loadDrContext(flags, progress.onEvent);
  try {
    const [{ drillCandidates, pickDrill }, { runDrill }] = await Promise.all([import('../../control/drills.js'), import('../../control/runbook-run.js')]);
    const { ctx } = loaded;
    const candidates = drillCandidates(ctx.plan.assets, { tier, asset: flags.asset });
    if (candidates.length === 0) {
      throw new UsageError(flags.asset ? `no backed-up asset "${flags.asset}" in ${ctx.plan.file}` : `${ctx.plan.file} has no Tier ${tier ?? 1} asset with a source to drill`);
    }
    const pick = pickDrill(candidates, await history(loaded), seed, ctx.clock.now())!;
    if (!flags.asset) out.info(`drill of ${pick.asset} (picked with seed ${seed}; weights ${pick.weights.map((w) => `${w.asset} ${w.weight.toFixed(2)}`).join(', ')})`);
    await withInterrupt(async (signal) => {
      const startedAt = isoNow(ctx.clock);
      const report = await runDrill(ctx, pick.asset, { seed: flags.asset ? undefined : seed, signal, keepScratch: flags.keepScratch, skipDamaged: flags.skipDamaged });
      progress.stop();
      if (!signal.aborted) await recordDrillJob(loaded, report, startedAt, out);
      finishRun(report, out, signal.aborted);
    });
  } finally {
    progress.stop();
    await loaded.close();
  }
}

/** A drill run here is recorded as serve's are, so that serve counts it toward the tier's drill_every and the jobs page lists it. */
async function recordDrillJob(loaded: LoadedDr, report: Report, startedAt: string, out: Output): Promise<void> {
  const { ctx } = loaded;
  const named = ctx.repository ?? ctx.plan.primary;
  if (!named) return;
  const [{ drillOutcome }, { finishedJob, saveJobRecord }] = await Promise.all([import('../../control/drills.js'), import('../../control/jobs.js')]);
  const record = finishedJob('drill', drillOutcome(report), { host: report.host, startedAt, finishedAt: isoNow(ctx.clock) });
  await saveJobRecord(await ctx.openRepository(named), record).catch((err: unknown) => out.warn(`the drill's job record was not saved in ${named.name} (serve will not count it): ${messageOf(err)}`));
}

/** The reports of the repository drills are recorded in; none when it cannot be read (the drill's preflight will say why). */
async function history(loaded: LoadedDr, strict = false): Promise<Report[]> {
  const { ctx } = loaded;
  const named = ctx.repository ?? ctx.plan.primary;
  if (!named) {
    if (strict) throw new UsageError(`${ctx.plan.file} names no primary repository: pass -r`);
    return [];
  }
  const { listReports } = await import('../../control/reports.js');
  const read = ctx.openRepository(named).then((repo) => listReports(repo));
  return strict ? read : read.catch(() => []);
}

async function reportAction(id: string | undefined, flags: DrFlags & { format?: string }): Promise<void> {
  const format = flags.json ? 'json' : (flags.format ?? 'md');
  if (!['md', 'html', 'json'].includes(format)) throw new UsageError(`--format takes md, html or json, got "${format}"`);
  const loaded = await loadDrContext(flags);
  try {
    const reports = await history(loaded, true);
    const { findReport } = await import('../../control/reports.js');
    const report = id === undefined ? reports.filter((r) => r.mode === 'drill').pop() : findReport(reports, id);
    if (!report) throw new UsageError(id === undefined ? 'no drill has been recorded yet: run lifeboat drill' : `no report ${id} (lifeboat drill history lists them)`);
    if (format === 'json') process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else if (format === 'html') process.stdout.write((await import('../../control/report-html.js')).reportHtml(report));
    else process.stdout.write((await import('../../control/report-markdown.js')).reportMarkdown(report));
  } finally {
    await loaded.close();
  }
}

async function historyAction(flags: DrFlags & { asset?: string }): Promise<void> {
  const out = makeOutput(!!flags.json, !!flags.quiet);
  const loaded = await loadDrContext(flags);
  try {
    const { drillHistory } = await import('../../control/drills.js');
    const assets = drillHistory(await history(loaded, true), flags.asset);
    out.result({ assets }, () => {
      if (assets.length === 0) return 'no drill has been recorded yet: run lifeboat drill';
      return assets
        .map((a) => {
          const trend = a.trend ? `, ${a.trend} (${a.change_percent! > 0 ? '+' : ''}${a.change_percent}% against the median before)` : '';
          const rows = a.runs.map((r) => [r.started_at, r.id, r.failed_step ? `failed at ${r.failed_step}` : r.verdict, r.verdict === 'failed' ? '-' : formatSeconds(r.total_seconds)]);
          return `${a.asset}: RTO ${formatRto(a.rto_seconds)}, ${a.runs.length} drill(s)${trend}\n${table(['started', 'report', 'verdict', 'measured'], rows)}`;
        })
        .join('\n\n');
    });
  } finally {
    await loaded.close();
  }
}
