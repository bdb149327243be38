/**
 * A storage with faults injected (Kopia's faulty storage, in small): before each request reaches
 * the storage, `before` sees it and may throw (the request fails without reaching the storage),
 * return a promise the request waits for (a stall, a gate the test opens), or do something else
 * at that moment (fire an AbortSignal). Every request is recorded, in order.
 */
import type { ObjectInfo, RangeReader, Storage } from '../../src/storage/storage.js';

export type StorageOp = 'put' | 'get' | 'head' | 'list' | 'delete';

export interface StorageRequest {
  op: StorageOp;
  key: string;
  /** 1 for the first request through this storage, 2 for the next, ... */
  n: number;
}

export type BeforeRequest = (request: StorageRequest) => void | Promise<void>;

export function faultyStorage(inner: Storage, before: BeforeRequest): { storage: Storage; requests: StorageRequest[] } {
  const requests: StorageRequest[] = [];
  const note = (op: StorageOp, key: string): StorageRequest => {
    const request = { op, key, n: requests.length + 1 };
    requests.push(request);
    return request;
  };
  const gate = async (op: StorageOp, key: string) => before(note(op, key));
  async function* list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    await gate('list', prefix);
    yield* inner.list(prefix, signal);
  }
  const storage: Storage = {
    location: inner.location,
    put: async (key, data, options) => {
      await gate('put', key);
      return inner.put(key, data, options);
    },
    get: async (key, range, into, signal) => {
      await gate('get', key);
      return inner.get(key, range, into, signal);
    },
    head: async (key, signal) => {
      await gate('head', key);
      return inner.head(key, signal);
    },
    list,
    delete: async (key, signal) => {
      await gate('delete', key);
      return inner.delete(key, signal);
    },
    close: () => inner.close(),
  };
  if (inner.readRange) {
    const readRange = inner.readRange.bind(inner);
    storage.readRange = (key, range, signal): RangeReader => {
      let opened: Promise<RangeReader> | undefined;
      const open = () => (opened ??= gate('get', key).then(() => readRange(key, range, signal)));
      open().catch(() => {}); // its failure is the first part's
      return {
        readInto: async (dest) => (await open()).readInto(dest),
        close: () => void open().then((r) => r.close(), () => {}),
      };
    };
  }
  if (inner.extendRetention) storage.extendRetention = inner.extendRetention.bind(inner);
  return { storage, requests };
}
