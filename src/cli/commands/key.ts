import type { Command } from 'commander';
import { addKey, changePassword, listKeys, removeKey } from '../../engine/keys.js';
import { table } from '../output.js';
import { readPassword, withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';

type KeyFlags = RepoFlags & { newPasswordFile?: string };

export function registerKey(program: Command): void {
  const key = program.command('key').description('manage the passwords (keys) that open the repository');
  const newPassword = (flags: KeyFlags) => readPassword({ file: flags.newPasswordFile, envPrefix: 'LIFEBOAT_NEW', purpose: 'new password' });
  withRepoOptions(key.command('list').description('list keys'))
    .action(async (flags: RepoFlags) =>
      withRepo(flags, async ({ repo, out }) => {
        const keys = await listKeys(repo);
        out.result(keys, () => table(['', 'ID', 'Created', 'User@Host'], keys.map((k) => [k.current ? '*' : '', k.id.slice(0, 12), k.created, `${k.user}@${k.host}`])));
      }),
    );
  withRepoOptions(key.command('add').description('add a key with a new password (--new-password-file or LIFEBOAT_NEW_PASSWORD)'))
    .option('--new-password-file <file>', 'the new password, from a file')
    .action(async (flags: KeyFlags) =>
      withRepo(flags, async ({ repo, out }) => {
        const id = await addKey(repo, await newPassword(flags));
        out.result({ id }, () => `added key ${id.slice(0, 12)}`);
      }),
    );
  withRepoOptions(key.command('remove').description('remove a key (not the one in use)'))
    .argument('<id>', 'key id or unique prefix')
    .action(async (id: string, flags: RepoFlags) =>
      withRepo(flags, async ({ repo, out }) => {
        const removed = await removeKey(repo, id);
        out.result({ removed }, () => `removed key ${removed.slice(0, 12)}`);
      }),
    );
  withRepoOptions(key.command('passwd').description('change the password of the key in use'))
    .option('--new-password-file <file>', 'the new password, from a file')
    .action(async (flags: KeyFlags) =>
      withRepo(flags, async ({ repo, out }) => {
        const id = await changePassword(repo, await newPassword(flags));
        out.result({ id, replaced: repo.keyId }, () => `password changed (key ${repo.keyId.slice(0, 12)} replaced by ${id.slice(0, 12)})`);
      }),
    );
}
