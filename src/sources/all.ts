/** Every source this version knows, by kind. */
import type { BackupResult } from '../engine/backup.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotOptions, SourceContext } from './adapter.js';
import { commandSource } from './command.js';
import type { SourceConfig } from './config.js';
import { gitSource } from './git.js';
import { mysqlSource } from './mysql.js';
import { pathSource } from './path.js';
import { postgresSource } from './postgres.js';
import { systemRunner } from './process.js';
import { makeSourceRegistry, type SourceRegistry } from './registry.js';
import { s3Source } from './s3.js';
import { sqliteSource } from './sqlite.js';

export function allSources(): SourceRegistry {
  const registry = makeSourceRegistry();
  for (const adapter of [pathSource, postgresSource, mysqlSource, sqliteSource, gitSource, s3Source, commandSource]) registry.register(adapter as never);
  return registry;
}

/** Backs up any source as one snapshot, by its kind's adapter. */
export function backupSource(repo: Repository, config: SourceConfig, options: SnapshotOptions, ctx: Partial<SourceContext> = {}): Promise<BackupResult> {
  return allSources().get(config.kind).backup(repo, config as never, options, { runner: systemRunner, ...ctx });
}
