/**
 * The one table that says what each error code means to a process (its exit code, documented in
 * docs/cli.md) and to an HTTP client (its status). The CLI and the server both read it, so a
 * locked repository is exit 11 for a cron job and 409 for the dashboard.
 */
import { isAbort, LifeboatError, type ErrorCode } from './errors.js';

/** Exit codes scripts can act on. Gaps are deliberate: 10–12 are restic's for the same things. */
export const ExitCode = {
  ok: 0,
  /** The command did not do what was asked; the message says why. */
  error: 1,
  /** A malformed command line, a missing argument or no repository/password given. */
  usage: 2,
  /** `backup` wrote a snapshot, but some files could not be read completely. */
  incomplete: 3,
  /** An objective is not met: an RPO violated or never met (`status`), a recovery over its RTO (`drill`, `recover`). */
  objectiveNotMet: 4,
  /** There is no repository at the location given. */
  noRepository: 10,
  /** The repository is locked by another operation. */
  locked: 11,
  /** The password opens no key of the repository. */
  wrongPassword: 12,
  /** Damage was found: `check` found errors, a restore met corrupt or missing data, `latest` asked for while a snapshot cannot be read. */
  damage: 13,
  /** Interrupted (SIGINT, SIGTERM) at a safe point; what was written stays valid. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

interface Meaning {
  exit: ExitCodeValue;
  http: number;
}

const MEANING: Record<ErrorCode, Meaning> = {
  USAGE: { exit: ExitCode.usage, http: 400 },
  CONFIG: { exit: ExitCode.usage, http: 500 },
  NOT_A_REPOSITORY: { exit: ExitCode.noRepository, http: 503 },
  REPOSITORY_EXISTS: { exit: ExitCode.error, http: 409 },
  LOCATION_NOT_EMPTY: { exit: ExitCode.error, http: 409 },
  WRONG_PASSWORD: { exit: ExitCode.wrongPassword, http: 503 },
  LOCKED: { exit: ExitCode.locked, http: 409 },
  LOCK_LOST: { exit: ExitCode.locked, http: 503 },
  FORMAT: { exit: ExitCode.error, http: 500 },
  INTEGRITY: { exit: ExitCode.damage, http: 500 },
  INDEX_DAMAGED: { exit: ExitCode.damage, http: 500 },
  SNAPSHOT_NOT_FOUND: { exit: ExitCode.error, http: 404 },
  RESTORE_FAILED: { exit: ExitCode.error, http: 500 },
  RETENTION_UNSUPPORTED: { exit: ExitCode.error, http: 400 },
  TENSOR_HEADER: { exit: ExitCode.error, http: 500 },
  REPO: { exit: ExitCode.error, http: 500 },
  STORAGE: { exit: ExitCode.error, http: 502 },
  NOT_FOUND: { exit: ExitCode.error, http: 500 },
  ALREADY_EXISTS: { exit: ExitCode.error, http: 409 },
  NO_SPACE: { exit: ExitCode.error, http: 507 },
  OBJECT_LOCKED: { exit: ExitCode.error, http: 409 },
  ACCESS_DENIED: { exit: ExitCode.error, http: 502 },
  REQUEST_FAILED: { exit: ExitCode.error, http: 502 },
  TRANSIENT: { exit: ExitCode.error, http: 503 },
  INCOMPLETE: { exit: ExitCode.incomplete, http: 200 },
  DAMAGE_FOUND: { exit: ExitCode.damage, http: 200 },
  OBJECTIVE_NOT_MET: { exit: ExitCode.objectiveNotMet, http: 200 },
  AUDIT_FINDINGS: { exit: ExitCode.error, http: 200 },
  SOURCE: { exit: ExitCode.error, http: 502 },
  SOURCE_TOOL_MISSING: { exit: ExitCode.error, http: 500 },
  SOURCE_AUTH: { exit: ExitCode.error, http: 502 },
  SOURCE_NOT_FOUND: { exit: ExitCode.error, http: 502 },
  SOURCE_VERIFY: { exit: ExitCode.error, http: 500 },
  LINEAGE: { exit: ExitCode.error, http: 409 },
  NOT_FOUND_ASSET: { exit: ExitCode.usage, http: 404 },
  NOT_FOUND_REPORT: { exit: ExitCode.usage, http: 404 },
  PREFLIGHT_FAILED: { exit: ExitCode.error, http: 424 },
  STEP_FAILED: { exit: ExitCode.error, http: 500 },
  LEASE_HELD: { exit: ExitCode.locked, http: 409 },
  GATEWAY: { exit: ExitCode.error, http: 500 },
  GATEWAY_CONFIG: { exit: ExitCode.usage, http: 500 },
  GATEWAY_LISTEN: { exit: ExitCode.error, http: 500 },
  GATEWAY_UNKNOWN_TARGET: { exit: ExitCode.error, http: 404 },
  GATEWAY_INVALID_REQUEST: { exit: ExitCode.error, http: 400 },
  UNAUTHORIZED: { exit: ExitCode.error, http: 401 },
  NOT_FOUND_ROUTE: { exit: ExitCode.error, http: 404 },
  CONFLICT: { exit: ExitCode.error, http: 409 },
  ABORTED: { exit: ExitCode.interrupted, http: 503 },
  ERROR: { exit: ExitCode.error, http: 500 },
};

/** The code of any thrown value: ours as it is, a platform abort as ABORTED, anything else ERROR. */
export function codeOf(err: unknown): ErrorCode {
  if (err instanceof LifeboatError) return err.code;
  if (isAbort(err)) return 'ABORTED';
  if ((err as NodeJS.ErrnoException)?.code === 'ENOSPC') return 'NO_SPACE';
  return 'ERROR';
}

export function exitCodeOf(err: unknown): ExitCodeValue {
  return MEANING[codeOf(err)].exit;
}

export function httpStatusOf(err: unknown): number {
  return MEANING[codeOf(err)].http;
}

/** A message for people: ours as they are, Node's common ones in words, anything else with its type so a bug report says something. */
export function messageOf(err: unknown): string {
  if (err instanceof LifeboatError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT' && e.path) return `no such file or directory: ${e.path}`;
  if (e?.code === 'EACCES' && e.path) return `permission denied: ${e.path}`;
  if (e?.code === 'ENOSPC') return `no space left on device${e.path ? ` writing ${e.path}` : ''}: free some space and run the command again`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(err);
}

/** The JSON document an error is, for `--json` on stdout and for the HTTP API: `{ error: { code, message } }`. */
export function errorDocument(err: unknown): { error: { code: ErrorCode; message: string } } {
  return { error: { code: codeOf(err), message: messageOf(err) } };
}

/** Exit codes with their meaning, for docs and `--help`. */
export const EXIT_CODE_MEANINGS: ReadonlyArray<[ExitCodeValue, string]> = [
  [ExitCode.ok, 'success'],
  [ExitCode.error, 'error: the command did not do what was asked (the message says what and what to do)'],
  [ExitCode.usage, 'usage: a bad or missing option or argument, no repository or password given, an invalid lifeboat.yaml'],
  [ExitCode.incomplete, 'backup wrote a snapshot, but some files could not be read completely'],
  [ExitCode.objectiveNotMet, 'an objective is not met: an RPO violated or never met, a recovery over its RTO'],
  [ExitCode.noRepository, 'no repository at the location given'],
  [ExitCode.locked, 'the repository is locked by another operation'],
  [ExitCode.wrongPassword, 'wrong password: no key of the repository opens with it'],
  [ExitCode.damage, 'damage found: check found errors, a restore met corrupt or missing data, or latest was asked for while a snapshot object cannot be read'],
  [ExitCode.interrupted, 'interrupted (SIGINT, SIGTERM) at a safe point'],
];
