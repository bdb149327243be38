/**
 * SQLite (Label Studio's and MLflow's default): SQLite's online backup API (better-sqlite3) copies
 * the database while its application keeps writing. The copy is taken in one step, inside one
 * read transaction, so it is one consistent state even under a steady writer (in WAL mode the
 * writer never waits; in rollback-journal mode it waits, with its busy timeout, for that step).
 * The copy is checked with PRAGMA integrity_check and its tables counted before it is stored, and
 * removed afterwards: the one source that needs a private scratch copy, because the API writes a
 * database file. Restore is the file's, as any file's, then checked and counted again.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { backupStreams } from '../engine/stream-backup.js';
import { restore as restoreFiles } from '../engine/restore.js';
import { report, type Check, type SourceAdapter } from './adapter.js';
import type { SqliteSourceConfig } from './config.js';
import { compareCounts } from './database.js';
import { SourceError } from './errors.js';
import { openSourceSnapshot, readManifest, sourceRecord } from './manifest.js';
import { withPrivateDir } from './secrets.js';

const require = createRequire(import.meta.url);

interface SqliteManifest {
  kind: 'sqlite';
  file: string;
  sqliteVersion: string;
  pages: number;
  journalMode: string;
  integrity: string;
  rows: Record<string, number>;
}

function openDb(file: string, options: BetterSqlite3.Options): BetterSqlite3.Database {
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  try {
    return new Database(file, options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SourceError(code === 'SQLITE_CANTOPEN' ? 'SOURCE_NOT_FOUND' : 'SOURCE', `cannot open the SQLite database ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** PRAGMA integrity_check and the rows of every table of a database file. */
function inspect(file: string): { integrity: string; rows: Record<string, number>; version: string; pages: number; journalMode: string } {
  const db = openDb(file, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all() as Array<{ name: string }>;
    const rows: Record<string, number> = {};
    for (const { name } of tables) rows[name] = (db.prepare(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`).get() as { n: number }).n;
    const version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    return { integrity, rows, version, pages: db.pragma('page_count', { simple: true }) as number, journalMode: db.pragma('journal_mode', { simple: true }) as string };
  } finally {
    db.close();
  }
}

function integrityCheck(integrity: string, what: string): Check {
  return { name: 'integrity_check', ok: integrity === 'ok', detail: integrity === 'ok' ? `${what}: ok` : `${what}: ${integrity}` };
}

export const sqliteSource: SourceAdapter<SqliteSourceConfig> = {
  kind: 'sqlite',

  async backup(repo, config, options, ctx) {
    await fs.access(config.path).catch((err) => {
      throw new SourceError('SOURCE_NOT_FOUND', `the SQLite database ${config.path} does not exist or cannot be read (${(err as Error).message})`, { cause: err });
    });
    return withPrivateDir(ctx.tmpDir, async (dir) => {
      const name = path.basename(config.path);
      const copy = path.join(dir, name);
      const source = openDb(config.path, { readonly: true, fileMustExist: true, timeout: 30_000 });
      try {
        // The first step only starts the backup; returning the largest page count makes the next one copy everything at once.
        await source.backup(copy, { progress: () => 0x7fffffff });
      } catch (err) {
        throw new SourceError('SOURCE', `SQLite online backup of ${config.path} failed: ${(err as Error).message}`, { cause: err });
      } finally {
        source.close();
      }
      const seen = inspect(copy);
      if (seen.integrity !== 'ok') throw new SourceError('SOURCE_VERIFY', `the copy of ${config.path} fails PRAGMA integrity_check (${seen.integrity}): the database itself is damaged; nothing was stored`);
      const manifest: SqliteManifest = { kind: 'sqlite', file: name, sqliteVersion: seen.version, pages: seen.pages, journalMode: seen.journalMode, integrity: seen.integrity, rows: seen.rows };
      const record = sourceRecord('sqlite', config.path, { sqliteVersion: seen.version, tables: Object.keys(seen.rows).length, integrity: 'ok' });
      return backupStreams(repo, { ...options, location: config.path, record: { ...record, lineage: options.lineage }, workers: ctx.workers, signal: ctx.signal, onProgress: ctx.onProgress, onWarning: ctx.warn }, async (sink) => {
        await sink.addFile(name, copy);
        await sink.addBytes('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
      });
    });
  },

  async restore(repo, spec, request, ctx) {
    const reader = await openSourceSnapshot(repo, spec, 'sqlite', ctx.workers);
    let manifest: SqliteManifest;
    try {
      manifest = await readManifest<SqliteManifest>(reader);
    } finally {
      await reader.close();
    }
    const result = await restoreFiles(repo, { snapshot: reader.id, target: request.to, workers: ctx.workers, onWarning: ctx.warn });
    if (result.failed.length) throw new SourceError('SOURCE_VERIFY', `restore of ${reader.id.slice(0, 12)} failed: ${result.failed.map((f) => `${f.path}: ${f.error}`).join('; ')}`);
    const file = path.join(path.resolve(request.to), manifest.file);
    const seen = inspect(file);
    const checks = [integrityCheck(seen.integrity, file), ...compareCounts(manifest.rows, new Map(Object.entries(seen.rows)), file)];
    return { snapshotId: reader.id, kind: 'sqlite', target: file, entries: result.files.length, bytes: result.bytes, checks };
  },

  async verify(repo, spec, ctx) {
    return withPrivateDir(ctx.tmpDir, async (dir) => {
      const outcome = await sqliteSource.restore(repo, spec, { to: dir }, ctx);
      return report(outcome.snapshotId, 'sqlite', outcome.checks);
    });
  },
};
