import type { Command } from 'commander';
import { ls } from '../../engine/inspect.js';
import { formatBytes, table } from '../output.js';
import { withRepo, withRepoOptions, type RepoFlags, SNAPSHOTS_AND_INDEX } from '../repo-options.js';
import { splitSpec, withSkipDamaged, type SkipDamagedFlags } from '../snapshot-spec.js';

export function registerLs(program: Command): void {
  withSkipDamaged(withRepoOptions(program.command('ls').description('list the files of a snapshot')))
    .argument('<snapshot>', 'id, id prefix, latest, or ASSET@latest; optionally :subpath')
    .action(async (spec: string, flags: RepoFlags & SkipDamagedFlags) => {
      const { snapshot, subpath } = splitSpec(spec);
      await withRepo(flags, async ({ repo, out }) => {
        const { snapshotId, entries } = await ls(repo, snapshot, subpath, { skipDamaged: flags.skipDamaged, onWarning: (m) => out.warn(m) });
        out.result({ snapshot: snapshotId, entries }, () =>
          table(
            ['Mode', 'Size', 'Modified', 'Path'],
            entries.map((e) => [
              `${e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-'}${(e.mode & 0o777).toString(8).padStart(3, '0')}`,
              e.type === 'file' ? formatBytes(e.size) : '',
              e.mtime.replace('T', ' ').slice(0, 19),
              e.type === 'symlink' ? `${e.path} -> ${e.target}` : e.type === 'dir' ? `${e.path}/` : e.path,
            ]),
          ),
        );
      }, { prefetch: SNAPSHOTS_AND_INDEX });
    });
}
