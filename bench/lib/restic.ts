// restic: repository format 2 (compression), `--compression` as given (default auto), cache in
// the bench work directory. Parent snapshots are found by restic itself (same host and path).
import path from 'node:path';
import { measured, run } from './measure.js';
import type { BackupTool, ToolContext } from './tool.js';

export function resticTool(ctx: ToolContext, compression: string): BackupTool {
  const env = { RESTIC_PASSWORD: ctx.password, RESTIC_CACHE_DIR: path.join(ctx.workDir, 'restic-cache') };
  const base = (repo: string): string[] => ['restic', '-r', repo, '--quiet'];
  return {
    name: 'restic',
    settings: `compression ${compression}`,
    version: async () => (await run(['restic', 'version'])).trim().split(' ').slice(0, 2).join(' '),
    init: async (repo) => {
      await run([...base(repo), 'init', '--repository-version', '2'], { env });
    },
    backup: (req) => measured([...base(req.repo), 'backup', '--compression', compression, '--host', 'bench', '--tag', req.version, req.dir], { env }),
    restore: async (repo, version, sourceDir, target) => {
      const r = await measured([...base(repo), 'restore', 'latest', '--tag', version, '--target', target], { env });
      return { ...r, restoredDir: path.join(target, sourceDir) };
    },
  };
}

/** restic's name for a repository under prefix in an S3 bucket (`s3:http://host:port/bucket/prefix`). */
export function resticS3Repo(endpoint: string, bucket: string, prefix: string): string {
  return `s3:${endpoint.replace(/\/+$/, '')}/${bucket}/${prefix}`;
}
