import type { Command } from 'commander';
import { LifeboatError } from '../../base/errors.js';
import { parseDurationMs } from '../../base/duration.js';
import type { DrPlan } from '../../control/plan.js';
import type { KeepPolicy } from '../../control/policy.js';
import type { PolicySource } from '../../control/retention-plan.js';
import { applyRetention, type OpenedArchive, type RetentionOutcome } from '../../control/retention-run.js';
import { isEmptyPolicy } from '../../control/retention.js';
import { prune, type PruneResult } from '../../engine/prune.js';
import { openRepository } from '../../repo/repository.js';
import { openStorage } from '../../storage/open.js';
import { UsageError } from '../errors.js';
import { formatBytes } from '../output.js';
import { startProgress, type Progress } from '../progress.js';
import { defaultConfigFile, interruptSignal, readPassword, resolveRepo, resolveTarget, withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';

interface ForgetFlags extends RepoFlags {
  keepLast?: string;
  keepHourly?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepMonthly?: string;
  keepYearly?: string;
  keepWithin?: string;
  asset?: string;
  tier?: string;
  dryRun?: boolean;
  prune?: boolean;
}

const COUNT_FLAGS = [
  ['last', 'keepLast', 'keep the newest n snapshots'],
  ['hourly', 'keepHourly', 'keep the newest snapshot of each of the last n hours that have snapshots'],
  ['daily', 'keepDaily', 'keep the newest snapshot of each of the last n days that have snapshots (UTC days)'],
  ['weekly', 'keepWeekly', 'keep the newest snapshot of each of the last n ISO weeks that have snapshots'],
  ['monthly', 'keepMonthly', 'keep the newest snapshot of each of the last n months that have snapshots'],
  ['yearly', 'keepYearly', 'keep the newest snapshot of each of the last n years that have snapshots'],
] as const;

/** `forget` and `prune`: retention by a keep policy (flags or lifeboat.yaml, with archive), and freeing what no snapshot needs (never what is locked). */
export function registerForget(program: Command): void {
  let cmd = withRepoOptions(program.command('forget').description('remove snapshots past a keep policy (--keep-* flags, else each asset\'s policy in lifeboat.yaml, archiving where it says expired: archive); their data goes with "prune"; locked snapshots stay'));
  for (const [name, , help] of COUNT_FLAGS) cmd = cmd.option(`--keep-${name} <n>`, help);
  cmd
    .option('--keep-within <duration>', 'keep every snapshot within this duration (e.g. 30d) of the newest snapshot')
    .option('--asset <name>', 'only this asset')
    .option('--tier <n>', 'only the assets of this tier (with --keep-*: the snapshots recorded with it)')
    .option('--dry-run', 'say what would be removed and why each kept snapshot is kept; archive and remove nothing')
    .option('--prune', 'prune afterwards')
    .action(async (flags: ForgetFlags) => {
      const keep = keepFromFlags(flags);
      const tier = flags.tier === undefined ? undefined : Number(flags.tier);
      if (tier !== undefined && ![1, 2, 3].includes(tier)) throw new UsageError(`--tier takes 1, 2 or 3, not "${flags.tier}"`);
      const source: PolicySource = keep ? { from: 'flags', keep } : { from: 'file', plan: await planFor(flags) };
      const signal = interruptSignal();
      await withRepo(flags, async ({ repo, out }) => {
        const archive = source.from === 'file' ? source.plan.archive : undefined;
        let bar: Progress | undefined; // only once something is copied to the archive
        const outcome = await applyRetention(repo, {
          source,
          scope: { asset: flags.asset, tier },
          dryRun: flags.dryRun,
          openArchive: archive ? () => openArchive(flags, archive.name) : undefined,
          onCopyProgress: (p) => (bar ??= startProgress('archive', !flags.json && !flags.quiet)).update(p.bytesDone, p.bytesTotal),
          onWarning: (m) => out.warn(m),
          signal,
        }).finally(() => bar?.stop());
        const pruned = flags.prune ? await prune(repo, { dryRun: flags.dryRun, signal, onWarning: (m) => out.warn(m) }) : undefined;
        out.result(pruned ? { ...outcome, prune: pruned } : outcome, () => [describeForget(outcome), ...(pruned ? [describePrune(pruned)] : [])].join('\n'));
      });
    });

  withRepoOptions(program.command('prune').description('delete data no snapshot needs; objects under Object Lock stay and are listed with their dates'))
    .option('--dry-run', 'say what would be deleted, delete nothing')
    .action(async (flags: RepoFlags & { dryRun?: boolean }) => {
      const signal = interruptSignal();
      await withRepo(flags, async ({ repo, out }) => {
        const result = await prune(repo, { dryRun: flags.dryRun, signal, onWarning: (m) => out.warn(m) });
        out.result(result, () => describePrune(result));
      });
    });
}

/** The policy the --keep-* flags give; undefined when none is given (the policy then comes from lifeboat.yaml). */
function keepFromFlags(flags: ForgetFlags): KeepPolicy | undefined {
  const keep: KeepPolicy = {};
  for (const [name, flag] of COUNT_FLAGS) {
    const value = flags[flag];
    if (value === undefined) continue;
    if (!/^\d+$/.test(value)) throw new UsageError(`--keep-${name} takes a whole number of at least 0, not "${value}"`);
    keep[name] = Number(value);
  }
  if (flags.keepWithin !== undefined) {
    const ms = parseDurationMs(flags.keepWithin);
    if (ms === undefined) throw new UsageError(`--keep-within takes a duration such as 36h, 30d or 8w, not "${flags.keepWithin}"`);
    keep.withinMs = ms;
  }
  if (Object.keys(keep).length === 0) return undefined;
  if (isEmptyPolicy(keep)) throw new UsageError('this policy keeps nothing, and forget never removes every snapshot of an asset: give a --keep-* above 0 (to remove one snapshot, keep the others)');
  return keep;
}

/** lifeboat.yaml's plan, for a forget given no --keep-* flags. */
async function planFor(flags: ForgetFlags): Promise<DrPlan> {
  const file = flags.config ?? process.env.LIFEBOAT_CONFIG ?? defaultConfigFile();
  if (file === undefined) throw new UsageError('no keep policy: give --keep-last, --keep-daily, … or --keep-within, or describe the assets and their tiers in lifeboat.yaml (none found: use --config)');
  const { loadPlan, assetByName } = await import('../../control/plan.js');
  const plan = await loadPlan(file);
  if (flags.asset !== undefined && !assetByName(plan, flags.asset)) {
    throw new LifeboatError('NOT_FOUND_ASSET', `asset "${flags.asset}" is not in ${file} (${plan.assets.map((a) => a.name).join(', ') || 'it names none'}), so it has no policy there: give --keep-* flags`);
  }
  return plan;
}

/**
 * The archive repository (lifeboat.yaml's role: archive). Its password: LIFEBOAT_ARCHIVE_PASSWORD_FILE,
 * LIFEBOAT_ARCHIVE_PASSWORD or its password_file, else the repository's own.
 */
async function openArchive(flags: ForgetFlags, name: string): Promise<OpenedArchive> {
  const [primary, target] = [await resolveRepo(flags), await resolveTarget(flags, name, {})];
  if (primary.url === target.url) throw new UsageError(`the repository given is the archive "${name}" itself: forget by policy runs on the primary and archives to "${name}"`);
  const own = process.env.LIFEBOAT_ARCHIVE_PASSWORD_FILE !== undefined || process.env.LIFEBOAT_ARCHIVE_PASSWORD !== undefined || target.passwordFile !== undefined;
  const password = await readPassword(own ? { envPrefix: 'LIFEBOAT_ARCHIVE', configured: target.passwordFile } : { file: flags.passwordFile, configured: primary.passwordFile });
  const storage = await openStorage(target.url, { s3: target.s3 });
  try {
    return { repo: await openRepository(storage, password), close: () => storage.close() };
  } catch (err) {
    await storage.close();
    throw err;
  }
}

const VERB_WIDTH = 'would archive'.length;
const shortTime = (iso: string) => iso.replace('T', ' ').slice(0, 19);

function describeForget(r: RetentionOutcome): string {
  const lines: string[] = [];
  for (const a of r.assets) {
    const goes = a.expired === 'delete' ? 'delete' : r.archive ? `archive to ${r.archive.name}` : 'archive, but no repository has role: archive (kept meanwhile)';
    lines.push(`${a.asset}${a.tier === undefined ? '' : ` (tier ${a.tier})`}: keep ${a.policy}; past it: ${goes}`);
    const rows = [
      ...a.kept.map((k) => ({ time: k.time, line: `  ${'keep'.padEnd(VERB_WIDTH)}  ${k.id.slice(0, 12)}  ${shortTime(k.time)}  ${k.reasons.join(', ')}` })),
      ...a.removed.map((s) => ({ time: s.time, line: `  ${verbOf(r, a.expired).padEnd(VERB_WIDTH)}  ${s.id.slice(0, 12)}  ${shortTime(s.time)}${s.archivedAs ? `  archived as ${s.archivedAs.slice(0, 12)}` : ''}` })),
      ...a.locked.map((l) => ({ time: l.time, line: `  ${'locked'.padEnd(VERB_WIDTH)}  ${l.id.slice(0, 12)}  ${shortTime(l.time)}  past the policy, under Object Lock until ${l.until}: left` })),
    ];
    lines.push(...rows.sort((x, y) => y.time.localeCompare(x.time)).map((x) => x.line));
  }
  if (r.leftAlone.length > 0) {
    lines.push(`left alone, not in lifeboat.yaml (whose policy this is): ${r.leftAlone.map((l) => `${l.asset} (${l.snapshots} snapshot(s))`).join(', ')}`);
  }
  if (r.archive?.check) {
    const c = r.archive.check;
    lines.push(`archived to ${r.archive.name}: ${r.archive.copied} snapshot(s) copied, ${r.archive.present} there already; checked there: ${c.snapshots} snapshot(s), ${c.trees} tree(s), ${c.blobs} blob(s), ${formatBytes(c.bytesRead)} read back and verified`);
  }
  const verb = r.dryRun ? 'would remove' : 'removed';
  lines.push(`${verb} ${r.removed.length} snapshot(s), kept ${r.kept.length}${r.locked.length ? `, left ${r.locked.length} locked` : ''}`);
  return lines.join('\n');
}

function verbOf(r: RetentionOutcome, expired: 'archive' | 'delete'): string {
  if (expired === 'archive') return r.dryRun ? 'would archive' : 'archived';
  return r.dryRun ? 'would remove' : 'removed';
}

function describePrune(r: PruneResult): string {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const lines = [`${verb} ${r.packsDeleted} pack(s) (${formatBytes(r.bytesFreed)}); ${r.partlyUsedPacks} partly used pack(s) kept (${formatBytes(r.reclaimableBytes)} reclaimable by a future repack)`];
  const lockedBytes = r.lockedPacks.reduce((n, p) => n + p.bytes, 0);
  if (r.lockedPacks.length) {
    const last = r.lockedPacks.map((p) => p.until).sort().at(-1);
    lines.push(`left ${r.lockedPacks.length} unneeded pack(s) (${formatBytes(lockedBytes)}) under Object Lock, the last until ${last}:`);
    for (const p of r.lockedPacks) lines.push(`  pack ${p.pack.slice(0, 12)}  ${formatBytes(p.bytes)}  locked until ${p.until}`);
  }
  for (const i of r.lockedIndexes) lines.push(`left index ${i.index.slice(0, 12)}: locked until ${i.until}`);
  return lines.join('\n');
}
