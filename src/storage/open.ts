/** Opens the storage a repository URL names: a local directory path, or s3://BUCKET/PREFIX. */
import { StorageError } from './errors.js';
import { openLocalStorage } from './local.js';
import type { Storage } from './storage.js';

export async function openStorage(url: string): Promise<Storage> {
  if (url.startsWith('s3://') || url.startsWith('s3:')) {
    throw new StorageError(`S3 repositories (${url}) are not supported by this build yet`);
  }
  if (url.includes('://')) throw new StorageError(`unknown repository URL scheme in ${url}: use a directory path or s3://BUCKET/PREFIX`);
  return openLocalStorage(url);
}
