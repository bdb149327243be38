/**
 * A node-postgres session beside pg_dump: it opens a repeatable-read transaction, exports its
 * snapshot for `pg_dump --snapshot`, and counts every table's rows inside that same snapshot, so
 * the counts are exactly those of the dump even while the application writes. The same session
 * kind counts rows after a restore and creates a missing target database.
 */
import type { ClientConfig, Client as PgClient } from 'pg';
import { createRequire } from 'node:module';
import { redact } from './errors.js';
import { SourceError, type SourceErrorCode } from './errors.js';
import type { DatabaseUrl } from './database.js';

const require = createRequire(import.meta.url);

/** User tables pg_dump dumps the data of: ordinary tables outside the system schemas, not members of an extension. */
const TABLES_SQL = `
  SELECT n.nspname AS schema, c.relname AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  ORDER BY 1, 2`;

export interface PgSession {
  serverVersion: string;
  serverMajor: number;
  /** Rows of each table ("schema.table"), in the session's snapshot. */
  countRows(): Promise<Map<string, number>>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  end(): Promise<void>;
}

/** Connects to `database` of the URL (default its own); failures become SOURCE_AUTH, SOURCE_NOT_FOUND or SOURCE. */
export async function connectPg(db: DatabaseUrl, what: string, database = db.database): Promise<PgSession> {
  const { Client } = require('pg') as typeof import('pg');
  const config: ClientConfig = { host: db.host, port: db.port, user: db.user, database, password: db.password, application_name: 'lifeboat', connectionTimeoutMillis: 10_000 };
  const client: PgClient = new Client(config);
  client.on('error', () => {}); // a connection lost between queries fails the next query
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw pgError(err, what, db);
  }
  const query = async <T>(sql: string, params?: unknown[]) => {
    try {
      return (await client.query(sql, params)).rows as T[];
    } catch (err) {
      throw pgError(err, what, db);
    }
  };
  const [{ v, n }] = await query<{ v: string; n: string }>("SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n");
  return {
    serverVersion: v,
    serverMajor: Math.floor(Number(n) / 10000),
    query,
    async countRows() {
      const counts = new Map<string, number>();
      for (const t of await query<{ schema: string; name: string }>(TABLES_SQL)) {
        const [{ count }] = await query<{ count: string }>(`SELECT count(*) AS count FROM ONLY ${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`);
        counts.set(`${t.schema}.${t.name}`, Number(count));
      }
      return counts;
    },
    end: () => client.end().catch(() => {}),
  };
}

/** Opens a session whose snapshot pg_dump will dump: returns it and the snapshot's id. */
export async function exportSnapshot(session: PgSession): Promise<string> {
  await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const [{ id }] = await session.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
  return id;
}

export function pgError(err: unknown, what: string, db: DatabaseUrl): SourceError {
  const e = err as { code?: string; message?: string };
  const code: SourceErrorCode = e.code === '28P01' || e.code === '28000' ? 'SOURCE_AUTH' : e.code === '3D000' ? 'SOURCE_NOT_FOUND' : 'SOURCE';
  const hint =
    code === 'SOURCE_AUTH' ? ': check the user and the password (password_file, PGPASSWORD or ~/.pgpass)' : code === 'SOURCE_NOT_FOUND' ? ': check the database name in the URL' : e.code === 'ECONNREFUSED' ? ': is PostgreSQL running and listening there?' : '';
  return new SourceError(code, redact(`${what}: ${e.message ?? String(err)}${hint}`, [db.password]), { cause: err });
}

/** pg_dump's and pg_restore's messages, classified like the session's errors. */
export function classifyPgTool(stderr: string): SourceErrorCode | undefined {
  if (/password authentication failed|role ".*" does not exist|no password supplied|authentication failed/.test(stderr)) return 'SOURCE_AUTH';
  if (/database ".*" does not exist/.test(stderr)) return 'SOURCE_NOT_FOUND';
  return undefined;
}
