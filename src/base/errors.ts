/**
 * The one error model of Lifeboat. Every error we throw on purpose is a LifeboatError with a
 * typed `code` (stable for scripts, the HTTP API and alerts) and a message for people that says
 * what is wrong and what to do. Layers subclass it (RepoError, StorageError, ...) only to group
 * codes and carry data; what a code means to a process or a client is decided in one place,
 * `error-codes.ts`.
 */

/** Every code an error of ours can carry. A new code needs a row in error-codes.ts (the compiler checks). */
export type ErrorCode =
  // usage and configuration
  | 'USAGE'
  | 'CONFIG'
  // repository
  | 'NOT_A_REPOSITORY'
  | 'REPOSITORY_EXISTS'
  | 'LOCATION_NOT_EMPTY'
  | 'WRONG_PASSWORD'
  | 'LOCKED'
  | 'LOCK_LOST'
  | 'FORMAT'
  | 'INTEGRITY'
  | 'INDEX_DAMAGED'
  | 'SNAPSHOT_NOT_FOUND'
  | 'RESTORE_FAILED'
  | 'RETENTION_UNSUPPORTED'
  | 'TENSOR_HEADER'
  | 'REPO'
  // storage
  | 'STORAGE'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'NO_SPACE'
  | 'OBJECT_LOCKED'
  | 'ACCESS_DENIED'
  | 'REQUEST_FAILED'
  | 'TRANSIENT'
  // outcomes a command reports after doing its work
  | 'INCOMPLETE'
  | 'DAMAGE_FOUND'
  | 'OBJECTIVE_NOT_MET'
  | 'AUDIT_FINDINGS'
  // sources (databases, git, S3 buckets, commands)
  | 'SOURCE'
  | 'SOURCE_TOOL_MISSING'
  | 'SOURCE_AUTH'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_VERIFY'
  | 'LINEAGE'
  // the DR plane
  | 'NOT_FOUND_ASSET'
  | 'NOT_FOUND_REPORT'
  | 'PREFLIGHT_FAILED'
  | 'STEP_FAILED'
  | 'LEASE_HELD'
  // the gateway
  | 'GATEWAY'
  | 'GATEWAY_CONFIG'
  | 'GATEWAY_LISTEN'
  | 'GATEWAY_UNKNOWN_TARGET'
  | 'GATEWAY_INVALID_REQUEST'
  // the server
  | 'UNAUTHORIZED'
  | 'NOT_FOUND_ROUTE'
  | 'CONFLICT'
  // cancellation
  | 'ABORTED'
  // anything else we throw on purpose
  | 'ERROR';

export class LifeboatError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An error of ours, or undefined for anything else (a bug, a Node error we did not translate). */
export function asLifeboatError(err: unknown): LifeboatError | undefined {
  return err instanceof LifeboatError ? err : undefined;
}

/** The command line or a request asked for something malformed: a bad option, a missing argument. */
export class UsageError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('USAGE', message, options);
  }
}

/**
 * An operation stopped because its AbortSignal fired (SIGINT/SIGTERM, a scheduler's timeout, a
 * lock that could no longer be refreshed). What was written before stays valid.
 */
export class AbortedError extends LifeboatError {
  constructor(message = 'the operation was interrupted', options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

/** Throws the signal's reason (an AbortedError unless the aborter gave a LifeboatError) when it has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/** The error an aborted signal stands for. */
export function abortReason(signal: AbortSignal): LifeboatError {
  const reason: unknown = signal.reason;
  if (reason instanceof LifeboatError) return reason;
  return new AbortedError(reason instanceof Error && reason.name !== 'AbortError' ? `interrupted: ${reason.message}` : undefined, { cause: reason });
}

/** True for an error that means "stopped on purpose", ours or a platform AbortError. */
export function isAbort(err: unknown): boolean {
  return (err instanceof LifeboatError && (err.code === 'ABORTED' || err.code === 'LOCK_LOST' || err.code === 'LEASE_HELD')) || (err as Error)?.name === 'AbortError';
}
