import type { Command } from 'commander';
import { replicationLag, type LagReport } from '../../engine/replication.js';
import { formatBytes, table } from '../output.js';
import { withRepoOptions } from '../repo-options.js';
import { openPair, registerCopy, withTargetOptions, type TargetFlags } from './copy.js';

/** Both replication commands: `copy` and `replicas`. */
export function registerReplication(program: Command): void {
  registerCopy(program);
  registerReplicas(program);
}

function registerReplicas(program: Command): void {
  withTargetOptions(withRepoOptions(program.command('replicas').description('replication lag of a replica (--to) per asset: age of the newest snapshot it lacks, and bytes still to copy')))
    .option('--asset <name>', 'only this asset')
    .action(async (flags: TargetFlags & { asset?: string }) => {
      const pair = await openPair(flags);
      try {
        const report = await replicationLag(pair.source, pair.destination, { asset: flags.asset });
        pair.out.result(report, () => describeLag(report));
      } finally {
        await pair.close();
      }
    });
}

export function describeLag(report: LagReport): string {
  const rows = report.assets.map((a) => [
    a.asset,
    a.tier === undefined ? '-' : String(a.tier),
    `${a.replicated}/${a.primarySnapshots}`,
    a.newestReplicated ? a.newestReplicated.replace('T', ' ').slice(0, 19) : 'never',
    a.missing === 0 ? 'in sync' : formatDuration(a.lagMs),
    formatBytes(a.pendingBytes),
  ]);
  const behind = report.assets.filter((a) => a.missing > 0).length;
  return (
    `replica ${report.replica}\n` +
    table(['Asset', 'Tier', 'Replicated', 'Newest replicated', 'Lag', 'Pending'], rows) +
    `\n${behind} of ${report.assets.length} asset(s) behind; ${formatBytes(report.pendingBytes)} (${report.pendingBlobs} blob(s)) still to copy`
  );
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}
