/**
 * A small pool of worker threads running `pipeline-worker.js`. Requests are answered by id;
 * `pick()` chooses the least busy worker, and a request can be sent to a given worker when
 * it needs state that worker holds (the second phase of a backup batch).
 */
import os from 'node:os';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { FormatError, IntegrityError } from '../repo/errors.js';
import type { WorkerInit, WorkerMessage, WorkerReply, WorkerRequest } from './pipeline-protocol.js';

export interface PoolWorker {
  readonly index: number;
}

interface Slot extends PoolWorker {
  worker: Worker;
  busy: number;
  /** Resolves with the thread's exit code, whenever and however it ends. */
  exited: Promise<number>;
}

export interface WorkerPool {
  size: number;
  /** Starts the threads now rather than on first use, so that their start-up overlaps the work before it. */
  warmUp(): void;
  pick(): PoolWorker;
  request<R extends WorkerReply>(on: PoolWorker, message: WorkerRequest, transfer?: TransferListItem[]): Promise<R>;
  /** Resolves once every thread has ended by itself; rejects when one crashed. */
  close(): Promise<void>;
}

/** Both cores by default: the main thread mostly reads and waits. */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(os.availableParallelism(), 8));
}

export function startWorkerPool(init: WorkerInit, count = defaultWorkerCount()): WorkerPool {
  const url = new URL('./pipeline-worker.js', import.meta.url);
  const pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void; slot: Slot }>();
  let nextId = 1;
  let failure: Error | undefined;
  let closed = false;
  // Threads start on first use: a backup with nothing new to read (the common re-run) needs none.
  let started: Slot[] | undefined;
  const slots = (): Slot[] => (started ??= Array.from({ length: count }, (_, index) => startSlot(index)));
  function startSlot(index: number): Slot {
    const worker = new Worker(url, { workerData: init });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    const slot: Slot = { index, worker, busy: 0, exited };
    worker.on('message', (reply: WorkerReply) => {
      const p = pending.get(reply.requestId);
      if (!p) return;
      pending.delete(reply.requestId);
      p.slot.busy--;
      if (reply.op === 'error') p.reject(reviveError(reply));
      else p.resolve(reply);
    });
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`a pipeline worker exited with code ${code}`));
    });
    return slot;
  }

  function fail(err: Error) {
    failure ??= err;
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(err);
    }
  }

  return {
    size: count,
    warmUp: () => void slots(),
    pick() {
      const all = slots();
      return all.reduce((best, s) => (s.busy < best.busy ? s : best), all[0]);
    },
    request<R extends WorkerReply>(on: PoolWorker, message: WorkerRequest, transfer: TransferListItem[] = []): Promise<R> {
      if (failure) return Promise.reject(failure);
      // A closed thread would never answer (a task of a failed operation may still be sending).
      if (closed) return Promise.reject(new Error('the pipeline workers were closed'));
      const slot = slots()[on.index];
      const requestId = nextId++;
      slot.busy++;
      return new Promise<R>((resolve, reject) => {
        pending.set(requestId, { resolve: resolve as (r: WorkerReply) => void, reject, slot });
        slot.worker.postMessage({ ...message, requestId } satisfies WorkerMessage, transfer);
      });
    },
    async close() {
      // Each thread is asked to end, never terminated: a thread stopped inside zstd-napi (loading
      // it, or in a call) aborts the whole process under Node 24, where the addon's next call into
      // a terminating Node throws a C++ exception that nothing catches. Messages arrive in order,
      // so a thread answers every request sent before it reads this, and one still starting
      // finishes starting first. A thread that crashed instead is this close's failure too.
      closed = true;
      const all = started ?? [];
      for (const s of all) s.worker.postMessage({ op: 'close' } satisfies WorkerMessage);
      await Promise.all(all.map((s) => s.exited));
      if (failure) throw failure;
    },
  };
}

/** Errors cross the thread boundary as data; the repository's typed errors are rebuilt as such. */
function reviveError(reply: Extract<WorkerReply, { op: 'error' }>): Error {
  if (reply.code === 'INTEGRITY') return new IntegrityError(reply.message);
  if (reply.code === 'FORMAT') return new FormatError(reply.message);
  const err = new Error(reply.message);
  err.name = reply.name;
  return err;
}
