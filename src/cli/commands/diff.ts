import type { Command } from 'commander';
import { diff } from '../../engine/inspect.js';
import { formatBytes } from '../output.js';
import { withRepo, withRepoOptions, type RepoFlags, SNAPSHOTS_AND_INDEX } from '../repo-options.js';
import { withSkipDamaged, type SkipDamagedFlags } from '../snapshot-spec.js';

export function registerDiff(program: Command): void {
  withSkipDamaged(withRepoOptions(program.command('diff').description('what changed between two snapshots')))
    .argument('<from>', 'the older snapshot')
    .argument('<to>', 'the newer snapshot')
    .action(async (from: string, to: string, flags: RepoFlags & SkipDamagedFlags) => {
      await withRepo(flags, async ({ repo, out }) => {
        const d = await diff(repo, from, to, { skipDamaged: flags.skipDamaged, onWarning: (m) => out.warn(m) });
        out.result(d, () =>
          [
            ...d.added.map((e) => `+ ${e.path}${e.type === 'file' ? `  (${formatBytes(e.size)})` : ''}`),
            ...d.removed.map((e) => `- ${e.path}`),
            ...d.modified.map((m) => `M ${m.path}${m.after.type === 'file' ? `  (${formatBytes(m.before.size)} -> ${formatBytes(m.after.size)})` : ''}`),
            `${d.added.length} added, ${d.removed.length} removed, ${d.modified.length} modified`,
          ].join('\n'),
        );
      }, { prefetch: SNAPSHOTS_AND_INDEX });
    });
}
