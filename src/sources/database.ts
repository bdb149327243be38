/**
 * What the database sources share: their URLs (with the password taken out, to go to the tool by
 * a private file), per-table row counts compared after a restore, and feeding a stored dump into
 * a restoring tool's stdin so that it never sees the end of a dump that failed verification.
 */
import type { SnapshotReader } from '../engine/snapshot-files.js';
import type { FileNode } from '../repo/tree.js';
import type { Check } from './adapter.js';
import { withoutPassword } from './config.js';
import { SourceError } from './errors.js';
import type { ChildRun } from './process.js';
import { readPasswordFile } from './secrets.js';

export interface DatabaseUrl {
  /** The URL without its password: safe for logs, snapshots and command lines. */
  url: string;
  host: string;
  port?: number;
  user?: string;
  database: string;
  password?: string;
}

/** Parses a database URL; the password comes from the URL, else `passwordFile`, else `envPassword` (PGPASSWORD, MYSQL_PWD). */
export async function databaseUrl(url: string, passwordFile: string | undefined, envPassword: string | undefined, what: string): Promise<DatabaseUrl> {
  if (!URL.canParse(url)) throw new SourceError('SOURCE', `${what}: ${withoutPassword(url)} is not a URL (write it as scheme://USER@HOST:PORT/DATABASE)`);
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new SourceError('SOURCE', `${what}: ${withoutPassword(url)} names no database (…/DATABASE at the end)`);
  const fromUrl = u.password ? decodeURIComponent(u.password) : undefined;
  const password = fromUrl ?? (passwordFile ? await readPasswordFile(passwordFile) : undefined) ?? envPassword;
  return {
    url: withoutPassword(url),
    host: u.hostname || 'localhost',
    port: u.port ? Number(u.port) : undefined,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    database,
    password: password || undefined,
  };
}

/** One check per table: the count the backup recorded against the count found now. */
export function compareCounts(expected: Record<string, number>, actual: ReadonlyMap<string, number>, where: string): Check[] {
  return Object.entries(expected).map(([table, n]) => {
    const found = actual.get(table);
    return {
      name: `rows ${table}`,
      ok: found === n,
      detail: found === undefined ? `${where} has no table ${table} (the backup had ${n} rows)` : found === n ? `${n} rows` : `${found} rows in ${where}, the backup had ${n}`,
    };
  });
}

/**
 * Streams a stored file into `child`'s stdin and closes it once the whole file was read and
 * verified. On damage or an abort the child is killed instead: it never sees a clean end of a
 * dump that is not the one stored. Resolves with the bytes written.
 */
export async function feedChild(reader: SnapshotReader, file: FileNode, child: ChildRun, signal?: AbortSignal): Promise<number> {
  const stdin = child.stdin!;
  let bytes = 0;
  try {
    for await (const part of reader.stream(file, signal)) {
      bytes += part.length;
      if (!stdin.write(part)) await new Promise<void>((resolve) => {
        const done = () => {
          stdin.off('drain', done);
          stdin.off('close', done);
          resolve();
        };
        stdin.on('drain', done);
        stdin.on('close', done); // the child died: its exit status says why
      });
      if (stdin.destroyed) break;
    }
  } catch (err) {
    child.kill();
    throw err;
  }
  stdin.end();
  return bytes;
}
