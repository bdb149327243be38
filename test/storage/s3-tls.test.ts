/**
 * S3 over HTTPS, as an on-premises RGW is often reached: behind a certificate signed by the site's
 * own CA. With the CA given (caBundle, AWS_CA_BUNDLE), every operation works; without it, the
 * first request fails at once, not after minutes of retries, with an error that says how to trust
 * the CA. Needs the test RGW (fails, never skips, without it).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { StorageError } from '../../src/storage/errors.js';
import { openS3Storage } from '../../src/storage/s3.js';
import { startTlsFront, TEST_CA_FILE, type TlsFront } from '../helpers/tls-front.js';
import { createTestBucket, freshPrefix, removeTestBucket, requireRgw, RGW, rgwOptions } from './rgw.js';

const MiB = 1024 * 1024;
/** A file that is not a certificate. */
const NOT_PEM = TEST_CA_FILE.replace(/ca\.pem$/, 'README.md');

describe('S3 over HTTPS with a site CA', () => {
  let bucket: string;
  let front: TlsFront;
  before(async () => {
    await requireRgw();
    bucket = await createTestBucket('tls');
    const target = new URL(RGW.endpoint);
    front = await startTlsFront({ host: target.hostname, port: Number(target.port) });
  });
  after(async () => {
    await front?.close();
    if (bucket) await removeTestBucket(bucket);
  });

  for (const [how, options, env] of [
    ['the caBundle option (--s3-ca-bundle, s3.ca_bundle)', { caBundle: TEST_CA_FILE }, {}],
    ['AWS_CA_BUNDLE', {}, { AWS_CA_BUNDLE: TEST_CA_FILE }],
  ] as const) {
    it(`works with the CA from ${how}: puts, multipart, whole and ranged gets, list, delete`, async () => {
      const storage = openS3Storage(`s3://${bucket}/${freshPrefix()}`, rgwOptions({ endpoint: front.url, multipartThreshold: 6 * MiB, partSize: 5 * MiB, ...options }), env);
      try {
        const small = randomBytes(1000);
        const large = randomBytes(12 * MiB);
        await storage.put('index/small', small);
        await storage.put('data/ab/large', large);
        assert.ok((await storage.get('index/small')).equals(small));
        assert.ok((await storage.get('data/ab/large', { offset: 7 * MiB, length: 1234 })).equals(large.subarray(7 * MiB, 7 * MiB + 1234)));
        assert.ok((await storage.get('data/ab/large')).equals(large));
        const keys: string[] = [];
        for await (const o of storage.list('')) keys.push(o.key);
        assert.deepEqual(keys.sort(), ['data/ab/large', 'index/small']);
        await storage.delete('index/small');
        assert.equal(await storage.head('index/small'), undefined);
      } finally {
        await storage.close();
      }
    });
  }

  it('without the CA, fails at once and says how to trust it', async () => {
    const storage = openS3Storage(`s3://${bucket}/${freshPrefix()}`, rgwOptions({ endpoint: front.url }), {});
    const started = Date.now();
    try {
      await assert.rejects(storage.get('config'), (err: unknown) => {
        assert.ok(err instanceof StorageError, String(err));
        assert.match(err.message, /^GET config in s3:\/\/.+ failed: the certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
        assert.match(err.message, /--s3-ca-bundle FILE, s3\.ca_bundle in lifeboat\.yaml or AWS_CA_BUNDLE/);
        return true;
      });
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms: a certificate error must not be retried`);
    } finally {
      await storage.close();
    }
  });

  it('says what is wrong with a CA bundle it cannot use', () => {
    assert.throws(() => openS3Storage(`s3://${bucket}/x`, rgwOptions({ endpoint: front.url, caBundle: '/nonexistent/ca.pem' }), {}), /cannot read the CA bundle \/nonexistent\/ca\.pem: .*ENOENT/);
    assert.throws(() => openS3Storage(`s3://${bucket}/x`, rgwOptions({ endpoint: front.url, caBundle: NOT_PEM }), {}), /the CA bundle .*README\.md holds no PEM certificate/);
  });
});
