/** A real `lifeboat serve` for tests: spawned through the CLI, its URL read from its log, stopped by signal. */
import type { ChildProcess } from 'node:child_process';
import { finished, spawnCli, type CliOptions, type CliResult } from './cli.js';

export interface RunningServe {
  url: string;
  child: ChildProcess;
  /** Everything it logged so far. */
  log(): string;
  /** Sends `signal` and resolves with how it ended. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
  ended: Promise<CliResult>;
}

export async function startServe(args: string[], options: CliOptions = {}): Promise<RunningServe> {
  const child = spawnCli(['serve', '--listen', '127.0.0.1:0', ...args], options);
  let log = '';
  child.stderr?.on('data', (b: Buffer) => (log += b.toString('utf8')));
  const ended = finished(child, 600_000);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lifeboat serve did not start within 30 s:\n${log}`)), 30_000);
    const look = () => {
      const m = /listening on (http:\/\/[^\s,;]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stderr?.on('data', look);
    ended.then((r) => reject(new Error(`lifeboat serve exited (${r.code ?? r.signal}) before it listened:\n${log}`)), reject);
  });
  return {
    url,
    child,
    log: () => log,
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      return ended;
    },
    ended,
  };
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export async function api<T = unknown>(base: string, path: string, init: { method?: string; token?: string } = {}): Promise<ApiAnswer<T>> {
  const res = await fetch(base + path, { method: init.method ?? 'GET', headers: init.token ? { authorization: `Bearer ${init.token}` } : {} });
  const text = await res.text();
  let body: T;
  try {
    body = JSON.parse(text) as T;
  } catch {
    body = text as T;
  }
  return { status: res.status, body, text, headers: res.headers };
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs` with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
