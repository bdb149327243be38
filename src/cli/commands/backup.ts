import type { Command } from 'commander';
import { backup } from '../../engine/backup.js';
import { retentionUntil, withRetention } from '../../engine/copy-retention.js';
import { OutcomeError, UsageError } from '../errors.js';
import { formatBytes, formatRate } from '../output.js';
import { startProgress } from '../progress.js';
import { interruptSignal, withRepo, withRepoOptions, type RepoFlags, SNAPSHOTS_AND_INDEX } from '../repo-options.js';
import { defaultSplitters } from '../splitters.js';

interface BackupFlags extends RepoFlags {
  asset: string;
  tag: string[];
  meta: string[];
  tier?: number;
  parent?: string;
  force?: boolean;
  retainDays?: number;
}

export function registerBackup(program: Command): void {
  withRepoOptions(program.command('backup').description('back up files and directories as a snapshot of an asset'))
    .argument('<paths...>', 'one directory (its contents become the snapshot), or files and directories')
    .requiredOption('--asset <name>', 'the asset this snapshot belongs to (e.g. llama-ft)')
    .option('--tag <tag>', 'a tag (repeatable)', collect, [])
    .option('--meta <key=value>', 'metadata (repeatable)', collect, [])
    .option('--tier <n>', 'recovery tier (1, 2, 3)', Number)
    .option('--parent <snapshot>', 'compare against this snapshot instead of the asset\'s latest')
    .option('--force', 're-read every file, even when it looks unchanged')
    .option('--retain-days <n>', 'write with Object Lock retention of n days, and extend older data the snapshot needs (S3 with Object Lock)', Number)
    .action(async (paths: string[], flags: BackupFlags) => {
      const signal = interruptSignal(); // armed now: a signal while the repository opens stops the backup before it starts
      const meta = Object.fromEntries(flags.meta.map(parseMeta));
      await withRepo(flags, async ({ repo: opened, out }) => {
        const repo = flags.retainDays === undefined ? opened : withRetention(opened, { until: retentionUntil(flags.retainDays) });
        const bar = startProgress('backup', !flags.json && !flags.quiet);
        const { snapshotId, snapshot } = await backup(repo, {
          asset: flags.asset,
          paths,
          tags: flags.tag,
          meta,
          tier: flags.tier,
          parent: flags.force ? null : flags.parent,
          splitters: defaultSplitters(),
          onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal),
          onWarning: (m) => out.warn(m),
          signal,
        }).finally(() => bar.stop());
        const s = snapshot.summary;
        out.result({ id: snapshotId, ...snapshot }, () =>
          [
            `snapshot ${snapshotId.slice(0, 12)} of ${snapshot.asset} saved${snapshot.incomplete.length ? ' (INCOMPLETE: some files could not be read)' : ''}`,
            `  files ${s.files}, dirs ${s.dirs}, ${formatBytes(s.totalBytes)} in total, ${formatBytes(s.readBytes)} read`,
            `  added ${s.newBlobs} blobs: ${formatBytes(s.newRawBytes)} of new data stored as ${formatBytes(s.newStoredBytes)}`,
            `  took ${(s.durationMs / 1000).toFixed(1)} s (${formatRate(s.readBytes, s.durationMs)} read)`,
          ].join('\n'),
        );
        if (snapshot.incomplete.length) {
          throw new OutcomeError('INCOMPLETE', `${snapshot.incomplete.length} file(s) could not be read completely; the snapshot is marked incomplete`);
        }
      }, { prefetch: SNAPSHOTS_AND_INDEX });
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseMeta(kv: string): [string, string] {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new UsageError(`--meta takes key=value, got "${kv}"`);
  return [kv.slice(0, eq), kv.slice(eq + 1)];
}
