/**
 * The one place where storage requests are retried.
 *
 * Each attempt runs under a watchdog: when it makes no progress for `idleTimeoutMs` (plus the time a
 * body of `bytes` needs at `minBytesPerSecond`) its AbortSignal fires, so a stalled server can never
 * hang a command. Throttling (503, SlowDown, 429), other 5xx, timeouts and dropped connections are
 * retried with exponential backoff and jitter; anything else is the caller's to translate. When
 * the attempts or the time budget run out, RequestFailedError names the operation, the object and
 * the last response. The caller's AbortSignal aborts the attempt in flight and ends the retrying:
 * an aborted request fails with the signal's reason, at once.
 */
import { systemClock } from '../base/clock.js';
import { abortReason, throwIfAborted, type ErrorCode } from '../base/errors.js';
import { StorageError } from './errors.js';

export interface RetryPolicy {
  /** Attempts of one request in total (first try included). */
  maxAttempts: number;
  /** Delay before the first retry; doubles with each retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts once this much time has passed since the first one. */
  maxElapsedMs: number;
  /** An attempt that makes no progress for this long is aborted. */
  idleTimeoutMs: number;
  /** Slowest transfer rate still taken as progress for a body sent in one piece (uploads). */
  minBytesPerSecond: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 200,
  maxDelayMs: 5000,
  maxElapsedMs: 25_000,
  idleTimeoutMs: 20_000,
  minBytesPerSecond: 1024 * 1024,
};

/** What one attempt gets: a signal to pass to the request, and a way to report progress. */
export interface Attempt {
  readonly number: number;
  readonly signal: AbortSignal;
  /** Call when bytes arrive: it restarts the idle timer. */
  progress(): void;
}

export interface RequestDescription {
  /** e.g. "PUT", "GET range 0-1023", "upload part 3 of" */
  operation: string;
  key: string;
  location: string;
  /** Bytes sent in one piece by this request (uploads), to lengthen the idle timeout. */
  bytes?: number;
}

/** A request that kept failing; `lastResponse` says what the server (or the network) said last. */
export class RequestFailedError extends StorageError {
  override readonly code: ErrorCode = 'REQUEST_FAILED';
  constructor(
    readonly request: RequestDescription,
    readonly attempts: number,
    readonly lastResponse: string,
    elapsedMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `${request.operation} ${request.key} in ${request.location} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} ` +
        `over ${(elapsedMs / 1000).toFixed(1)} s; last response: ${lastResponse}. ` +
        `Check that the S3 endpoint is up and reachable, then run the command again.`,
      options,
    );
  }
}

/** Marks an error as worth another attempt (e.g. a body that failed its checksum in transit). */
export class TransientError extends StorageError {
  override readonly code: ErrorCode = 'TRANSIENT';
  readonly retryable = true;
}

export async function withRetry<T>(request: RequestDescription, policy: RetryPolicy, run: (attempt: Attempt) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const started = systemClock.now();
  for (let number = 1; ; number++) {
    throwIfAborted(signal);
    const idleMs = policy.idleTimeoutMs + Math.ceil(((request.bytes ?? 0) / policy.minBytesPerSecond) * 1000);
    const watchdog = startWatchdog(idleMs, signal);
    try {
      return await run({ number, signal: watchdog.signal, progress: watchdog.progress });
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      const failure = classify(err, watchdog.fired() ? idleMs : undefined);
      if (!failure.retryable) throw err;
      const delay = backoffDelay(policy, number, failure.throttled);
      const elapsed = systemClock.now() - started;
      if (number >= policy.maxAttempts || elapsed + delay > policy.maxElapsedMs) {
        throw new RequestFailedError(request, number, failure.summary, elapsed, { cause: err });
      }
      await systemClock.sleep(delay, signal);
    } finally {
      watchdog.stop();
    }
  }
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random; throttling waits longer. */
export function backoffDelay(policy: RetryPolicy, attempt: number, throttled: boolean, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1) * (throttled ? 2 : 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

interface Failure {
  retryable: boolean;
  throttled: boolean;
  summary: string;
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'EAI_AGAIN', 'ENOTFOUND', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET',
]);
const THROTTLING_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequests', 'ServiceUnavailable']);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
/** The server received other bytes than were sent (it checked Content-MD5 or the length): send again. */
const DAMAGED_IN_TRANSIT = new Set(['BadDigest', 'XAmzContentSHA256Mismatch', 'IncompleteBody']);

/** Decides whether an error is worth another attempt, and says in one line what happened. */
export function classify(err: unknown, timedOutAfterMs?: number): Failure {
  if (timedOutAfterMs !== undefined) {
    return { retryable: true, throttled: false, summary: `no progress for ${(timedOutAfterMs / 1000).toFixed(1)} s (timed out)` };
  }
  const e = (err ?? {}) as { name?: string; code?: string; message?: string; retryable?: boolean; $metadata?: { httpStatusCode?: number; requestId?: string } };
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const message = e.message && e.message !== 'UnknownError' ? e.message : '';
  if (status !== undefined) {
    const summary = `HTTP ${status} ${name}${message ? `: ${message}` : ''}${e.$metadata?.requestId ? ` (request id ${e.$metadata.requestId})` : ''}`;
    const throttled = status === 429 || status === 503 || THROTTLING_CODES.has(name);
    // A success status with an error means the body broke off or could not be parsed: try again.
    const brokenBody = status >= 200 && status < 300;
    const retryable = throttled || brokenBody || status >= 500 || TIMEOUT_NAMES.has(name) || DAMAGED_IN_TRANSIT.has(name);
    return { retryable, throttled, summary };
  }
  const code = e.code ?? findCode(err);
  if (code !== undefined && RETRYABLE_NETWORK_CODES.has(code)) {
    return { retryable: true, throttled: false, summary: `connection error ${code}${message ? `: ${message}` : ''}` };
  }
  if (/socket hang up|ECONNRESET|EPIPE|premature close|aborted/i.test(e.message ?? '') || TIMEOUT_NAMES.has(name)) {
    return { retryable: true, throttled: false, summary: `connection error: ${e.message ?? name}` };
  }
  if (e.retryable === true) return { retryable: true, throttled: false, summary: `${name}: ${message}` };
  return { retryable: false, throttled: false, summary: `${name}: ${message}` };
}

/** Network errors are sometimes wrapped (the SDK's deserialization errors keep the socket error as cause). */
function findCode(err: unknown): string | undefined {
  let current = (err as { cause?: unknown } | undefined)?.cause;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The attempt's signal: fired after `idleMs` without progress, or when the caller's signal fires. */
function startWatchdog(idleMs: number, caller: AbortSignal | undefined) {
  const controller = new AbortController();
  let fired = false;
  const fire = () => {
    fired = true;
    controller.abort(new StorageError(`no progress for ${idleMs} ms`));
  };
  const callerAborted = () => controller.abort(abortReason(caller!));
  caller?.addEventListener('abort', callerAborted, { once: true });
  let timer = setTimeout(fire, idleMs);
  return {
    signal: controller.signal,
    fired: () => fired,
    progress() {
      if (fired) return;
      clearTimeout(timer);
      timer = setTimeout(fire, idleMs);
    },
    stop() {
      clearTimeout(timer);
      caller?.removeEventListener('abort', callerAborted);
    },
  };
}
