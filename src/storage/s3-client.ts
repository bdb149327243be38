/** Builds the AWS SDK v3 client with the settings Ceph RGW (and MinIO) need. */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3RequestHandler } from './s3-direct-get.js';
import { StorageError } from './errors.js';
import { sdk } from './s3-sdk.js';
import type { ResolvedS3Options } from './s3-options.js';

/** Connecting to the endpoint takes at most this long; a down host fails fast and is retried. */
const CONNECT_TIMEOUT_MS = 5000;

export function createS3Client(options: ResolvedS3Options): S3Client {
  // The SDK warns on every run under Node 20 about its future Node 22 requirement; Lifeboat's
  // users cannot act on it, so it would only clutter the CLI's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const agentOptions = { keepAlive: true, maxSockets: options.maxInFlight };
  const ca = trustedCas(options.caBundle);
  const client = new sdk.S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    profile: options.profile,
    credentials: options.credentials,
    // Retries happen in one place, retry.ts, around each request (and its body read).
    maxAttempts: 1,
    // Ceph 16 rejects streamed bodies with the SDK's default trailing checksums (411) and does not
    // verify x-amz-checksum-*; Lifeboat sends Content-MD5 instead, which RGW does verify.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Range reads go straight into the caller's buffer; the rest through node:http(s).
    requestHandler: createS3RequestHandler({
      connectionTimeout: CONNECT_TIMEOUT_MS,
      ca,
      httpAgent: new http.Agent(agentOptions),
      httpsAgent: new https.Agent({ ...agentOptions, ca }),
    }),
  });
  // A request whose body carries Content-MD5 (every upload of ours) is signed with UNSIGNED-PAYLOAD
  // instead of the body's SHA-256: the signed Content-MD5 header already binds the body, the server
  // checks it, and hashing every pack once more cost more CPU than the rest of the upload.
  client.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers;
      if (headers && Object.keys(headers).some((h) => h.toLowerCase() === 'content-md5')) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'lifeboatUnsignedPayload' },
  );
  return client;
}

/** Node's own CAs, plus those of `caBundle` (an on-premises RGW's certificate is often signed by the site's CA). */
function trustedCas(caBundle: string | undefined): string[] | undefined {
  if (caBundle === undefined) return undefined;
  let pem: string;
  try {
    pem = readFileSync(caBundle, 'utf8');
  } catch (err) {
    throw new StorageError(`cannot read the CA bundle ${caBundle}: ${(err as Error).message}; give the PEM file of the CA that signed the S3 endpoint's certificate`, { cause: err });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new StorageError(`the CA bundle ${caBundle} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return [...tls.rootCertificates, pem];
}
