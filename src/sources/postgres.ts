/**
 * PostgreSQL: `pg_dump -Fc` streamed into the repository, from a snapshot exported by a session of
 * ours that counts every table's rows in that same snapshot (postgres-session.ts); the server's and
 * pg_dump's versions are recorded. Restore: `pg_restore --single-transaction` into a new or an
 * existing database (`--clean` drops its objects first), then the row counts are compared.
 * Verify: the stored dump through `pg_restore -f -`, its COPY rows counted against the backup's.
 *
 * pg_dump's major version must be at least the server's: checked before anything is dumped.
 * The password goes to the tools in a pgpass file (0600, removed afterwards), never in argv.
 */
import type { Repository } from '../repo/repository.js';
import { backupStreams } from '../engine/stream-backup.js';
import { report, type SourceAdapter, type SourceContext } from './adapter.js';
import type { PostgresSourceConfig } from './config.js';
import { compareCounts, databaseUrl, feedChild, type DatabaseUrl } from './database.js';
import { copyRowCounter } from './dump-rows.js';
import { SourceError } from './errors.js';
import { openSourceSnapshot, readManifest, sourceRecord } from './manifest.js';
import { classifyPgTool, connectPg, exportSnapshot } from './postgres-session.js';
import { checkExit, runText, type ProcessRunner } from './process.js';
import { withPrivateDir, writePrivateFile } from './secrets.js';

interface PgManifest {
  kind: 'postgres';
  database: string;
  dump: string;
  format: 'custom';
  serverVersion: string;
  pgDumpVersion: string;
  rows: Record<string, number>;
}

/** The environment that gives a pg tool the password: a pgpass file in `dir`, or nothing. */
async function pgEnv(dir: string, db: DatabaseUrl): Promise<Record<string, string>> {
  if (!db.password) return {};
  const escaped = db.password.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
  return { PGPASSFILE: await writePrivateFile(dir, 'pgpass', `*:*:*:*:${escaped}\n`) };
}

/** The major version of pg_dump/pg_restore ("pg_dump (PostgreSQL) 15.4 (Debian ...)" -> 15), and the whole version. */
export async function pgToolVersion(runner: ProcessRunner, tool: string): Promise<{ major: number; version: string }> {
  const out = await runText(runner, tool, ['--version'], `${tool} --version`);
  const m = /\(PostgreSQL\)\s+(\d+)(\.\d+)?/.exec(out);
  if (!m) throw new SourceError('SOURCE_TOOL_MISSING', `cannot tell the version of ${tool} from "${out.trim()}": install the Debian package postgresql-client`);
  return { major: Number(m[1]), version: `${m[1]}${m[2] ?? ''}` };
}

function requireMajor(tool: string, have: number, need: number, what: string): void {
  if (have < need) {
    throw new SourceError('SOURCE_TOOL_MISSING', `${tool} ${have} cannot ${what} PostgreSQL ${need}: install the Debian package postgresql-client-${need} (or newer) and put its ${tool} first on PATH`);
  }
}

