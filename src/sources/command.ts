/**
 * Any command's stdout as one file of a snapshot (restic's --stdin-from-command): `run` is a
 * shell line (`sh -c`) or an argv. A command that exits non-zero, or is killed, leaves no snapshot:
 * its output may be cut short, and a snapshot must not pretend to be complete. Restore is the
 * file's, as any file's; verify reads it back through its SHA-256.
 */
import { backupStreams } from '../engine/stream-backup.js';
import type { SourceAdapter } from './adapter.js';
import type { CommandSourceConfig } from './config.js';
import { sourceRecord } from './manifest.js';
import { pathSource } from './path.js';
import { checkExit } from './process.js';

export function commandLine(run: string | string[]): string {
  return typeof run === 'string' ? run : run.join(' ');
}

export const commandSource: SourceAdapter<CommandSourceConfig> = {
  kind: 'command',

  backup(repo, config, options, ctx) {
    const [tool, ...args] = typeof config.run === 'string' ? ['sh', '-c', config.run] : config.run;
    const line = commandLine(config.run);
    const record = sourceRecord('command', line, { filename: config.filename }, undefined);
    return backupStreams(repo, { ...options, location: line, record: { ...record, lineage: options.lineage }, workers: ctx.workers, signal: ctx.signal, onProgress: ctx.onProgress, onWarning: ctx.warn }, async (sink) => {
      const child = ctx.runner.spawn(tool, args, { signal: ctx.signal });
      try {
        await sink.addStream(config.filename, child.stdout);
        await checkExit(child, `command "${line}"`);
      } finally {
        child.kill();
      }
    });
  },

  restore: (repo, spec, request, ctx) => pathSource.restore(repo, spec, request, ctx).then((r) => ({ ...r, kind: 'command' as const })),
  verify: (repo, spec, ctx) => pathSource.verify(repo, spec, ctx).then((r) => ({ ...r, kind: 'command' as const })),
};
