import type { Command } from 'commander';
import { initRepository } from '../../repo/repository.js';
import { makeOutput } from '../output.js';
import { chunkerParamsOf } from './copy.js';
import { UsageError } from '../errors.js';
import { openTargetStorage, readPassword, resolveRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';

export function registerInit(program: Command): void {
  withRepoOptions(program.command('init').description('create a new, empty, encrypted repository'))
    .option('--pack-size <MiB>', 'target pack size in MiB (default 16)', Number)
    .option('--zstd-level <n>', 'zstd level for general data (default 3; tensors use byte grouping)', Number)
    .option('--copy-chunker-params-from <url>', 'use the chunker parameters of this repository (URL, directory or name), so that backups into both deduplicate alike (for copy)')
    .option('--from-password-file <file>', 'password of that repository (env LIFEBOAT_FROM_PASSWORD_FILE or LIFEBOAT_FROM_PASSWORD)')
    .option('--create-bucket', 'S3: create the bucket first')
    .option('--object-lock', 'S3, with --create-bucket: enable Object Lock on the new bucket (immutable backups)')
    .action(async (flags: RepoFlags & { packSize?: number; zstdLevel?: number; copyChunkerParamsFrom?: string; fromPasswordFile?: string; createBucket?: boolean; objectLock?: boolean }) => {
      const out = makeOutput(!!flags.json, !!flags.quiet);
      const target = await resolveRepo(flags);
      if (flags.createBucket) {
        if (!target.url.startsWith('s3:')) throw new UsageError('--create-bucket is for s3:// repositories');
        const { createS3Bucket } = await import('../../storage/s3-bucket.js');
        await createS3Bucket(target.url, target.s3, { objectLock: flags.objectLock });
      }
      const storage = await openTargetStorage(target, flags.cache !== false);
      try {
        const password = await readPassword({ file: flags.passwordFile, configured: target.passwordFile });
        const chunker = flags.copyChunkerParamsFrom ? await chunkerParamsOf(flags, flags.copyChunkerParamsFrom, flags.fromPasswordFile) : undefined;
        const repo = await initRepository(storage, password, {
          config: { chunker, packSize: flags.packSize ? flags.packSize * 1024 * 1024 : undefined, zstdLevel: flags.zstdLevel },
        });
        out.result({ repository: storage.location, id: repo.config.id, keyId: repo.keyId, version: repo.config.version }, () =>
          `created repository ${repo.config.id.slice(0, 12)} at ${storage.location}\n` +
          'Keep the password safe: without it the data cannot be recovered by anyone.',
        );
      } finally {
        await storage.close();
      }
    });
}
