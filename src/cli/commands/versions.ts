import type { Command } from 'commander';
import { versionHistory, type VersionHistory } from '../../engine/version-history.js';
import { formatBytes, table } from '../output.js';
import { withRepo, withRepoOptions, type RepoFlags, SNAPSHOTS_AND_INDEX } from '../repo-options.js';

/** `lifeboat versions ASSET`: ASSET@v1, v2, ... with size, files and what changed; forgotten numbers stay listed. */
export function registerVersions(program: Command): void {
  withRepoOptions(program.command('versions').description('the versions of an asset (ASSET@vN): time, size, files and what changed since the one before'))
    .argument('<asset>', 'the asset')
    .action(async (asset: string, flags: RepoFlags) => {
      await withRepo(flags, async ({ repo, out }) => {
        const history = await versionHistory(repo, asset);
        for (const d of history.damaged) out.warn(`snapshot ${d.id.slice(0, 12)} is unreadable and left out (${d.problem}); it may be a version of ${asset}: run "lifeboat check"`);
        out.result(history, () => describe(history));
      }, { prefetch: SNAPSHOTS_AND_INDEX });
    });
}

function describe(h: VersionHistory): string {
  const damaged = h.damaged.length ? [`${h.damaged.length} snapshot object(s) cannot be read and may hold versions of ${h.asset} not listed here`] : [];
  if (h.versions.length === 0 && h.forgotten.length === 0) return [`no ${damaged.length ? 'readable ' : ''}versions of ${h.asset}`, ...damaged].join('\n');
  const rows = h.versions.map((v) => [
    v.version === null ? '-' : `v${v.version}`,
    v.snapshot.slice(0, 12),
    v.time.replace('T', ' ').slice(0, 19),
    formatBytes(v.size),
    String(v.files),
    v.changes === null ? 'first' : `+${v.changes.added} -${v.changes.removed} ~${v.changes.modified}${v.changes.tensorsChanged ? ` (${v.changes.tensorsChanged} tensors)` : ''}`,
    [v.source, v.lineage ? 'lineage' : ''].filter(Boolean).join(', '),
  ]);
  const lines = [table(['Version', 'Snapshot', 'Time', 'Size', 'Files', 'Changes', 'Notes'], rows)];
  for (const f of h.forgotten) lines.push(`v${f.version} (${f.snapshot.slice(0, 12)}, ${f.time.slice(0, 10)}) was forgotten on ${f.forgotten.replace('T', ' ').slice(0, 19)}; its number is not given again`);
  return [...lines, ...damaged].join('\n');
}
