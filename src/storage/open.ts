/** Opens the storage a repository URL names: a local directory path, or s3://BUCKET/PREFIX. */
import { StorageError } from './errors.js';
import { openLocalStorage } from './local.js';
import { formatS3Url, parseS3Url, resolveS3Options, type S3Options } from './s3-options.js';
import type { Storage } from './storage.js';

export interface OpenStorageOptions {
  /** Client settings for s3:// URLs (CLI flags, config file); the AWS environment fills the rest. */
  s3?: S3Options;
  /** Environment to read AWS_* variables from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export async function openStorage(url: string, options: OpenStorageOptions = {}): Promise<Storage> {
  if (isRemote(url)) {
    // Loaded on demand: the AWS SDK is large, and local repositories never need it.
    const { openS3Storage } = await import('./s3.js');
    return openS3Storage(url, options.s3, options.env ?? process.env);
  }
  return openLocalStorage(url);
}

/**
 * What tells a remote repository apart from every other, for a local cache of it: the endpoint
 * (or AWS region) and the URL. Undefined for a local directory, which needs no cache. Checks the
 * URL as openStorage does, without loading the S3 client.
 */
export function remoteIdentity(url: string, options: OpenStorageOptions = {}): string | undefined {
  if (!isRemote(url)) return undefined;
  const resolved = resolveS3Options(options.s3, options.env ?? process.env);
  return `${resolved.endpoint ?? `aws:${resolved.region}`} ${formatS3Url(parseS3Url(url))}`;
}

function isRemote(url: string): boolean {
  if (url.startsWith('s3:')) return true;
  if (url.includes('://')) throw new StorageError(`unknown repository URL scheme in ${url}: use a directory path or s3://BUCKET/PREFIX`);
  return false;
}
