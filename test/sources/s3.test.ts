/**
 * The S3 source against the project's Ceph RGW: every object under a prefix with its metadata
 * (MLflow's artifact layout, plus keys no filesystem takes as they are), restored to another
 * prefix with ETag and size checked; every version and delete marker of a versioned bucket; a
 * missing bucket and wrong credentials leave no snapshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { s3Source } from '../../src/sources/s3.js';
import { pseudoRandom } from '../helpers/files.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { bucketForTest, rawClient, RGW } from '../storage/rgw.js';
import { context, sourceConformance } from './conformance.js';

// The source takes credentials as any AWS client does: from the environment (or a profile).
process.env.AWS_ACCESS_KEY_ID = RGW.credentials.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = RGW.credentials.secretAccessKey;
const s3 = { endpoint: RGW.endpoint, region: RGW.region };

const OBJECTS: Array<{ key: string; body: Buffer; type?: string; meta?: Record<string, string> }> = [
  { key: 'artifacts/1/run-a/artifacts/model/MLmodel', body: Buffer.from('flavors:\n  transformers: {}\n'), type: 'text/yaml', meta: { 'mlflow-run': 'run-a' } },
  { key: 'artifacts/1/run-a/artifacts/model/model.safetensors', body: pseudoRandom(3 * 1024 * 1024, 'st'), type: 'application/octet-stream' },
  { key: 'artifacts/1/run-a/metrics.json', body: Buffer.from('{"eval_loss": 1.23}') },
  { key: 'artifacts/odd/x', body: Buffer.from('a file named like the folder below') },
  { key: 'artifacts/odd/x/y', body: Buffer.from('inside') },
  { key: 'artifacts/odd/../dots//empty', body: Buffer.from('dots') },
];

async function body(bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const got = await rawClient().send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

sourceConformance({
  adapter: s3Source,
  async prepare(t) {
    const bucket = await bucketForTest(t, 'src');
    const client = rawClient();
    for (const o of OBJECTS) await client.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body, ContentType: o.type, Metadata: o.meta }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/not-this', Body: 'outside the prefix' }));
    return {
      config: { kind: 's3', url: `s3://${bucket}/artifacts/`, endpoint: RGW.endpoint, region: RGW.region, versions: false },
      secret: RGW.credentials.secretAccessKey,
      restoreTo: async () => ({ to: `s3://${bucket}/restored/`, s3 }),
      async checkRestored(outcome) {
        assert.equal(outcome.entries, OBJECTS.length);
        const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'restored/' }));
        assert.deepEqual((listed.Contents ?? []).map((c) => c.Key).sort(), OBJECTS.map((o) => o.key.replace(/^artifacts\//, 'restored/')).sort());
        for (const o of OBJECTS) {
          const key = o.key.replace(/^artifacts\//, 'restored/');
          assert.ok((await body(bucket, key)).equals(o.body), key);
          const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          if (o.type) assert.equal(got.ContentType, o.type);
          assert.deepEqual(got.Metadata ?? {}, o.meta ?? {});
        }
      },
    };
  },
  async failures(t) {
    const dir = await tempDir(t);
    const credentials = path.join(dir, 'credentials');
    await fs.writeFile(credentials, '[lbt-wrong]\naws_access_key_id = AKIAWRONGWRONGWRONG\naws_secret_access_key = wrongwrongwrong\n');
    process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
    const bucket = await bucketForTest(t, 'fail');
    await rawClient().send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x' }));
    return [
      { name: 'missing bucket', config: { kind: 's3', url: 's3://lbt-no-such-bucket-9a7/x/', endpoint: RGW.endpoint, versions: false }, code: 'SOURCE_NOT_FOUND', message: /NoSuchBucket/ },
      { name: 'wrong credentials', config: { kind: 's3', url: `s3://${bucket}/`, endpoint: RGW.endpoint, profile: 'lbt-wrong', versions: false }, code: 'SOURCE_AUTH', message: /InvalidAccessKeyId|AccessDenied|SignatureDoesNotMatch/ },
    ];
  },
});

test('s3: every version and delete marker of a versioned bucket is backed up and put back in order', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const client = rawClient();
  const [from, to] = [await bucketForTest(t, 'ver'), await bucketForTest(t, 'verdst')];
  for (const b of [from, to]) await client.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  await client.send(new PutObjectCommand({ Bucket: from, Key: 'data/train.jsonl', Body: 'v1\n' }));
  await client.send(new PutObjectCommand({ Bucket: from, Key: 'data/train.jsonl', Body: 'v1\nv2\n' }));
  await client.send(new PutObjectCommand({ Bucket: from, Key: 'data/removed.jsonl', Body: 'gone' }));
  await client.send(new DeleteObjectCommand({ Bucket: from, Key: 'data/removed.jsonl' }));
  const { snapshot } = await s3Source.backup(repo, { kind: 's3', url: `s3://${from}/data/`, endpoint: RGW.endpoint, versions: true }, { asset: 'dataset' }, context({ tmpDir: dir }));
  assert.equal(snapshot.source?.details.entries, 4, 'three versions and a delete marker');
  assert.equal((await s3Source.verify(repo, 'dataset@v1', context())).ok, true);
  const outcome = await s3Source.restore(repo, 'dataset@v1', { to: `s3://${to}/data/`, s3 }, context({ tmpDir: dir }));
  assert.ok(outcome.checks.every((c) => c.ok), JSON.stringify(outcome.checks));
  const versions = await client.send(new ListObjectVersionsCommand({ Bucket: to, Prefix: 'data/' }));
  const train = (versions.Versions ?? []).filter((v) => v.Key === 'data/train.jsonl');
  assert.equal(train.length, 2);
  assert.equal((await body(to, 'data/train.jsonl')).toString(), 'v1\nv2\n', 'the current version is the current one');
  assert.equal((await body(to, 'data/train.jsonl', train.find((v) => !v.IsLatest)!.VersionId)).toString(), 'v1\n', 'and the older one is kept beneath it');
  assert.ok((versions.DeleteMarkers ?? []).some((d) => d.Key === 'data/removed.jsonl' && d.IsLatest), 'the removed object is removed again, its version kept');
});
