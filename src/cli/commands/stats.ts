import type { Command } from 'commander';
import { stats } from '../../engine/inspect.js';
import { formatBytes, table } from '../output.js';
import { withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';
import { withSkipDamaged, type SkipDamagedFlags } from '../snapshot-spec.js';

export function registerStats(program: Command): void {
  withSkipDamaged(withRepoOptions(program.command('stats').description('sizes and ratios: raw, stored, dedup, compression')))
    .argument('[snapshot]', 'one snapshot (default: all)')
    .action(async (spec: string | undefined, flags: RepoFlags & SkipDamagedFlags) => {
      await withRepo(flags, async ({ repo, out }) => {
        const s = await stats(repo, spec, { skipDamaged: flags.skipDamaged, onWarning: (m) => out.warn(m) });
        out.result(s, () =>
          [
            `snapshots          ${s.snapshots}`,
            `logical size       ${formatBytes(s.logicalBytes)}${s.sparseBytes ? ` (${formatBytes(s.sparseBytes)} of it holes)` : ''}`,
            `unique data        ${formatBytes(s.rawBytes)} in ${s.blobs} blobs (dedup ${s.dedupRatio.toFixed(2)}x)`,
            `stored             ${formatBytes(s.storedBytes)} (compression ${s.compressionRatio.toFixed(2)}x, overall ${s.totalRatio.toFixed(2)}x)`,
            '',
            table(
              ['Codec', 'Blobs', 'Raw', 'Stored', 'Saved'],
              Object.entries(s.byCodec).map(([name, c]) => [name, String(c.blobs), formatBytes(c.rawBytes), formatBytes(c.storedBytes), `${(100 * (1 - c.storedBytes / Math.max(c.rawBytes, 1))).toFixed(1)}%`]),
            ),
          ].join('\n'),
        );
      });
    });
}
