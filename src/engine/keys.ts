/** Managing the keys that open a repository: add, list, remove, change a password. */
import { byCodeUnit } from '../base/order.js';
import { RepoError } from '../repo/errors.js';
import { parseKeyFile, wrapMasterKey, DEFAULT_KDF } from '../repo/keys.js';
import { listIds, objectKey, type Repository } from '../repo/repository.js';
import { underLock } from './operation.js';

export interface KeyInfo {
  id: string;
  current: boolean;
  created: string;
  host: string;
  user: string;
}

export async function listKeys(repo: Repository): Promise<KeyInfo[]> {
  const out: KeyInfo[] = [];
  for (const id of await listIds(repo.storage, 'key')) {
    const file = parseKeyFile(await repo.storage.get(objectKey('key', id)), id);
    out.push({ id, current: id === repo.keyId, created: file.created, host: file.host, user: file.user });
  }
  return out.sort((a, b) => byCodeUnit(a.created, b.created));
}

export async function addKey(repo: Repository, password: string, work = DEFAULT_KDF): Promise<string> {
  const wrapped = await wrapMasterKey(repo.key, password, work);
  await repo.storage.put(objectKey('key', wrapped.id), wrapped.bytes, { ifAbsent: true });
  return wrapped.id;
}

export async function removeKey(repo: Repository, idPrefix: string): Promise<string> {
  const matches = (await listIds(repo.storage, 'key')).filter((id) => id.startsWith(idPrefix));
  if (matches.length !== 1) throw new RepoError(matches.length === 0 ? `no key ${idPrefix}` : `key prefix ${idPrefix} is ambiguous`);
  const id = matches[0];
  if (id === repo.keyId) throw new RepoError(`key ${id.slice(0, 8)} is the one in use: open the repository with another key to remove it (or use "key passwd")`);
  await underLock(repo, 'exclusive', 'key remove', {}, ({ repo }) => repo.storage.delete(objectKey('key', id)));
  return id;
}

/** Adds a key for the new password, then removes the key in use: the repository is never without a key. */
export async function changePassword(repo: Repository, newPassword: string, work = DEFAULT_KDF): Promise<string> {
  const id = await addKey(repo, newPassword, work);
  await repo.storage.delete(objectKey('key', repo.keyId));
  return id;
}
