/**
 * What an S3 repository needs to be reached: the `s3://BUCKET/PREFIX` URL and the client settings,
 * from explicit options (CLI flags, config file) first, then the standard AWS environment variables.
 * Pure functions: the environment is passed in, so they are tested without touching process.env.
 */
import { StorageError } from './errors.js';
import type { RetryPolicy } from './retry.js';

export type ObjectLockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** Settings a caller (the CLI's --s3-* flags, the config file) may give; every field is optional. */
export interface S3Options {
  /** e.g. http://127.0.0.1:7480; default AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS itself. */
  endpoint?: string;
  /** Default AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1 (what Ceph and MinIO expect). */
  region?: string;
  /** Bucket in the path instead of the host name; default true when a custom endpoint is set (Ceph, MinIO). */
  forcePathStyle?: boolean;
  /** Named profile of ~/.aws/credentials and ~/.aws/config; default AWS_PROFILE. */
  profile?: string;
  /** Static credentials; default the SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile, ...). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Requests in flight at once for this repository (parts of one upload included). Default 8. */
  maxInFlight?: number;
  /** Objects larger than this are uploaded in parts. Default 32 MiB. */
  multipartThreshold?: number;
  /** Size of one part of a multipart upload (at least 5 MiB). Default 8 MiB. */
  partSize?: number;
  /** Object Lock mode for puts with retainUntil and for extendRetention. Default GOVERNANCE. */
  lockMode?: ObjectLockMode;
  /** PEM file of the CA(s) that signed an https endpoint's certificate, trusted besides Node's own; default AWS_CA_BUNDLE. */
  caBundle?: string;
  /** Retry and timeout settings; defaults in retry.ts. */
  retry?: Partial<RetryPolicy>;
}

/** The settings after defaults, as the client is built from them. */
export interface ResolvedS3Options {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  profile?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxInFlight: number;
  multipartThreshold: number;
  partSize: number;
  lockMode: ObjectLockMode;
  caBundle?: string;
  retry: Partial<RetryPolicy>;
}

export interface S3Location {
  bucket: string;
  /** Key prefix inside the bucket: '' or ending in '/'. */
  prefix: string;
}

const MiB = 1024 * 1024;
/** S3's smallest part size (all but the last part). */
export const MIN_PART_SIZE = 5 * MiB;

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match) throw new StorageError(`invalid S3 repository URL ${JSON.stringify(url)}: write it as s3://BUCKET or s3://BUCKET/PREFIX`);
  const bucket = match[1];
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new StorageError(`invalid bucket name ${JSON.stringify(bucket)} in ${url}: use 3-63 lower-case letters, digits, dots and hyphens`);
  }
  const path = match[2].replace(/\/+$/, '');
  if (path.split('/').some((part) => part === '.' || part === '..') || path.includes('//')) {
    throw new StorageError(`invalid prefix ${JSON.stringify(path)} in ${url}: use names separated by single slashes`);
  }
  return { bucket, prefix: path === '' ? '' : `${path}/` };
}

export function formatS3Url(location: S3Location): string {
  return `s3://${location.bucket}/${location.prefix.replace(/\/$/, '')}`.replace(/\/$/, '');
}

export function resolveS3Options(options: S3Options = {}, env: NodeJS.ProcessEnv = {}): ResolvedS3Options {
  const endpoint = nonEmpty(options.endpoint) ?? nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new StorageError(`invalid S3 endpoint ${JSON.stringify(endpoint)}: give a URL such as http://127.0.0.1:7480`);
  }
  const partSize = options.partSize ?? 8 * MiB;
  if (partSize < MIN_PART_SIZE) throw new StorageError(`S3 part size ${partSize} is too small: S3 needs at least ${MIN_PART_SIZE} bytes (5 MiB)`);
  const multipartThreshold = options.multipartThreshold ?? 32 * MiB;
  const maxInFlight = options.maxInFlight ?? 8;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new StorageError(`S3 requests in flight must be a whole number of at least 1, not ${maxInFlight}`);
  const credentials = options.credentials ?? undefined;
  return {
    endpoint,
    region: nonEmpty(options.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
    profile: nonEmpty(options.profile) ?? nonEmpty(env.AWS_PROFILE),
    credentials,
    maxInFlight,
    multipartThreshold: Math.max(multipartThreshold, partSize),
    partSize,
    lockMode: options.lockMode ?? 'GOVERNANCE',
    // The AWS CLI and the other SDKs read AWS_CA_BUNDLE; the JavaScript SDK does not, so we do.
    caBundle: nonEmpty(options.caBundle) ?? nonEmpty(env.AWS_CA_BUNDLE),
    retry: options.retry ?? {},
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
