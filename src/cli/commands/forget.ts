import type { Command } from 'commander';
import { forget, type ForgetResult } from '../../engine/forget.js';
import { prune, type PruneResult } from '../../engine/prune.js';
import { UsageError } from '../errors.js';
import { formatBytes } from '../output.js';
import { interruptSignal, withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';

interface ForgetFlags extends RepoFlags {
  keepLast?: number;
  asset?: string;
  dryRun?: boolean;
  prune?: boolean;
}

/** `forget` and `prune`: retention by count, and freeing what no snapshot needs (never what is locked). */
export function registerForget(program: Command): void {
  withRepoOptions(program.command('forget').description('remove snapshots by a keep policy (their data goes with "prune"); locked snapshots stay'))
    .requiredOption('--keep-last <n>', 'keep the newest n snapshots of each asset', Number)
    .option('--asset <name>', 'only this asset')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .option('--prune', 'prune afterwards')
    .action(async (flags: ForgetFlags) => {
      if (!Number.isInteger(flags.keepLast) || flags.keepLast! < 0) throw new UsageError('--keep-last takes a whole number of at least 0');
      const signal = interruptSignal();
      await withRepo(flags, async ({ repo, out }) => {
        const stopping = { signal, onWarning: (m: string) => out.warn(m) };
        const forgotten = await forget(repo, { keepLast: flags.keepLast!, asset: flags.asset, dryRun: flags.dryRun, ...stopping });
        const pruned = flags.prune ? await prune(repo, { dryRun: flags.dryRun, ...stopping }) : undefined;
        out.result(pruned ? { ...forgotten, prune: pruned } : forgotten, () => [describeForget(forgotten), ...(pruned ? [describePrune(pruned)] : [])].join('\n'));
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

function describeForget(r: ForgetResult): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines = [`${verb} ${r.removed.length} snapshot(s), kept ${r.kept.length}`];
  for (const l of r.locked) lines.push(`left snapshot ${l.id.slice(0, 12)}: locked until ${l.until}`);
  return lines.join('\n');
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
