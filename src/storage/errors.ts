/** Typed storage errors: callers branch on the class, people read the message. */
import { LifeboatError, type ErrorCode } from '../base/errors.js';

export class StorageError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE', message, options);
  }
}

/** The object does not exist. */
export class NotFoundError extends StorageError {
  override readonly code: ErrorCode = 'NOT_FOUND';
  constructor(readonly key: string, location: string) {
    super(`object ${key} not found in ${location}`);
  }
}

/** put(..., { ifAbsent: true }) found the object already there. */
export class AlreadyExistsError extends StorageError {
  override readonly code: ErrorCode = 'ALREADY_EXISTS';
  constructor(readonly key: string, location: string) {
    super(`object ${key} already exists in ${location}`);
  }
}

/** The backend has no space left; nothing was written for this object. */
export class NoSpaceError extends StorageError {
  override readonly code: ErrorCode = 'NO_SPACE';
}
