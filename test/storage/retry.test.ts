/** The retry policy: what is retried, how long it waits, and what a request that keeps failing says. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, classify, DEFAULT_RETRY_POLICY, RequestFailedError, withRetry, type RetryPolicy } from '../../src/storage/retry.js';

const FAST: RetryPolicy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1, maxDelayMs: 5, idleTimeoutMs: 200 };
const request = { operation: 'PUT', key: 'data/ab/pack', location: 's3://bucket/repo' };
const s3Error = (name: string, status: number, message = '') => Object.assign(new Error(message || 'UnknownError'), { name, $metadata: { httpStatusCode: status, requestId: 'tx1' } });

describe('retry classification', () => {
  it('retries throttling, 5xx, timeouts, dropped connections and bodies damaged in transit', () => {
    for (const err of [
      s3Error('SlowDown', 503), s3Error('ServiceUnavailable', 503), s3Error('InternalError', 500), s3Error('TooManyRequests', 429),
      s3Error('RequestTimeout', 400), s3Error('BadDigest', 400),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
      new Error('socket hang up'), Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ]) {
      assert.equal(classify(err).retryable, true, `${err.name} ${err.message}`);
    }
    assert.equal(classify(s3Error('SlowDown', 503)).throttled, true);
    assert.match(classify(new Error('x'), 1500).summary, /no progress for 1\.5 s \(timed out\)/);
  });

  it('does not retry what another attempt cannot fix', () => {
    for (const err of [s3Error('NoSuchKey', 404), s3Error('AccessDenied', 403), s3Error('PreconditionFailed', 412), s3Error('InvalidRange', 416), new TypeError('bug')]) {
      assert.equal(classify(err).retryable, false, err.name);
    }
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter, capped, longer when throttled', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(backoffDelay(policy, 1, false, () => 0), 50);
    assert.equal(backoffDelay(policy, 1, false, () => 1), 100);
    assert.equal(backoffDelay(policy, 3, false, () => 1), 400);
    assert.equal(backoffDelay(policy, 10, false, () => 1), 1000);
    assert.equal(backoffDelay(policy, 1, true, () => 1), 200);
  });

  it('keeps the worst case of the default policy under 30 s for a server that is down', () => {
    let total = 0;
    for (let attempt = 1; attempt < DEFAULT_RETRY_POLICY.maxAttempts; attempt++) total += backoffDelay(DEFAULT_RETRY_POLICY, attempt, false, () => 1);
    assert.ok(total < 30_000, `${total} ms`);
  });
});

describe('withRetry', () => {
  it('returns the first success after transient failures', async () => {
    let calls = 0;
    const result = await withRetry(request, FAST, async () => {
      calls++;
      if (calls < 3) throw s3Error('SlowDown', 503);
      return 'stored';
    });
    assert.deepEqual([result, calls], ['stored', 3]);
  });

  it('passes a non-retryable error through untouched, after one attempt', async () => {
    let calls = 0;
    const denied = s3Error('AccessDenied', 403);
    await assert.rejects(withRetry(request, FAST, async () => {
      calls++;
      throw denied;
    }), (err) => err === denied);
    assert.equal(calls, 1);
  });

  it('gives up after maxAttempts naming the operation, the object and the last response', async () => {
    await assert.rejects(withRetry(request, { ...FAST, maxAttempts: 4 }, async () => { throw s3Error('InternalError', 500, 'We encountered an internal error.'); }), (err: unknown) => {
      assert.ok(err instanceof RequestFailedError);
      assert.equal(err.attempts, 4);
      assert.match(err.message, /^PUT data\/ab\/pack in s3:\/\/bucket\/repo failed after 4 attempts over \d+\.\d s; last response: HTTP 500 InternalError: We encountered an internal error\. \(request id tx1\)/);
      return true;
    });
  });

  it('aborts an attempt that makes no progress, and counts progress as life', async () => {
    let calls = 0;
    const result = await withRetry(request, { ...FAST, idleTimeoutMs: 100 }, (attempt) => {
      calls++;
      if (calls === 1) return new Promise<string>((_, reject) => attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason)));
      // 300 ms in all, but progress every 40 ms keeps the 100 ms idle timer from firing.
      return new Promise<string>((resolve, reject) => {
        attempt.signal.addEventListener('abort', () => reject(new Error('aborted despite progress')));
        let ticks = 0;
        const timer = setInterval(() => {
          attempt.progress();
          if (++ticks === 8) {
            clearInterval(timer);
            resolve('done');
          }
        }, 40);
      });
    });
    assert.deepEqual([result, calls], ['done', 2]);
  });

  it('stops retrying when the time budget is spent', async () => {
    const started = Date.now();
    await assert.rejects(
      withRetry(request, { ...FAST, maxAttempts: 100, baseDelayMs: 50, maxDelayMs: 50, maxElapsedMs: 300 }, async () => { throw s3Error('SlowDown', 503); }),
      RequestFailedError,
    );
    assert.ok(Date.now() - started < 1000);
  });
});
