/**
 * The real servers the source tests run against: PostgreSQL 15 on 127.0.0.1:5432 (trust auth, user
 * postgres) and MariaDB on 127.0.0.1:3306 (root, no password). scripts/test.sh starts them; a test
 * that cannot reach one FAILS, saying how to start it. Databases get unique names and are dropped
 * when their test ends, so parallel test files never collide.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestContextLike } from '../helpers/tmp-dir.js';

const run = promisify(execFile);

export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
export const MARIADB = { host: '127.0.0.1', port: 3306, user: 'root' };

export const pgUrl = (db: string, user = PG.user) => `postgres://${user}@${PG.host}:${PG.port}/${db}`;
export const mysqlUrl = (db: string, user = MARIADB.user) => `mysql://${user}@${MARIADB.host}:${MARIADB.port}/${db}`;

export function uniqueName(tag: string): string {
  return `lbt_${tag}_${randomBytes(4).toString('hex')}`;
}

export async function pgClient(database = 'postgres'): Promise<pg.Client> {
  const client = new pg.Client({ ...PG, database });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG.host}:${PG.port} as ${PG.user} (${(err as Error).message}): ` +
        'start it with "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start" (scripts/test.sh does)',
      { cause: err },
    );
  }
  return client;
}

/** Runs SQL in `database` and returns the rows. */
export async function pgQuery<T = Record<string, unknown>>(database: string, sql: string, params?: unknown[]): Promise<T[]> {
  const client = await pgClient(database);
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A new, empty database, dropped (connections and all) after the test. */
export async function freshPgDatabase(t: TestContextLike, tag: string): Promise<string> {
  const name = uniqueName(tag);
  await pgQuery('postgres', `CREATE DATABASE ${name}`);
  t.after(() => dropPgDatabase(name));
  return name;
}

export async function dropPgDatabase(name: string): Promise<void> {
  await pgQuery('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** Runs SQL on MariaDB through its client; returns the rows as tab-separated fields. */
export async function mysqlQuery(sql: string, database?: string): Promise<string[][]> {
  try {
    const { stdout } = await run('mariadb', ['-h', MARIADB.host, '-P', String(MARIADB.port), '-u', MARIADB.user, '--protocol=TCP', '--batch', '--skip-column-names', ...(database ? [database] : []), '-e', sql], { maxBuffer: 64 * 1024 * 1024 });
    return stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  } catch (err) {
    const text = String((err as { stderr?: string }).stderr ?? (err as Error).message);
    if (/Can't connect|ECONNREFUSED|ENOENT/.test(text)) {
      throw new Error(`MariaDB is not reachable at ${MARIADB.host}:${MARIADB.port} (${text.trim()}): start it with "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd" (scripts/test.sh does)`, { cause: err });
    }
    throw err;
  }
}

export async function freshMysqlDatabase(t: TestContextLike, tag: string): Promise<string> {
  const name = uniqueName(tag);
  await mysqlQuery(`CREATE DATABASE ${name}`);
  t.after(async () => {
    await mysqlQuery(`DROP DATABASE IF EXISTS ${name}`);
  });
  return name;
}
