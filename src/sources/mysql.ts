/**
 * MariaDB / MySQL: `mariadb-dump` (or `mysqldump` for MySQL) `--single-transaction` streamed into
 * the repository. Its row counts are counted in the dump as it streams past (dump-rows.ts): they
 * are the counts of the one snapshot the dump took, which no second session could see. Restore:
 * the dump fed to the `mariadb`/`mysql` client into a new or existing database (`--clean` drops
 * and recreates it first), then the row counts are compared. Verify: the stored dump's rows
 * counted again. The dump tool's version must be at least the server's (major.minor).
 *
 * Connection settings and the password go to the tools in an option file (0600, removed
 * afterwards) named by --defaults-extra-file, never in argv.
 */
import { backupStreams } from '../engine/stream-backup.js';
import type { Repository } from '../repo/repository.js';
import { report, type SnapshotOptions, type SourceAdapter, type SourceContext } from './adapter.js';
import type { MysqlSourceConfig } from './config.js';
import { compareCounts, databaseUrl, feedChild, type DatabaseUrl } from './database.js';
import { insertRowCounter, type RowCounter } from './dump-rows.js';
import { SourceError, type SourceErrorCode } from './errors.js';
import { openSourceSnapshot, readManifest, sourceRecord } from './manifest.js';
import { checkExit, runText, type ProcessRunner } from './process.js';
import { withPrivateDir, writePrivateFile } from './secrets.js';

interface MysqlManifest {
  kind: 'mysql';
  database: string;
  dump: string;
  serverVersion: string;
  dumpTool: string;
  dumpVersion: string;
  charset?: string;
  collation?: string;
  rows: Record<string, number>;
}

/** A connection to one server: the option file, the client tool, the server's version. */
interface Server {
  db: DatabaseUrl;
  optionFile: string;
  client: string;
  version: string;
  mariadb: boolean;
  query(sql: string): Promise<string[][]>;
}

