/**
 * `backup`: paths as a snapshot of an asset (here), a source's dump (source-options.ts), or the
 * assets of lifeboat.yaml (backup-planned.ts). Each form loads only its own code: a re-backup
 * of an unchanged checkpoint is mostly process start, and the control plane's code (zod, yaml,
 * SQLite, the sources) took a third of it.
 */
import type { Command } from 'commander';
import { withDirectIo, type DirectIoFlags } from '../direct-io.js';
import { UsageError } from '../errors.js';
import { startProgress } from '../progress.js';
import { interruptSignal, withRepo, withRepoOptions, type RepoFlags, SNAPSHOTS_AND_INDEX } from '../repo-options.js';
import { isSourceBackup, withSourceOptions, type SourceFlags } from '../source-flags.js';
import { describeSnapshot, incompleteError } from './backup-describe.js';

export interface BackupFlags extends RepoFlags, DirectIoFlags {
  asset?: string;
  tag: string[];
  meta: string[];
  tier?: number;
  due?: boolean;
  all?: boolean;
  replicate?: boolean;
  host?: string;
  parent?: string;
  force?: boolean;
  retainDays?: number;
}

export function registerBackup(program: Command): void {
  withDirectIo(withSourceOptions(withRepoOptions(program.command('backup').description('back up files and directories as a snapshot of an asset, or the assets of lifeboat.yaml (--asset, --tier, --due, --all)'))
    .argument('[paths...]', 'one directory (its contents become the snapshot), or files and directories; none: the asset\'s source from lifeboat.yaml')
    .option('--asset <name>', 'the asset this snapshot belongs to (e.g. llama-ft); without paths, the asset of lifeboat.yaml')
    .option('--tier <n>', 'with paths: the recovery tier to record; without: every asset of this tier in lifeboat.yaml', Number)
    .option('--due', 'every asset of lifeboat.yaml whose RPO clock says a backup is due')
    .option('--all', 'every asset of lifeboat.yaml (Tier 1 and 2)')
    .option('--no-replicate', 'lifeboat.yaml assets: do not copy the new snapshots to the tier\'s replicate_to')
    .option('--host <name>', 'the host the snapshots and job records name (default: this machine\'s name)')
    .option('--tag <tag>', 'a tag (repeatable)', collect, [])
    .option('--meta <key=value>', 'metadata (repeatable)', collect, [])
    .option('--parent <snapshot>', 'compare against this snapshot instead of the asset\'s latest')
    .option('--force', 're-read every file, even when it looks unchanged')
    .option('--retain-days <n>', 'write with Object Lock retention of n days, and extend older data the snapshot needs (S3 with Object Lock)', Number)), 'packs of a local repository')
    .action(async (paths: string[], flags: BackupFlags) => {
      if (flags.tier !== undefined && ![1, 2, 3].includes(flags.tier)) throw new UsageError('--tier takes 1, 2 or 3');
      if (isSourceBackup(flags as BackupFlags & SourceFlags, paths)) {
        // a source (--postgres, ...), or paths with lineage
        await (await import('../source-options.js')).backupFromFlags(paths, flags as BackupFlags & SourceFlags);
        return;
      }
      if (paths.length > 0) return backupPaths(paths, flags);
      if (flags.asset === undefined && flags.tier === undefined && !flags.due && !flags.all) {
        throw new UsageError('say what to back up: paths with --asset NAME, or --asset NAME, --tier N, --due or --all for the assets of lifeboat.yaml');
      }
      return (await import('./backup-planned.js')).backupPlanned(flags);
    });
}

/** Paths on the command line, as an asset named by --asset. */
async function backupPaths(paths: string[], flags: BackupFlags): Promise<void> {
  if (!flags.asset) throw new UsageError('backing up paths needs --asset NAME (the asset the snapshot belongs to)');
  if (flags.due || flags.all) throw new UsageError('--due and --all back up the assets of lifeboat.yaml: give no paths with them');
  const meta = Object.fromEntries(flags.meta.map(parseMeta));
  const signal = interruptSignal(); // armed now: a signal while the repository opens stops the backup before it starts
  // The engine's code loads while the repository opens (the key derivation runs in the threadpool meanwhile).
  const code = Promise.all([import('../../engine/backup.js'), import('../../repo/chunker/default-splitters.js'), flags.retainDays === undefined ? undefined : import('../../engine/copy-retention.js')]);
  code.catch(() => {});
  await withRepo(flags, async ({ repo: opened, out }) => {
    const [{ backup }, { defaultSplitters }, retention] = await code;
    const repo = retention ? retention.withRetention(opened, { until: retention.retentionUntil(flags.retainDays!) }) : opened;
    const bar = startProgress('backup', !flags.json && !flags.quiet);
    const { snapshotId, snapshot } = await backup(repo, {
      asset: flags.asset!,
      paths,
      tags: flags.tag,
      meta,
      tier: flags.tier,
      host: flags.host,
      parent: flags.force ? null : flags.parent,
      splitters: defaultSplitters(),
      directIo: flags.directIo,
      onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal),
      onWarning: (m) => out.warn(m),
      signal,
    }).finally(() => bar.stop());
    out.result({ id: snapshotId, ...snapshot }, () => describeSnapshot(snapshotId, snapshot));
    if (snapshot.incomplete.length) throw incompleteError(snapshot);
  }, { prefetch: SNAPSHOTS_AND_INDEX });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseMeta(kv: string): [string, string] {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new UsageError(`--meta takes key=value, got "${kv}"`);
  return [kv.slice(0, eq), kv.slice(eq + 1)];
}
