/** Errors particular to S3 repositories, and the translation of SDK errors into storage errors. */
import type { ErrorCode } from '../base/errors.js';
import { AlreadyExistsError, NotFoundError, StorageError } from './errors.js';
import { classify } from './retry.js';

/** The object (or one of its versions) is under Object Lock retention and cannot be deleted yet. */
export class ObjectLockedError extends StorageError {
  override readonly code: ErrorCode = 'OBJECT_LOCKED';
  constructor(readonly key: string, location: string, readonly retainUntil: Date | undefined) {
    super(
      `object ${key} in ${location} is locked (Object Lock retention${retainUntil ? ` until ${retainUntil.toISOString()}` : ''}) ` +
        `and cannot be deleted or changed before then`,
    );
  }
}

/** The server refused the credentials or the action. */
export class AccessDeniedError extends StorageError {
  override readonly code: ErrorCode = 'ACCESS_DENIED';
}

export interface FailedRequest {
  operation: string;
  key: string;
  location: string;
  bucket: string;
  endpoint: string;
}

/** Errors of certificate verification (OpenSSL's codes as Node reports them). */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Turns an SDK error that retrying cannot fix into a typed storage error that says what to do. */
export function translateS3Error(err: unknown, request: FailedRequest): Error {
  if (err instanceof StorageError) return err;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const what = `${request.operation} ${request.key} in ${request.location}`;
  const summary = classify(err).summary;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNTRUSTED_CERTIFICATE.has(code)) {
    return new StorageError(
      `${what} failed: the certificate of ${request.endpoint} is not trusted (${code}: ${(err as Error).message}). ` +
        'If the site signs its own certificates, give the CA with --s3-ca-bundle FILE, s3.ca_bundle in lifeboat.yaml or AWS_CA_BUNDLE',
      { cause: err },
    );
  }
  if (e.name === 'NoSuchBucket') {
    return new StorageError(`bucket ${request.bucket} does not exist at ${request.endpoint}: create it first (with Object Lock if backups must be immutable), or check the repository URL and the endpoint`, { cause: err });
  }
  if (e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404) return new NotFoundError(request.key, request.location);
  if (status === 412 || e.name === 'PreconditionFailed') return new AlreadyExistsError(request.key, request.location);
  if (e.name === 'InvalidAccessKeyId' || e.name === 'SignatureDoesNotMatch') {
    return new AccessDeniedError(`${what} was refused: ${summary}. Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the profile) for ${request.endpoint}`, { cause: err });
  }
  if (status === 403) return new AccessDeniedError(`${what} was refused: ${summary}`, { cause: err });
  if (/ObjectLockConfiguration|object lock/i.test(summary)) {
    return new StorageError(`${what} needs Object Lock, which bucket ${request.bucket} does not have: ${summary}. Use a bucket created with Object Lock enabled, or write without a retention period`, { cause: err });
  }
  return new StorageError(`${what} failed: ${summary}`, { cause: err });
}
