/**
 * A storage whose every request carries one AbortSignal: an operation wraps its repository's
 * storage once (engine/operation.ts) instead of passing its signal to every call. A request made
 * after the signal fired fails at once with the signal's reason; one in flight is given up, and
 * the S3 backend stops retrying it (retry.ts).
 */
import { setMaxListeners } from 'node:events';
import { throwIfAborted } from '../base/errors.js';
import type { Storage } from './storage.js';

export function abortable(storage: Storage, signal: AbortSignal): Storage {
  setMaxListeners(0, signal); // each request in flight or waiting for its turn listens to it
  const inner = storage;
  const extend = inner.extendRetention?.bind(inner);
  const readRange = inner.readRange?.bind(inner);
  return {
    location: inner.location,
    put(key, data, options) {
      throwIfAborted(signal);
      return inner.put(key, data, { ...options, signal });
    },
    get(key, range, into) {
      throwIfAborted(signal);
      return inner.get(key, range, into, signal);
    },
    ...(readRange && {
      readRange(key, range) {
        throwIfAborted(signal);
        return readRange(key, range, signal);
      },
    }),
    head(key) {
      throwIfAborted(signal);
      return inner.head(key, signal);
    },
    list(prefix) {
      throwIfAborted(signal);
      return inner.list(prefix, signal);
    },
    delete(key) {
      throwIfAborted(signal);
      return inner.delete(key, signal);
    },
    close: () => inner.close(),
    ...(extend && {
      extendRetention(key, until) {
        throwIfAborted(signal);
        return extend(key, until, signal);
      },
    }),
  };
}
