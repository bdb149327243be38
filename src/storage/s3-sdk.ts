/**
 * The AWS SDK for S3, and the two Smithy packages our transport builds on, loaded with require().
 * They are CommonJS: importing them from an ES module makes Node scan every file for its export
 * names first, which took 50–60 ms of each S3 command's start here (110–150 ms against 60 ms).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const sdk = require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
export const smithyProtocols = require('@smithy/core/protocols') as typeof import('@smithy/core/protocols');
export const smithyNodeHttp = require('@smithy/node-http-handler') as typeof import('@smithy/node-http-handler');
