// BorgBackup: repokey encryption, `--compression` as given (default zstd,3). BORG_BASE_DIR
// (cache, security and key dirs) lives in the bench work directory. The files cache keeps
// entries for BORG_FILES_CACHE_TTL backups; it is raised so the no-change re-backup of a long
// series still finds every directory's files (borg's docs advise this for rotating sources).
import path from 'node:path';
import { measured, run } from './measure.js';
import type { BackupTool, ToolContext } from './tool.js';

export function borgTool(ctx: ToolContext, compression: string): BackupTool {
  const env = {
    BORG_PASSPHRASE: ctx.password,
    BORG_BASE_DIR: path.join(ctx.workDir, 'borg-base'),
    BORG_FILES_CACHE_TTL: '1000',
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
  };
  return {
    name: 'borg',
    settings: `repokey, compression ${compression}`,
    version: async () => (await run(['borg', '--version'])).trim(),
    init: async (repo) => {
      await run(['borg', 'init', '--encryption', 'repokey', repo], { env });
    },
    backup: (req) => measured(['borg', 'create', '--compression', compression, `${req.repo}::${req.version}${req.again ? '-again' : ''}`, req.dir], { env }),
    restore: async (repo, version, sourceDir, target) => {
      const r = await measured(['borg', 'extract', `${repo}::${version}`], { env, cwd: target });
      return { ...r, restoredDir: path.join(target, sourceDir) };
    },
  };
}
