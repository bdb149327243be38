/**
 * Preflight checks: the gaps drills reveal (expired credentials, full volumes, changed network
 * paths, a missing command), caught before they bite. Each check is `ok`, `warn` or `fail` with
 * a sentence that tells the operator what to do. `lifeboat doctor` runs them for the whole plan
 * (preflight-doctor.ts); every drill and recovery runs those of its own run first and stops,
 * touching nothing, when one fails (runbook-run.ts).
 */
import dns from 'node:dns/promises';
import fs from 'node:fs/promises';
import net from 'node:net';
import type { Clock } from '../base/clock.js';
import type { HttpClient } from './runbook-io.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** What kind of check: repository, password, clock, credentials, snapshot, space, endpoint, gateway, command, tool. */
  check: string;
  /** What it checked: a repository name, a path, a URL, a command. */
  subject: string;
  status: CheckStatus;
  message: string;
}

/** The world the checks look at, injectable for tests. */
export interface PreflightTools {
  clock: Clock;
  http: HttpClient;
  env: NodeJS.ProcessEnv;
  /** Free bytes for an unprivileged writer on the filesystem holding `path` (which exists). */
  freeBytes(path: string): Promise<number>;
  /** Resolves when `host` has an address. */
  lookup(host: string): Promise<void>;
}

export function defaultPreflightTools(clock: Clock, http: HttpClient, env: NodeJS.ProcessEnv = process.env): PreflightTools {
  return {
    clock,
    http,
    env,
    async freeBytes(p) {
      const s = await fs.statfs(p);
      return s.bavail * s.bsize;
    },
    async lookup(host) {
      if (net.isIP(host.replace(/^\[|\]$/g, ''))) return;
      await dns.lookup(host);
    },
  };
}

/** How long a check may take: a check that hangs is itself the finding. */
export const CHECK_TIMEOUT_MS = 20_000;

export function failed(results: readonly CheckResult[]): CheckResult[] {
  return results.filter((r) => r.status === 'fail');
}

/** The worst status of the results: what `doctor` exits on. */
export function worst(results: readonly CheckResult[]): CheckStatus {
  return results.some((r) => r.status === 'fail') ? 'fail' : results.some((r) => r.status === 'warn') ? 'warn' : 'ok';
}

/** `work` or, if it has not settled within `ms` on `clock`, an error saying what did not answer. */
export async function withinTime<T>(clock: Clock, ms: number, what: string, work: Promise<T>): Promise<T> {
  const stop = new AbortController();
  const timer = clock.sleep(ms, stop.signal).then(
    () => {
      throw new Error(`${what} did not answer within ${Math.round(ms / 1000)} s`);
    },
    () => undefined as never,
  );
  try {
    return await Promise.race([work, timer]);
  } finally {
    stop.abort();
  }
}
