/**
 * The S3 storage through a fault-injecting proxy in front of RGW: whatever the network or the
 * server does (dropped uploads and downloads, 503 SlowDown, 500, stalls, resets, damaged bytes),
 * put/get/range/list still give exactly the right data; a dead server gives a clear error in
 * bounded time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RequestFailedError } from '../../src/storage/retry.js';
import { openS3Storage } from '../../src/storage/s3.js';
import { openRangeReader, type Storage } from '../../src/storage/storage.js';
import { everyNth, startFaultProxy, type Fault, type FaultPlan, type FaultProxy, type RequestInfo } from '../helpers/fault-proxy.js';
import { createTestBucket, freshPrefix, removeTestBucket, requireRgw, RGW, rgwOptions } from './rgw.js';

const MiB = 1024 * 1024;
/** Quick retries so that the faults cost little test time. */
const FAST = { baseDelayMs: 20, maxDelayMs: 200, idleTimeoutMs: 1500, minBytesPerSecond: 50 * MiB, maxElapsedMs: 30_000, maxAttempts: 10 };
const isPut = (r: RequestInfo) => r.method === 'PUT';
const isGet = (r: RequestInfo) => r.method === 'GET';

describe('S3 storage through a fault-injecting proxy', () => {
  let bucket: string;
  let proxy: FaultProxy;
  const target = new URL(RGW.endpoint);
  before(async () => {
    await requireRgw();
    bucket = await createTestBucket('faults');
    proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  });
  after(async () => {
    await proxy?.close();
    if (bucket) await removeTestBucket(bucket);
  });

  const scenarios: Array<[string, FaultPlan, string]> = [
    ['uploads dropped mid-body', everyNth(3, { kind: 'drop-request', afterBytes: 3000 }, isPut), 'drop-request'],
    ['downloads dropped mid-body', everyNth(2, { kind: 'drop-response', afterBytes: 2000 }, isGet), 'drop-response'],
    ['503 SlowDown', everyNth(2, { kind: 'respond', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }), 'respond'],
    ['500 InternalError', everyNth(3, { kind: 'respond', status: 500, code: 'InternalError' }), 'respond'],
    ['stalled responses', everyNth(6, { kind: 'stall', afterBytes: 200 }), 'stall'],
    ['connection resets', everyNth(3, { kind: 'reset' }), 'reset'],
    ['upload bytes damaged in transit (the server checks Content-MD5)', everyNth(2, { kind: 'corrupt-request', atByte: 5000 }, isPut), 'corrupt-request'],
    ['download bytes damaged in transit (whole reads are checked)', everyNth(2, { kind: 'corrupt-response', atByte: 5000 }, (r) => isGet(r) && !r.headers.range && !r.path.includes('list-type')), 'corrupt-response'],
  ];
  for (const [name, plan, kind] of scenarios) {
    it(`returns correct data under ${name}`, async () => {
      const prefix = freshPrefix();
      const faulty = openS3Storage(`s3://${bucket}/${prefix}`, rgwOptions({ endpoint: proxy.url, partSize: 5 * MiB, multipartThreshold: 6 * MiB, retry: FAST }), {});
      const direct = openS3Storage(`s3://${bucket}/${prefix}`, rgwOptions(), {});
      proxy.setPlan(plan);
      try {
        await exercise(faulty, direct);
        assert.ok((proxy.stats.injected[kind] ?? 0) > 0, `the proxy injected no ${kind} fault`);
      } finally {
        proxy.setPlan(undefined);
        await faulty.close();
        await direct.close();
      }
    });
  }

  it('keeps at most maxInFlight requests in flight, and uses that many', async () => {
    const s = openS3Storage(`s3://${bucket}/${freshPrefix()}`, rgwOptions({ endpoint: proxy.url, maxInFlight: 3, partSize: 5 * MiB, multipartThreshold: 6 * MiB }), {});
    proxy.setPlan(undefined);
    try {
      const small = Array.from({ length: 12 }, (_, i) => s.put(`data/0${i % 10}/o${i}`, randomBytes(200_000)));
      await Promise.all([...small, s.put('data/ff/large', randomBytes(20 * MiB))]);
      assert.ok(proxy.stats.peakInFlight <= 3, `peak ${proxy.stats.peakInFlight} requests in flight`);
      assert.ok(proxy.stats.peakInFlight >= 2, `peak ${proxy.stats.peakInFlight}: requests did not run in parallel`);
    } finally {
      await s.close();
    }
  });

  it('fails with a clear error within 30 s when the server is down (default retry policy)', async () => {
    const port = await deadPort();
    const storage = openS3Storage(`s3://${bucket}/x`, rgwOptions({ endpoint: `http://127.0.0.1:${port}` }), {});
    const started = Date.now();
    await assert.rejects(storage.put('snapshots/s1', Buffer.from('x')), (err: unknown) => {
      assert.ok(err instanceof RequestFailedError, String(err));
      assert.equal(err.code, 'REQUEST_FAILED');
      assert.match(err.message, /^PUT snapshots\/s1 in s3:\/\/.+\/x failed after \d+ attempts/);
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    await storage.close();
  });

  it('fails with a clear error in bounded time when the server accepts but never answers', async () => {
    proxy.setPlan(() => ({ kind: 'stall' }) satisfies Fault);
    const storage = openS3Storage(`s3://${bucket}/x`, rgwOptions({ endpoint: proxy.url, retry: { idleTimeoutMs: 800, maxElapsedMs: 3000 } }), {});
    const started = Date.now();
    try {
      await assert.rejects(storage.get('index/i1'), (err: unknown) => err instanceof RequestFailedError && /GET index\/i1/.test(err.message) && /timed out/.test(err.message));
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      proxy.setPlan(undefined);
      await storage.close();
    }
  });

  it('names the object, the operation and the last response when a request keeps failing', async () => {
    proxy.setPlan(() => ({ kind: 'respond', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }));
    const storage = openS3Storage(`s3://${bucket}/repo`, rgwOptions({ endpoint: proxy.url, retry: { ...FAST, maxAttempts: 3 } }), {});
    try {
      await assert.rejects(storage.get('data/ab/pack1', { offset: 10, length: 20 }), (err: unknown) => {
        assert.ok(err instanceof RequestFailedError);
        assert.equal(err.attempts, 3);
        assert.match(err.message, /GET bytes 10-29 of data\/ab\/pack1 in s3:\/\/.+\/repo failed after 3 attempts/);
        assert.match(err.message, /last response: HTTP 503 SlowDown: Please reduce your request rate\. \(request id fault-\d+\)/);
        return true;
      });
    } finally {
      proxy.setPlan(undefined);
      await storage.close();
    }
  });
});

/** Writes small and multipart objects through `s`, reads them back whole and by range, checks them directly too. */
async function exercise(s: Storage, direct: Storage): Promise<void> {
  const objects = new Map<string, Buffer>();
  for (let i = 0; i < 4; i++) objects.set(`data/0${i}/obj`, randomBytes(64 * 1024 + i));
  objects.set('data/ff/large', randomBytes(12 * MiB));
  await Promise.all([...objects].map(([key, data]) => s.put(key, data)));
  const lock = randomBytes(100);
  await s.put('locks/only', lock, { ifAbsent: true });
  objects.set('locks/only', lock);

  for (const [key, data] of objects) assert.ok((await s.get(key)).equals(data), `whole ${key}`);
  const large = objects.get('data/ff/large') as Buffer;
  const range = { offset: 5 * MiB - 100, length: 70_000 };
  assert.ok((await s.get('data/ff/large', range)).equals(large.subarray(range.offset, range.offset + range.length)), 'range across parts');
  // Into a buffer, as restore reads: the body goes straight into it (s3-direct-get.ts).
  const into = new Uint8Array(9 * MiB);
  const big = { offset: 1 * MiB + 3, length: 8 * MiB };
  assert.ok((await s.get('data/ff/large', big, into)).equals(large.subarray(big.offset, big.offset + big.length)), 'range into a buffer');
  // In parts from one request, as restore reads a pack: a broken-off body is resumed where it stopped.
  const reader = openRangeReader(s, 'data/ff/large', { offset: 1000, length: 10 * MiB });
  const parts = [3 * MiB, 1, 4 * MiB - 1, 3 * MiB].map((n) => new Uint8Array(n));
  for (const part of parts) await reader.readInto(part);
  reader.close();
  assert.ok(Buffer.concat(parts).equals(large.subarray(1000, 1000 + 10 * MiB)), 'range read in parts');
  assert.equal((await s.head('data/ff/large'))?.size, large.length);
  const listed: string[] = [];
  for await (const o of s.list('')) listed.push(o.key);
  assert.deepEqual(listed.sort(), [...objects.keys()].sort());
  for (const [key, data] of objects) assert.ok((await direct.get(key)).equals(data), `stored ${key}`);
}

async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
