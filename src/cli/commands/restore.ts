import { systemClock } from '../../base/clock.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { OutcomeError, UsageError } from '../errors.js';
import { isSourceRestore, withRestoreTargets, type RestoreTargetFlags } from '../source-flags.js';
import { withDirectIo, type DirectIoFlags } from '../direct-io.js';
import { formatBytes, formatRate } from '../output.js';
import { startProgress } from '../progress.js';
import { interruptSignal, withRepo, withRepoOptions, type RepoFlags, SNAPSHOTS_AND_INDEX } from '../repo-options.js';
import { splitSpec, withSkipDamaged, type SkipDamagedFlags } from '../snapshot-spec.js';

export function registerRestore(program: Command): void {
  withSkipDamaged(withDirectIo(withRestoreTargets(withRepoOptions(program.command('restore').description('restore a snapshot (or a path in it) into a directory, verified; or a database, git repository or bucket to where it belongs'))
    .argument('<snapshot>', 'id, id prefix, latest, ASSET@latest or ASSET@vN; optionally :subpath')
    .option('--target <dir>', 'directory to restore into (created if missing)')
    .option('--sha256sums', 'also write SHA256SUMS in the target, for "sha256sum -c"')), 'restored files'))
    .action(async (spec: string, flags: RepoFlags & RestoreTargetFlags & DirectIoFlags & SkipDamagedFlags & { target: string; sha256sums?: boolean }) => {
      // --to-postgres, --to-mysql, --to-git, --to-s3, --with-lineage: cli/source-options.ts
      if (isSourceRestore(flags) && (await (await import('../source-options.js')).restoreFromFlags(spec, flags))) return;
      if (!flags.target) throw new UsageError('say where to: --target DIR (or --to-postgres, --to-mysql, --to-git, --to-s3 for a snapshot of that source)');
      const signal = interruptSignal();
      const { snapshot, subpath } = splitSpec(spec);
      // The engine's code (threads, codecs) loads while the repository opens: sooner key derivation.
      const engine = import('../../engine/restore.js');
      engine.catch(() => {});
      await withRepo(flags, async ({ repo, out }) => {
        const { restore } = await engine;
        const started = systemClock.now();
        const bar = startProgress('restore', !flags.json && !flags.quiet);
        const result = await restore(repo, {
          snapshot,
          subpath,
          target: flags.target,
          directIo: flags.directIo,
          skipDamaged: flags.skipDamaged,
          onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal),
          onWarning: (m) => out.warn(m),
          signal,
        }).finally(() => bar.stop());
        const ms = systemClock.now() - started;
        const target = path.resolve(flags.target);
        if (flags.sha256sums) {
          const lines = result.files.map((f) => sha256sumLine(f.sha256, path.relative(target, f.path))).join('');
          await fs.writeFile(path.join(target, 'SHA256SUMS'), lines);
        }
        out.result({ ...result, target, durationMs: ms }, () =>
          `restored ${result.files.length} file(s), ${formatBytes(result.bytes)} from ${result.snapshotId.slice(0, 12)} to ${target} ` +
          `in ${(ms / 1000).toFixed(1)} s (${formatRate(result.bytes, ms)}), every file verified by SHA-256` +
          (flags.sha256sums ? `\nwrote ${path.join(target, 'SHA256SUMS')}` : '') +
          (result.removedTempFiles.length ? `\nremoved ${result.removedTempFiles.length} temporary file(s) left by an interrupted restore` : ''),
        );
        if (result.failed.length) {
          // Corrupt or missing data is damage (exit 13); a full disk alone is an ordinary failure.
          const damaged = result.failed.some((f) => f.code !== 'NO_SPACE');
          throw new OutcomeError(
            damaged ? 'DAMAGE_FOUND' : 'NO_SPACE',
            `${result.failed.length} file(s) were NOT restored:\n` + result.failed.map((f) => `  ${f.path}: ${f.error}`).join('\n'),
          );
        }
      }, { prefetch: SNAPSHOTS_AND_INDEX });
    });
}

/**
 * One line of sha256sum's format. A name with a newline is escaped as GNU sha256sum does: the
 * line starts with "\\" and the name's backslashes and newlines are written \\\\ and \\n.
 */
export function sha256sumLine(sha256: string, name: string): string {
  if (!/[\n\r]/.test(name)) return `${sha256}  ${name}\n`;
  const escaped = name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `\\${sha256}  ${escaped}\n`;
}
