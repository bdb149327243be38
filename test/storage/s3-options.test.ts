/** How an S3 repository URL and the client settings are read: flags first, then the AWS environment. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StorageError } from '../../src/storage/errors.js';
import { openStorage } from '../../src/storage/open.js';
import { formatS3Url, parseS3Url, resolveS3Options } from '../../src/storage/s3-options.js';

describe('S3 repository URLs', () => {
  it('split into bucket and key prefix', () => {
    assert.deepEqual(parseS3Url('s3://backups/lifeboat/prod'), { bucket: 'backups', prefix: 'lifeboat/prod/' });
    assert.deepEqual(parseS3Url('s3://backups/lifeboat/'), { bucket: 'backups', prefix: 'lifeboat/' });
    assert.deepEqual(parseS3Url('s3://backups'), { bucket: 'backups', prefix: '' });
    assert.equal(formatS3Url(parseS3Url('s3://backups/a/b/')), 's3://backups/a/b');
    assert.equal(formatS3Url(parseS3Url('s3://backups')), 's3://backups');
  });

  it('refuse bad buckets and prefixes with a message saying how to write them', () => {
    for (const url of ['s3:/backups', 's3://', 's3://Upper', 's3://ab', 's3://bucket/a/../b', 's3://bucket/a//b']) {
      assert.throws(() => parseS3Url(url), (err: unknown) => err instanceof StorageError && /s3:\/\/BUCKET|bucket name|prefix/.test(err.message), url);
    }
  });

  it('are dispatched by openStorage, and unknown schemes refused', async () => {
    const s = await openStorage('s3://some-bucket/repo', { s3: { endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } } });
    assert.equal(s.location, 's3://some-bucket/repo');
    assert.equal(typeof s.extendRetention, 'function');
    await s.close();
    await assert.rejects(openStorage('gs://bucket/x'), /unknown repository URL scheme/);
  });
});

describe('S3 client settings', () => {
  it('take explicit options over the environment', () => {
    const env = { AWS_ENDPOINT_URL: 'http://env:1', AWS_REGION: 'eu-west-1', AWS_PROFILE: 'envprofile' };
    const r = resolveS3Options({ endpoint: 'http://flag:2', region: 'us-east-2', profile: 'flagprofile', forcePathStyle: false }, env);
    assert.deepEqual([r.endpoint, r.region, r.profile, r.forcePathStyle], ['http://flag:2', 'us-east-2', 'flagprofile', false]);
  });

  it('read the standard AWS variables, the S3-specific endpoint first', () => {
    const r = resolveS3Options({}, { AWS_ENDPOINT_URL: 'http://any:1', AWS_ENDPOINT_URL_S3: 'http://s3:2', AWS_DEFAULT_REGION: 'ap-south-1', AWS_PROFILE: 'ceph' });
    assert.deepEqual([r.endpoint, r.region, r.profile], ['http://s3:2', 'ap-south-1', 'ceph']);
    assert.equal(resolveS3Options({}, { AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'x' }).region, 'eu-central-1');
  });

  it('default to what Ceph and MinIO need: us-east-1, and path style with a custom endpoint', () => {
    const custom = resolveS3Options({ endpoint: 'http://127.0.0.1:7480' }, {});
    assert.deepEqual([custom.region, custom.forcePathStyle], ['us-east-1', true]);
    const aws = resolveS3Options({}, {});
    assert.deepEqual([aws.endpoint, aws.forcePathStyle, aws.lockMode, aws.maxInFlight], [undefined, false, 'GOVERNANCE', 8]);
  });

  it('refuse settings S3 cannot work with', () => {
    assert.throws(() => resolveS3Options({ endpoint: '127.0.0.1:7480' }, {}), /invalid S3 endpoint/);
    assert.throws(() => resolveS3Options({ partSize: 1024 * 1024 }, {}), /at least 5242880 bytes/);
    assert.throws(() => resolveS3Options({ maxInFlight: 0 }, {}), /at least 1/);
  });
});
