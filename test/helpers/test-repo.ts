/**
 * Repositories for tests: created through the engine with a cheap key derivation (the CLI's
 * default scrypt cost is deliberately slow), then used through the engine or the CLI. They live
 * on the backend LIFEBOAT_TEST_BACKEND chooses (see test-backend.ts); the CLI reaches the same
 * repository with `-r repoUrl(dir)`.
 */
import { initRepository, openRepository, type Repository } from '../../src/repo/repository.js';
import type { RepoConfig } from '../../src/repo/config.js';
import { openTestStorage } from './test-backend.js';

export { repoUrl } from './test-backend.js';

export const TEST_PASSWORD = 'correct horse battery staple';
export const FAST_KDF = { N: 1024, r: 8, p: 1 };

export async function createRepo(dir: string, config: Partial<Pick<RepoConfig, 'chunker' | 'packSize' | 'zstdLevel' | 'maxDeltaDepth'>> = {}, password = TEST_PASSWORD): Promise<Repository> {
  return initRepository(await openTestStorage(dir), password, { kdf: FAST_KDF, config });
}

/** Opens again, as a new process would: nothing cached from earlier calls. */
export async function reopenRepo(dir: string, password = TEST_PASSWORD): Promise<Repository> {
  return openRepository(await openTestStorage(dir), password);
}
