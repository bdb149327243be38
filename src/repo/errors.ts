/** Typed errors of the repository layer. `code` is stable for scripts; the message is for people. */

export class RepoError extends Error {
  readonly code: string = 'REPO';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Stored bytes do not decode: wrong format, newer version, or a bug. */
export class FormatError extends RepoError {
  override readonly code: string = 'FORMAT';
}

/** Authentication failed or a checksum did not match: the stored data is damaged or was tampered with. */
export class IntegrityError extends RepoError {
  override readonly code: string = 'INTEGRITY';
}

/**
 * An index file cannot be used: its bytes do not match its id, fail authentication or do not
 * decode. The packs still hold everything it said, so `lifeboat repair index` rebuilds it.
 */
export class IndexDamagedError extends IntegrityError {
  override readonly code: string = 'INDEX_DAMAGED';
  /** `location`: the repository's, when known, so that the message names the exact command. */
  constructor(readonly indexId: string, readonly why: string, location?: string, options?: { cause?: unknown }) {
    const where = location === undefined ? '' : ` in ${location}`;
    const repo = location === undefined ? '' : ` -r ${location}`;
    super(`index file index/${indexId}${where} ${why}: run "lifeboat repair index${repo}" to rebuild the index from the packs`, options);
  }
}

/** No key of the repository opens with the password given. */
export class WrongPasswordError extends RepoError {
  override readonly code: string = 'WRONG_PASSWORD';
}

/** The path is not a Lifeboat repository (missing, empty, or something else). */
export class NotARepositoryError extends RepoError {
  override readonly code: string = 'NOT_A_REPOSITORY';
}

/** init found a repository where it was asked to create one. */
export class RepositoryExistsError extends RepoError {
  override readonly code: string = 'REPOSITORY_EXISTS';
}

/** Another process holds a conflicting lock. */
export class LockedError extends RepoError {
  override readonly code: string = 'LOCKED';
}
