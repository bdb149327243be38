import type { Command } from 'commander';
import { listSnapshots } from '../../engine/snapshots.js';
import { formatBytes, table } from '../output.js';
import { withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';

export function registerSnapshots(program: Command): void {
  withRepoOptions(program.command('snapshots').description('list snapshots, oldest first'))
    .option('--asset <name>', 'only this asset')
    .action(async (flags: RepoFlags & { asset?: string }) => {
      await withRepo(flags, async ({ repo, out }) => {
        const all = (await listSnapshots(repo)).filter((s) => !flags.asset || s.snapshot.asset === flags.asset);
        out.result(
          all.map(({ id, snapshot }) => ({ id, ...snapshot })),
          () =>
            table(
              ['ID', 'Time', 'Asset', 'Tier', 'Size', 'Tags', 'State'],
              all.map(({ id, snapshot: s }) => [
                id.slice(0, 12),
                s.time.replace('T', ' ').slice(0, 19),
                s.asset,
                s.tier === undefined ? '-' : String(s.tier),
                formatBytes(s.summary.totalBytes),
                s.tags.join(',') || '-',
                s.incomplete.length ? `incomplete (${s.incomplete.length})` : 'ok',
              ]),
            ) + `\n${all.length} snapshot(s)`,
        );
      });
    });
}