async function backupPostgres(repo: Repository, config: PostgresSourceConfig, options: Parameters<SourceAdapter['backup']>[2], ctx: SourceContext) {
  const env = ctx.env ?? process.env;
  const db = await databaseUrl(config.url, config.passwordFile, env.PGPASSWORD, `backup of ${config.url}`);
  const what = `pg_dump of ${db.url}`;
  const tool = await pgToolVersion(ctx.runner, 'pg_dump');
  const session = await connectPg(db, what);
  try {
    requireMajor('pg_dump', tool.major, session.serverMajor, 'dump');
    const snapshotId = await exportSnapshot(session);
    const rows = Object.fromEntries(await session.countRows());
    const dumpName = `${db.database}.pgdump`;
    return await withPrivateDir(ctx.tmpDir, async (dir) => {
      const toolEnv = await pgEnv(dir, db);
      const record = sourceRecord('postgres', db.url, { serverVersion: session.serverVersion, pgDumpVersion: tool.version, tables: Object.keys(rows).length, format: 'custom' });
      return backupStreams(repo, { ...options, location: db.url, record: { ...record, lineage: options.lineage }, workers: ctx.workers, signal: ctx.signal, onProgress: ctx.onProgress, onWarning: ctx.warn }, async (sink) => {
        const child = ctx.runner.spawn('pg_dump', ['--format=custom', `--snapshot=${snapshotId}`, '--no-password', `--dbname=${db.url}`], { env: toolEnv, signal: ctx.signal });
        try {
          await sink.addStream(dumpName, child.stdout);
          await checkExit(child, what, [db.password], classifyPgTool);
        } finally {
          child.kill(); // a no-op once it exited; stops it when storing failed
        }
        const manifest: PgManifest = { kind: 'postgres', database: db.database, dump: dumpName, format: 'custom', serverVersion: session.serverVersion, pgDumpVersion: tool.version, rows };
        await sink.addBytes('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
      });
    });
  } finally {
    await session.end();
  }
}

export const postgresSource: SourceAdapter<PostgresSourceConfig> = {
  kind: 'postgres',
  backup: backupPostgres,

  async restore(repo, spec, request, ctx) {
    const env = ctx.env ?? process.env;
    const target = await databaseUrl(request.to, request.passwordFile, env.PGPASSWORD, `restore to ${request.to}`);
    const reader = await openSourceSnapshot(repo, spec, 'postgres', ctx.workers);
    try {
      const manifest = await readManifest<PgManifest>(reader);
      const tool = await pgToolVersion(ctx.runner, 'pg_restore');
      requireMajor('pg_restore', tool.major, Number.parseInt(manifest.pgDumpVersion, 10), 'restore a dump made by pg_dump of');
      await createDatabaseIfMissing(target);
      const file = await reader.file(manifest.dump);
      const bytes = await withPrivateDir(ctx.tmpDir, async (dir) => {
        const args = ['--single-transaction', '--exit-on-error', '--no-password', `--dbname=${target.url}`, ...(request.clean ? ['--clean', '--if-exists'] : [])];
        const child = ctx.runner.spawn('pg_restore', args, { env: await pgEnv(dir, target), stdin: true, signal: ctx.signal });
        try {
          const written = await feedChild(reader, file, child, ctx.signal);
          await checkExit(child, `pg_restore into ${target.url}`, [target.password], classifyPgTool).catch((err: Error) => {
            if (!request.clean && /already exists/.test(err.message)) err.message += '\n(the database has these objects already: nothing was changed; add --clean to replace them)';
            throw err;
          });
          return written;
        } finally {
          child.kill();
        }
      });
      const session = await connectPg(target, `row counts of ${target.url}`);
      const counts = await session.countRows().finally(() => session.end());
      return { snapshotId: reader.id, kind: 'postgres', target: target.url, entries: 1, bytes, checks: compareCounts(manifest.rows, counts, target.url) };
    } finally {
      await reader.close();
    }
  },

  async verify(repo, spec, ctx) {
    const reader = await openSourceSnapshot(repo, spec, 'postgres', ctx.workers);
    try {
      const manifest = await readManifest<PgManifest>(reader);
      const file = await reader.file(manifest.dump);
      // pg_restore turns the archive into SQL without a server: the whole archive is read and parsed.
      const child = ctx.runner.spawn('pg_restore', ['--file=-', '--no-owner'], { stdin: true, signal: ctx.signal });
      const counter = copyRowCounter();
      child.stdout.on('data', (b: Buffer) => counter.update(b));
      try {
        await feedChild(reader, file, child, ctx.signal);
        await checkExit(child, `pg_restore --file=- of ${manifest.dump}`);
      } finally {
        child.kill();
      }
      const archive = { name: 'archive', ok: true, detail: `${manifest.dump}: SHA-256 matches, pg_restore read the whole archive` };
      return report(reader.id, 'postgres', [archive, ...compareCounts(manifest.rows, counter.counts(), 'the dump')]);
    } finally {
      await reader.close();
    }
  },
};

/** Creates the target database when the server has none of that name ("into a new or existing database"). */
async function createDatabaseIfMissing(target: DatabaseUrl): Promise<void> {
  const admin = await connectPg(target, `restore to ${target.url}`, 'postgres');
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database]);
    if (found.length === 0) await admin.query(`CREATE DATABASE "${target.database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
}
