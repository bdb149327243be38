/**
 * Credentials and endpoint from the standard AWS sources (environment variables, profiles), as an
 * operator sets them; wrong credentials give an error that says which settings to check.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { openStorage } from '../../src/storage/open.js';
import { AccessDeniedError } from '../../src/storage/s3-errors.js';
import { createTestBucket, removeTestBucket, requireRgw, RGW } from './rgw.js';

const AWS_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE'];

describe('S3 credentials from the AWS environment', () => {
  let bucket: string;
  let dir: string;
  const saved = Object.fromEntries(AWS_VARS.map((name) => [name, process.env[name]]));
  before(async () => {
    await requireRgw();
    bucket = await createTestBucket('creds');
    dir = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-aws-'));
  });
  afterEach(() => {
    for (const name of AWS_VARS) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
  after(async () => {
    if (bucket) await removeTestBucket(bucket);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const roundTrip = async (options = {}) => {
    const s = await openStorage(`s3://${bucket}/env`, { s3: options });
    try {
      await s.put('config', Buffer.from('from the environment'));
      assert.equal((await s.get('config')).toString(), 'from the environment');
    } finally {
      await s.close();
    }
  };

  it('uses AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY', async () => {
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: RGW.endpoint,
      AWS_REGION: RGW.region,
      AWS_ACCESS_KEY_ID: RGW.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: RGW.credentials.secretAccessKey,
    });
    await roundTrip();
  });

  it('uses a named profile from AWS_PROFILE, or given as an option', async () => {
    const credentials = path.join(dir, 'credentials');
    await writeFile(
      credentials,
      `[wrong]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n` +
        `[ceph]\naws_access_key_id = ${RGW.credentials.accessKeyId}\naws_secret_access_key = ${RGW.credentials.secretAccessKey}\n`,
    );
    Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: path.join(dir, 'config'), AWS_ENDPOINT_URL: RGW.endpoint, AWS_PROFILE: 'ceph' });
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await roundTrip();
    process.env.AWS_PROFILE = 'wrong';
    await roundTrip({ profile: 'ceph' });
  });

  it('says which settings to check when the credentials are refused', async () => {
    Object.assign(process.env, { AWS_ENDPOINT_URL: RGW.endpoint, AWS_ACCESS_KEY_ID: 'nobody', AWS_SECRET_ACCESS_KEY: 'nothing' });
    const s = await openStorage(`s3://${bucket}/env`);
    try {
      await assert.rejects(s.get('config'), (err: unknown) =>
        err instanceof AccessDeniedError && /GET config in s3:\/\/.+\/env was refused: HTTP 403 InvalidAccessKeyId/.test(err.message) && /AWS_ACCESS_KEY_ID/.test(err.message));
    } finally {
      await s.close();
    }
  });
});
