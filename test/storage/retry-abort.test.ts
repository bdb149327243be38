/**
 * A request given an AbortSignal (retry.ts): when it fires, the attempt in flight is aborted and
 * no further attempt is made; the request fails at once with the signal's reason, however much
 * of its retry budget is left.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AbortedError, LifeboatError } from '../../src/base/errors.js';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from '../../src/storage/retry.js';

const SLOW: RetryPolicy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 5_000, maxDelayMs: 5_000, idleTimeoutMs: 60_000 };
const request = { operation: 'PUT', key: 'data/ab/pack', location: 's3://bucket/repo' };
const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

it('stops retrying when the signal fires during the wait between attempts', async () => {
  const controller = new AbortController();
  let attempts = 0;
  const started = Date.now();
  const failing = withRetry(request, SLOW, async () => {
    attempts++;
    setTimeout(() => controller.abort(new AbortedError('stopped by the test')), 20);
    throw reset(); // retryable: the next attempt would come after 2.5-5 s
  }, controller.signal);
  await assert.rejects(failing, (err: unknown) => err instanceof AbortedError && err.message === 'stopped by the test');
  assert.equal(attempts, 1, 'no attempt after the abort');
  assert.ok(Date.now() - started < 1000, 'the wait before the next attempt was cut short');
});

it('aborts the attempt in flight, and fails with the reason the aborter gave', async () => {
  const controller = new AbortController();
  let attempts = 0;
  const reason = new LifeboatError('LOCK_LOST', 'the lock could not be refreshed');
  const failing = withRetry(request, SLOW, (attempt) => {
    attempts++;
    setTimeout(() => controller.abort(reason), 20);
    // A request that only ends when its attempt's signal fires, as an SDK call does.
    return new Promise((_, reject) => attempt.signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
  }, controller.signal);
  await assert.rejects(failing, (err: unknown) => err === reason);
  assert.equal(attempts, 1);
});

it('makes no attempt when the signal fired before the request', async () => {
  let attempts = 0;
  await assert.rejects(withRetry(request, SLOW, async () => void attempts++, AbortSignal.abort()), (err: unknown) => (err as LifeboatError).code === 'ABORTED');
  assert.equal(attempts, 0);
});
