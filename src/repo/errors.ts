/** Typed errors of the repository layer; what each code means to a process or a client is in base/error-codes.ts. */
import { LifeboatError, type ErrorCode } from '../base/errors.js';

export class RepoError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('REPO', message, options);
  }
}

/** Stored bytes do not decode: wrong format, newer version, or a bug. */
export class FormatError extends RepoError {
  override readonly code: ErrorCode = 'FORMAT';
}

/** Bytes of a newer format version than this lifeboat reads: intact, for a newer lifeboat (nothing to repair). */
export class NewerFormatError extends FormatError {}

/** Authentication failed or a checksum did not match: the stored data is damaged or was tampered with. */
export class IntegrityError extends RepoError {
  override readonly code: ErrorCode = 'INTEGRITY';
}

/**
 * An index file cannot be used: its bytes do not match its id, fail authentication or do not
 * decode. The packs still hold everything it said, so `lifeboat repair index` rebuilds it.
 */
export class IndexDamagedError extends IntegrityError {
  override readonly code: ErrorCode = 'INDEX_DAMAGED';
  /** `location`: the repository's, when known, so that the message names the exact command. */
  constructor(readonly indexId: string, readonly why: string, location?: string, options?: { cause?: unknown }) {
    const where = location === undefined ? '' : ` in ${location}`;
    const repo = location === undefined ? '' : ` -r ${location}`;
    super(`index file index/${indexId}${where} ${why}: run "lifeboat repair index${repo}" to rebuild the index from the packs`, options);
  }
}

/** No key of the repository opens with the password given. */
export class WrongPasswordError extends RepoError {
  override readonly code: ErrorCode = 'WRONG_PASSWORD';
}

/** The path is not a Lifeboat repository (missing, empty, or something else). */
export class NotARepositoryError extends RepoError {
  override readonly code: ErrorCode = 'NOT_A_REPOSITORY';
}

/** init found a repository where it was asked to create one. */
export class RepositoryExistsError extends RepoError {
  override readonly code: ErrorCode = 'REPOSITORY_EXISTS';
}

/** init was asked to create a repository where something else lives. */
export class LocationNotEmptyError extends RepoError {
  override readonly code: ErrorCode = 'LOCATION_NOT_EMPTY';
}

/** Another process holds a conflicting lock. */
export class LockedError extends RepoError {
  override readonly code: ErrorCode = 'LOCKED';
}

/**
 * A held lock could not be refreshed in time; the operation holding it stops (repo/lock.ts). Not a
 * RepoError: it says nothing about the stored data, and code that sorts damage from other
 * failures by `instanceof RepoError` must pass it on.
 */
export class LockLostError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOCK_LOST', message, options);
  }
}
