/**
 * Errors of the sources. Each says which source failed and what to do; none carries a credential
 * (messages pass through redact() before they are built).
 *
 *   SOURCE              the source failed: unreachable, went away mid-dump, a tool exited non-zero
 *   SOURCE_TOOL_MISSING a dump tool is not installed, or older than the server (names the package)
 *   SOURCE_AUTH         wrong credentials
 *   SOURCE_NOT_FOUND    the database, bucket or repository does not exist
 *   SOURCE_VERIFY       a restored or stored copy does not match what the backup recorded
 */
import { LifeboatError, type ErrorCode } from '../base/errors.js';

export type SourceErrorCode = Extract<ErrorCode, 'SOURCE' | 'SOURCE_TOOL_MISSING' | 'SOURCE_AUTH' | 'SOURCE_NOT_FOUND' | 'SOURCE_VERIFY'>;

export class SourceError extends LifeboatError {
  constructor(code: SourceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The Debian package that has each tool a source runs. */
const PACKAGES: Record<string, string> = {
  pg_dump: 'postgresql-client',
  pg_restore: 'postgresql-client',
  psql: 'postgresql-client',
  'mariadb-dump': 'mariadb-client',
  mariadb: 'mariadb-client',
  mysqldump: 'default-mysql-client (or mariadb-client)',
  mysql: 'default-mysql-client (or mariadb-client)',
  git: 'git',
};

export function toolMissing(tool: string): SourceError {
  const pkg = PACKAGES[tool];
  return new SourceError('SOURCE_TOOL_MISSING', `${tool} is not installed (or not on PATH)${pkg ? `: install the Debian package ${pkg}` : ''}`);
}

/** Replaces every secret, and any password in a URL, by "***". */
export function redact(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi, '$1***@');
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}
