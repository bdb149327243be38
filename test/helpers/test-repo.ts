/**
 * Repositories for tests: created through the engine with a cheap key derivation (the CLI's
 * default scrypt cost is deliberately slow), then used through the engine or the CLI.
 */
import path from 'node:path';
import { initRepository, openRepository, type Repository } from '../../src/repo/repository.js';
import type { RepoConfig } from '../../src/repo/config.js';
import { openLocalStorage } from '../../src/storage/local.js';

export const TEST_PASSWORD = 'correct horse battery staple';
export const FAST_KDF = { N: 1024, r: 8, p: 1 };

export async function createRepo(dir: string, config: Partial<Pick<RepoConfig, 'chunker' | 'packSize' | 'zstdLevel'>> = {}): Promise<Repository> {
  return initRepository(openLocalStorage(path.resolve(dir)), TEST_PASSWORD, { kdf: FAST_KDF, config });
}

/** Opens again, as a new process would: nothing cached from earlier calls. */
export async function reopenRepo(dir: string, password = TEST_PASSWORD): Promise<Repository> {
  return openRepository(openLocalStorage(path.resolve(dir)), password);
}