const quoteOption = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const ident = (name: string) => '`' + name.replace(/`/g, '``') + '`';
const literal = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function classifyMysql(stderr: string): SourceErrorCode | undefined {
  if (/Access denied for user/.test(stderr)) return 'SOURCE_AUTH';
  if (/Unknown database/.test(stderr)) return 'SOURCE_NOT_FOUND';
  return undefined;
}

/** The first of `tools` that runs, with its `--version` output. */
async function firstTool(runner: ProcessRunner, tools: string[]): Promise<{ tool: string; version: string }> {
  for (const tool of tools) {
    try {
      return { tool, version: await runText(runner, tool, ['--version'], `${tool} --version`) };
    } catch (err) {
      if ((err as SourceError).code !== 'SOURCE_TOOL_MISSING' || tool === tools[tools.length - 1]) throw err;
    }
  }
  throw new Error('unreachable');
}

/** "10.11.19-MariaDB-0+deb12u1" -> [10, 11]; "mariadb-dump Ver 10.19 Distrib 10.11.19-MariaDB" -> [10, 11]. */
export function mysqlVersion(text: string): [number, number] {
  const m = /Distrib (\d+)\.(\d+)/.exec(text) ?? /Ver (\d+)\.(\d+)/.exec(text) ?? /^(\d+)\.(\d+)/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

async function openServer(dir: string, db: DatabaseUrl, ctx: SourceContext, what: string): Promise<Server> {
  const lines = ['[client]', `host=${quoteOption(db.host)}`, ...(db.port ? [`port=${db.port}`] : []), ...(db.user ? [`user=${quoteOption(db.user)}`] : []), ...(db.password ? [`password=${quoteOption(db.password)}`] : [])];
  // TCP unless the URL says localhost, as the URL's host and port mean.
  if (db.host !== 'localhost') lines.push('protocol=TCP');
  const optionFile = await writePrivateFile(dir, 'my.cnf', lines.join('\n') + '\n');
  const { tool: client } = await firstTool(ctx.runner, ['mariadb', 'mysql']);
  const query = async (sql: string) => {
    const out = await runText(ctx.runner, client, [`--defaults-extra-file=${optionFile}`, '--batch', '--skip-column-names', '-e', sql], what, { secrets: [db.password], classify: classifyMysql, signal: ctx.signal });
    return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  };
  const version = (await query('SELECT VERSION()'))[0]?.[0] ?? '';
  return { db, optionFile, client, version, mariadb: /mariadb/i.test(version), query };
}

async function countRows(server: Server, database: string): Promise<Map<string, number>> {
  const tables = (await server.query(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${literal(database)} AND TABLE_TYPE = 'BASE TABLE'`)).map((r) => r[0]);
  if (tables.length === 0) return new Map();
  const sql = tables.map((t) => `SELECT ${literal(t)}, COUNT(*) FROM ${ident(database)}.${ident(t)}`).join(' UNION ALL ');
  return new Map((await server.query(sql)).map(([t, n]) => [t, Number(n)]));
}

/** Passes a stream through, counting the dump's rows on the way. */
async function* counted(stream: AsyncIterable<Uint8Array>, counter: RowCounter): AsyncGenerator<Uint8Array> {
  for await (const part of stream) {
    counter.update(part);
    yield part;
  }
}

async function backupMysql(repo: Repository, config: MysqlSourceConfig, options: SnapshotOptions, ctx: SourceContext) {
  const env = ctx.env ?? process.env;
  const db = await databaseUrl(config.url, config.passwordFile, env.MYSQL_PWD, `backup of ${config.url}`);
  const what = `dump of ${db.url}`;
  return withPrivateDir(ctx.tmpDir, async (dir) => {
    const server = await openServer(dir, db, ctx, what);
    const dump = await firstTool(ctx.runner, server.mariadb ? ['mariadb-dump', 'mysqldump'] : ['mysqldump']);
    const [have, need] = [mysqlVersion(dump.version), mysqlVersion(server.version)];
    if (have[0] < need[0] || (have[0] === need[0] && have[1] < need[1])) {
      throw new SourceError('SOURCE_TOOL_MISSING', `${dump.tool} ${have.join('.')} is older than the server (${server.version}): install the Debian package ${server.mariadb ? 'mariadb-client' : 'default-mysql-client'} of version ${need.join('.')} or newer`);
    }
    const [schema] = (await server.query(`SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${literal(db.database)}`)) as Array<[string, string] | undefined>;
    if (!schema) throw new SourceError('SOURCE_NOT_FOUND', `${what}: the server has no database "${db.database}": check the database name in the URL`);
    const dumpName = `${db.database}.sql`;
    const toolVersion = mysqlVersion(dump.version).join('.');
    const record = sourceRecord('mysql', db.url, { serverVersion: server.version, dumpTool: dump.tool, dumpVersion: toolVersion });
    return backupStreams(repo, { ...options, location: db.url, record: { ...record, lineage: options.lineage }, workers: ctx.workers, signal: ctx.signal, onProgress: ctx.onProgress, onWarning: ctx.warn }, async (sink) => {
      const args = [`--defaults-extra-file=${server.optionFile}`, '--single-transaction', '--routines', '--events', '--triggers', '--hex-blob', '--skip-add-drop-table', '--skip-dump-date', db.database];
      const child = ctx.runner.spawn(dump.tool, args, { signal: ctx.signal });
      const counter = insertRowCounter();
      try {
        await sink.addStream(dumpName, counted(child.stdout, counter));
        await checkExit(child, what, [db.password], classifyMysql);
      } finally {
        child.kill();
      }
      const rows = Object.fromEntries(counter.counts());
      // Tables with no rows have no INSERT: the dump's CREATE TABLEs are not parsed, so ask the server which exist.
      for (const [table] of await countRows(server, db.database)) rows[table] ??= 0;
      const manifest: MysqlManifest = { kind: 'mysql', database: db.database, dump: dumpName, serverVersion: server.version, dumpTool: dump.tool, dumpVersion: toolVersion, charset: schema[0], collation: schema[1], rows };
      await sink.addBytes('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
    });
  });
}

export const mysqlSource: SourceAdapter<MysqlSourceConfig> = {
  kind: 'mysql',
  backup: backupMysql,

  async restore(repo, spec, request, ctx) {
    const env = ctx.env ?? process.env;
    const target = await databaseUrl(request.to, request.passwordFile, env.MYSQL_PWD, `restore to ${request.to}`);
    const reader = await openSourceSnapshot(repo, spec, 'mysql', ctx.workers);
    try {
      const manifest = await readManifest<MysqlManifest>(reader);
      const file = await reader.file(manifest.dump);
      return await withPrivateDir(ctx.tmpDir, async (dir) => {
        const server = await openServer(dir, target, ctx, `restore to ${target.url}`);
        const name = ident(target.database);
        const charset = manifest.charset ? ` CHARACTER SET ${manifest.charset} COLLATE ${manifest.collation}` : '';
        await server.query(`${request.clean ? `DROP DATABASE IF EXISTS ${name}; ` : ''}CREATE DATABASE IF NOT EXISTS ${name}${charset}`);
        const child = ctx.runner.spawn(server.client, [`--defaults-extra-file=${server.optionFile}`, target.database], { stdin: true, signal: ctx.signal });
        let bytes: number;
        try {
          bytes = await feedChild(reader, file, child, ctx.signal);
          await checkExit(child, `restore into ${target.url}`, [target.password], classifyMysql).catch((err: Error) => {
            if (!request.clean && /already exists/.test(err.message)) err.message += '\n(the database has these tables already; add --clean to replace the database)';
            throw err;
          });
        } finally {
          child.kill();
        }
        const checks = compareCounts(manifest.rows, await countRows(server, target.database), target.url);
        return { snapshotId: reader.id, kind: 'mysql' as const, target: target.url, entries: 1, bytes, checks };
      });
    } finally {
      await reader.close();
    }
  },

  async verify(repo, spec, ctx) {
    const reader = await openSourceSnapshot(repo, spec, 'mysql', ctx.workers);
    try {
      const manifest = await readManifest<MysqlManifest>(reader);
      const counter = insertRowCounter();
      for await (const part of reader.stream(manifest.dump, ctx.signal)) counter.update(part);
      const counts = counter.counts();
      for (const table of Object.keys(manifest.rows)) if (!counts.has(table)) counts.set(table, 0);
      return report(reader.id, 'mysql', [{ name: 'dump', ok: true, detail: `${manifest.dump}: SHA-256 matches` }, ...compareCounts(manifest.rows, counts, 'the dump')]);
    } finally {
      await reader.close();
    }
  },
};
