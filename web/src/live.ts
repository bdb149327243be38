// Live updates: one EventSource on /api/v1/events for the whole app (the session cookie signs it
// in, so no token is ever put in its URL). It reconnects by itself; after a refusal (a session
// that ended) it tries again every few seconds.
import { useEffect, useState } from 'preact/hooks';
import type { JobRecord, RunningJob } from './api.js';

export type JobEvent =
  | { type: 'started' | 'progress'; job: RunningJob }
  | { type: 'finished'; job: RunningJob; record: JobRecord }
  | { type: 'skipped'; key: string; reason: string };
export type LiveEvent = { kind: 'job'; event: JobEvent } | { kind: 'status' } | { kind: 'connection'; open: boolean };

const listeners = new Set<(e: LiveEvent) => void>();
let source: EventSource | undefined;
let open = false;

function emit(e: LiveEvent): void {
  for (const l of listeners) l(e);
}

function connect(): void {
  source = new EventSource('/api/v1/events');
  source.addEventListener('open', () => {
    open = true;
    emit({ kind: 'connection', open });
  });
  source.addEventListener('error', () => {
    open = false;
    emit({ kind: 'connection', open });
    if (source?.readyState === EventSource.CLOSED) setTimeout(() => listeners.size && connect(), 5000);
  });
  source.addEventListener('job', (m) => emit({ kind: 'job', event: JSON.parse((m as MessageEvent<string>).data) as JobEvent }));
  source.addEventListener('status', () => emit({ kind: 'status' }));
}

export function useLive(listener: (e: LiveEvent) => void): void {
  useEffect(() => {
    listeners.add(listener);
    if (!source) connect();
    return () => void listeners.delete(listener);
  }, [listener]);
}

/** Whether live updates are flowing. */
export function useConnected(): boolean {
  const [connected, setConnected] = useState(open);
  useLive(useStable((e: LiveEvent) => e.kind === 'connection' && setConnected(e.open)));
  return connected;
}

/** Running jobs by key, from a first look and then the event stream; `onFinished` hears each end. */
export function useRunning(initial: RunningJob[] | undefined, onFinished?: (record: JobRecord) => void): Map<string, RunningJob> {
  const [running, setRunning] = useState(new Map<string, RunningJob>());
  useEffect(() => {
    if (initial) setRunning(new Map(initial.map((j) => [j.key, j])));
  }, [initial]);
  useLive(
    useStable((e: LiveEvent) => {
      if (e.kind !== 'job' || e.event.type === 'skipped') return;
      const { type, job } = e.event;
      setRunning((m) => {
        const next = new Map(m);
        if (type === 'finished') next.delete(job.key);
        else next.set(job.key, job);
        return next;
      });
      if (e.event.type === 'finished') onFinished?.(e.event.record);
    }),
  );
  return running;
}

/** A callback whose identity stays the same across renders but that always calls the latest `fn`. */
function useStable<A extends unknown[]>(fn: (...args: A) => unknown): (...args: A) => void {
  const [holder] = useState(() => ({ fn }));
  holder.fn = fn;
  const [stable] = useState(() => (...args: A) => void holder.fn(...args));
  return stable;
}
