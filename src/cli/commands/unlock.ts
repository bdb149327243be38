import type { Command } from 'commander';
import { removeLocks } from '../../repo/lock.js';
import { withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';

export function registerUnlock(program: Command): void {
  withRepoOptions(program.command('unlock').description('remove stale locks left by a killed process'))
    .option('--all', 'remove every lock, also live ones (only when you are sure nothing runs)')
    .action(async (flags: RepoFlags & { all?: boolean }) =>
      withRepo(flags, async ({ repo, out }) => {
        const removed = await removeLocks(repo, !!flags.all);
        out.result({ removed }, () => `removed ${removed} lock(s)`);
      }),
    );
}
