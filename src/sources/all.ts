/** Every source this version knows, by kind. */
import { commandSource } from './command.js';
import { gitSource } from './git.js';
import { mysqlSource } from './mysql.js';
import { pathSource } from './path.js';
import { postgresSource } from './postgres.js';
import { makeSourceRegistry, type SourceRegistry } from './registry.js';
import { s3Source } from './s3.js';
import { sqliteSource } from './sqlite.js';

export function allSources(): SourceRegistry {
  const registry = makeSourceRegistry();
  for (const adapter of [pathSource, postgresSource, mysqlSource, sqliteSource, gitSource, s3Source, commandSource]) registry.register(adapter as never);
  return registry;
}
