/**
 * The storage backend test repositories live on: a local directory (default) or the test Ceph RGW,
 * chosen by LIFEBOAT_TEST_BACKEND=local|s3, so one suite specifies both. Tests name a repository
 * by a local path under their temp dir; on S3 that path becomes the prefix in the run's bucket
 * (LIFEBOAT_TEST_S3_BUCKET, made and removed by scripts/run-tests.mjs), so the repository is new,
 * empty and gone with the temp dir, as a local one is.
 */
import path from 'node:path';
import { openLocalStorage } from '../../src/storage/local.js';
import type { Storage } from '../../src/storage/storage.js';
import { RGW_CLI_ENV } from '../storage/rgw-endpoint.js';

export type TestBackend = 'local' | 's3';

export const TEST_BACKEND: TestBackend = backendFromEnv();

function backendFromEnv(): TestBackend {
  const name = process.env.LIFEBOAT_TEST_BACKEND || 'local';
  if (name !== 'local' && name !== 's3') throw new Error(`LIFEBOAT_TEST_BACKEND is "${name}": use local or s3`);
  return name;
}

function bucket(): string {
  const name = process.env.LIFEBOAT_TEST_S3_BUCKET;
  if (!name) {
    throw new Error(
      'LIFEBOAT_TEST_BACKEND=s3 needs a bucket: run the tests with "LIFEBOAT_TEST_BACKEND=s3 node scripts/run-tests.mjs", ' +
        'which makes one, or set LIFEBOAT_TEST_S3_BUCKET to an existing bucket on the test RGW',
    );
  }
  return name;
}

/** The repository URL for the test path `dir`: the path itself, or s3://BUCKET/<the path without its leading slash>. */
export function repoUrl(dir: string): string {
  const abs = path.resolve(dir);
  return TEST_BACKEND === 'local' ? abs : `s3://${bucket()}/${abs.slice(1)}`;
}

/** The storage repoUrl(dir) names, opened as a command would open it. */
export async function openTestStorage(dir: string): Promise<Storage> {
  if (TEST_BACKEND === 'local') return openLocalStorage(path.resolve(dir));
  // Loaded on demand: local runs never load the AWS SDK.
  const [{ openS3Storage }, { rgwOptions }] = await Promise.all([import('../../src/storage/s3.js'), import('../storage/rgw.js')]);
  return openS3Storage(repoUrl(dir), rgwOptions(), {});
}

/** Environment for a CLI child process, so that repoUrl() URLs open there too. */
export function testBackendEnv(): Record<string, string> {
  return TEST_BACKEND === 'local' ? {} : RGW_CLI_ENV;
}

/** On S3, deletes every object under the prefix of test path `dir` (a temp dir that is going away). */
export async function removeTestObjects(dir: string): Promise<void> {
  if (TEST_BACKEND === 'local') return;
  const storage = await openTestStorage(dir);
  try {
    const keys = await objectKeys(storage);
    for (let i = 0; i < keys.length; i += 32) await Promise.all(keys.slice(i, i + 32).map((k) => storage.delete(k)));
  } finally {
    await storage.close();
  }
}

/** The keys of every object under `prefix`, sorted. */
export async function objectKeys(storage: Storage, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of storage.list(prefix)) keys.push(info.key);
  return keys.sort();
}

/** Replaces an object's bytes in place, as damage on the disk or a tampering admin would. */
export async function overwriteObject(storage: Storage, key: string, bytes: Uint8Array): Promise<void> {
  await storage.put(key, bytes);
}

/** Flips one bit of the byte at `offset` of an object (a rotten sector, a bad disk). */
export async function flipByte(storage: Storage, key: string, offset: number, mask = 0x40): Promise<void> {
  const bytes = await storage.get(key);
  bytes[offset] ^= mask;
  await overwriteObject(storage, key, bytes);
}
