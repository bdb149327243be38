/**
 * What runbook steps and preflight checks do to the outside world, behind two small interfaces
 * that are injected: an HTTP client (smoke tests, webhooks, the gateway's admin API: control does
 * not import the gateway) and a shell runner (deploy commands, `run:` steps). Tests inject their
 * own to simulate a hung command or a refusing server; the defaults below are Node's fetch and
 * /bin/sh.
 */
import { spawn } from 'node:child_process';
import { LifeboatError } from '../base/errors.js';

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface HttpClient {
  /** Resolves with any HTTP answer (a 500 too); rejects only when there is none (refused, reset, aborted). */
  request(req: HttpRequest): Promise<HttpResponse>;
}

export interface ShellRequest {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** Output as it comes (stdout and stderr together). */
  onOutput?: (text: string) => void;
}

export interface ShellResult {
  /** Exit status; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of its output. */
  output: string;
}

export interface ShellRunner {
  run(req: ShellRequest): Promise<ShellResult>;
}

/** Bodies above this are cut: a smoke test looks for a word, not a download. */
const MAX_BODY = 1024 * 1024;
/** What a command's output keeps: enough for an error message and a report. */
export const OUTPUT_TAIL = 4096;

export const fetchClient: HttpClient = {
  async request(req) {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, signal: req.signal, redirect: 'manual' }).catch((err: Error) => {
      if (req.signal?.aborted) throw err;
      // fetch says only "fetch failed"; the reason (refused, reset, no route, TLS) is its cause.
      const cause = err.cause as NodeJS.ErrnoException | undefined;
      const why = cause?.code && !cause.message?.includes(cause.code) ? `${cause.code}${cause.message ? ` (${cause.message})` : ''}` : (cause?.message ?? err.message);
      throw new LifeboatError('REQUEST_FAILED', `${req.method} ${shownUrl(req.url)} got no answer: ${why}`, { cause: err });
    });
    const text = req.method === 'HEAD' ? '' : await res.text();
    return { status: res.status, headers: Object.fromEntries(res.headers), body: text.length > MAX_BODY ? text.slice(0, MAX_BODY) : text };
  },
};

/** Grace a command gets between SIGTERM and SIGKILL when its step times out or is interrupted. */
const KILL_GRACE_MS = 5000;

export const shellRunner: ShellRunner = {
  run(req) {
    return new Promise((resolve, reject) => {
      // Its own process group, so a timeout stops what the command started too (a script's children).
      const child = spawn('/bin/sh', ['-c', req.command], { cwd: req.cwd, env: req.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const take = (b: Buffer) => {
        const text = b.toString('utf8');
        output = tail(output + text, OUTPUT_TAIL);
        req.onOutput?.(text);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      let killer: NodeJS.Timeout | undefined;
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          // gone already
        }
      };
      const onAbort = () => {
        kill('SIGTERM');
        killer = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
        killer.unref();
      };
      if (req.signal.aborted) onAbort();
      else req.signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', (err) => {
        req.signal.removeEventListener('abort', onAbort);
        reject(err);
      });
      child.on('close', (code, signal) => {
        req.signal.removeEventListener('abort', onAbort);
        if (killer) clearTimeout(killer);
        resolve({ code, signal, output });
      });
    });
  },
};

/** The last `max` characters of `text`, from a line start where there is one. */
export function tail(text: string, max = OUTPUT_TAIL): string {
  if (text.length <= max) return text;
  const cut = text.slice(text.length - max);
  const nl = cut.indexOf('\n');
  return nl >= 0 && nl < cut.length - 1 ? cut.slice(nl + 1) : cut;
}

/** A URL as messages and reports show it: no user, password or query string (tokens live there). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return url;
  }
}

/** A webhook URL's path is its secret (Slack, Teams, Mattermost): only its origin is shown. */
export function shownWebhook(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname.length > 1 || u.search ? `${u.origin}/…` : u.origin;
  } catch {
    return '(webhook)';
  }
}
