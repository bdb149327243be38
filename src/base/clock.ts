/**
 * The one clock. Everything that asks what time it is, or waits, asks a Clock it was given, so a
 * scheduler test runs days in a second and a retention test pins "now". This module is the only
 * place that reads the system clock or the host name (test/architecture checks it).
 */
import os from 'node:os';
import { abortReason } from './errors.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it fires first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** `clock.now()` as an ISO 8601 UTC string, the form every stored time has. */
export function isoNow(clock: Clock = systemClock): string {
  return new Date(clock.now()).toISOString();
}

/** This machine's name, as locks, keys and snapshots record it. */
export function hostName(): string {
  return os.hostname();
}

/**
 * A clock that moves only when told: `advance(ms)` runs every sleep that falls due, in time
 * order, letting each woken task run before the next one wakes. For tests of anything that waits.
 */
export interface ManualClock extends Clock {
  advance(ms: number): Promise<void>;
  /** Advances to the next pending wake-up; resolves false when nothing sleeps. */
  next(): Promise<boolean>;
  /** How many sleeps are waiting. */
  readonly sleepers: number;
}

export function manualClock(start: number | string | Date = 0): ManualClock {
  let now = typeof start === 'number' ? start : new Date(start).getTime();
  let seq = 0;
  const waiting: Array<{ at: number; seq: number; wake(): void }> = [];
  // Woken tasks run through their promise chains and reach their next sleep before time moves on.
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const wakeDue = async (until: number) => {
    await settle(); // what was started before the call reaches its sleep at the time it was started
    for (;;) {
      waiting.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const first = waiting[0];
      if (!first || first.at > until) break;
      waiting.shift();
      now = Math.max(now, first.at);
      first.wake();
      await settle();
    }
    now = Math.max(now, until);
    await settle();
  };
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(abortReason(signal));
        const onAbort = () => {
          const i = waiting.indexOf(entry);
          if (i >= 0) waiting.splice(i, 1);
          reject(abortReason(signal!));
        };
        // A woken sleep lets go of the signal: a loop that sleeps on one signal must not pile up listeners.
        const entry = { at: now + Math.max(0, ms), seq: seq++, wake: () => (signal?.removeEventListener('abort', onAbort), resolve()) };
        waiting.push(entry);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    advance: (ms) => wakeDue(now + ms),
    async next() {
      waiting.sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (waiting.length === 0) return false;
      await wakeDue(waiting[0].at);
      return true;
    },
    get sleepers() {
      return waiting.length;
    },
  };
}

/** Milliseconds on a monotonic clock, for measuring how long I/O takes (never a time of day). */
export function monotonicMs(): number {
  return performance.now();
}
