/**
 * Whole-file SHA-256s on a thread of their own. A backup or restore hashes every byte of every
 * file in file order, which on the main thread took a third of its time and left the workers
 * waiting for it. Data travels as views of SharedArrayBuffers (nothing is copied); any other
 * view is copied once. An update resolves when the thread has hashed it: only then may the
 * caller reuse the buffer.
 */
import { Worker } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-worker.js';

export interface FileHash {
  /** Queues `data` (in file order); resolves once it is hashed and its buffer may be reused. */
  update(data: Uint8Array): Promise<void>;
  /** The hex SHA-256 of everything queued, in order. The hash cannot be used afterwards. */
  digest(): Promise<string>;
}

export interface HashThread {
  start(): FileHash;
  /** Starts the thread now rather than on first use, so that its start-up overlaps the work before it. */
  warmUp(): void;
  close(): Promise<void>;
}

export function startHashThread(): HashThread {
  const pending = new Map<number, { resolve: (r: HashReply) => void; reject: (e: Error) => void }>();
  let nextSeq = 1;
  let nextFile = 1;
  let failure: Error | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  // The thread starts on first use: a backup with nothing new to read needs none.
  let thread: Worker | undefined;
  function worker(): Worker {
    if (thread) return thread;
    thread = new Worker(new URL('./hash-worker.js', import.meta.url));
    thread.on('message', (reply: HashReply) => {
      const p = pending.get(reply.seq)!;
      pending.delete(reply.seq);
      p.resolve(reply);
    });
    thread.on('error', fail);
    thread.on('exit', (code) => code !== 0 && fail(new Error(`the hashing thread exited with code ${code}`)));
    return thread;
  }

  function send(request: HashRequest extends infer R ? (R extends unknown ? Omit<R, 'seq'> : never) : never): Promise<HashReply> {
    if (failure) return Promise.reject(failure);
    const seq = nextSeq++;
    return new Promise((resolve, reject) => {
      pending.set(seq, { resolve, reject });
      worker().postMessage({ ...request, seq });
    });
  }

  return {
    warmUp: () => void worker(),
    start() {
      const file = nextFile++;
      return {
        async update(data) {
          // A shared view goes as it is; anything else as a copy of just its bytes.
          const shared = data.buffer instanceof SharedArrayBuffer;
          await send({ op: 'update', file, buffer: shared ? data.buffer : data.slice().buffer, offset: shared ? data.byteOffset : 0, length: data.length });
        },
        async digest() {
          return (await send({ op: 'digest', file })).digest!;
        },
      };
    },
    close: async () => {
      await thread?.terminate();
    },
  };
}
