/**
 * Running the tools a source needs (pg_dump, mariadb-dump, git, a user's command), behind a small
 * interface so that tests can put a failing tool in its place as well as run the real one.
 *
 * A child gets this process's environment without the repository's passwords (LIFEBOAT_*PASSWORD*),
 * plus what the adapter adds (PGPASSFILE, ...); secrets never go on a command line.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { abortReason } from '../base/errors.js';
import { SourceError, redact, toolMissing, type SourceErrorCode } from './errors.js';

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** A writable stdin (restores feed a dump into it); default none. */
  stdin?: boolean;
  /** Killed (SIGTERM, then SIGKILL) when it fires. */
  signal?: AbortSignal;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not start: ENOENT means the tool is missing. */
  error?: NodeJS.ErrnoException;
}

export interface ChildRun {
  readonly tool: string;
  readonly stdout: Readable;
  readonly stdin?: Writable;
  /** Resolves when the process ended and its output closed; never rejects. */
  readonly exited: Promise<Exit>;
  /** The signal it was started with: once it fired, the process was killed on purpose. */
  readonly abort?: AbortSignal;
  /** The last few KiB it wrote to stderr. */
  stderr(): string;
  /** SIGTERM, then SIGKILL if it lingers; or exactly `signal`. */
  kill(signal?: NodeJS.Signals): void;
}

export interface ProcessRunner {
  spawn(tool: string, args: string[], options?: SpawnOptions): ChildRun;
}

const STDERR_KEEP = 16 * 1024;

export const systemRunner: ProcessRunner = {
  spawn(tool, args, options = {}) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...options.env })) {
      if (v !== undefined && !(k.startsWith('LIFEBOAT_') && k.includes('PASSWORD'))) env[k] = v;
    }
    const child = spawn(tool, args, { env, cwd: options.cwd, stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-STDERR_KEEP)));
    const kill = (signal?: NodeJS.Signals) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (signal) return void child.kill(signal);
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 3000).unref();
    };
    const onAbort = () => kill();

    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) kill();
    // A pipe closed early by the child (EPIPE) shows in its exit status; it must not crash us.
    child.stdin?.on('error', () => {});
    const exited = new Promise<Exit>((resolve) => {
      child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    }).finally(() => options.signal?.removeEventListener('abort', onAbort));
    return { tool, stdout: child.stdout!, stdin: child.stdin ?? undefined, exited, abort: options.signal, stderr: () => stderr, kill };
  },
};

/** Classifies a tool's failure by what it wrote: a source says which of its messages mean what. */
export type Classifier = (stderr: string) => SourceErrorCode | undefined;

/**
 * Throws unless the child exited 0: its tool missing, the code and its stderr otherwise (redacted).
 * `what` says what it was doing ("pg_dump of postgres://app@db/ls").
 */
export async function checkExit(child: ChildRun, what: string, secrets: ReadonlyArray<string | undefined> = [], classify?: Classifier): Promise<void> {
  const exit = await child.exited;
  if (child.abort?.aborted) throw abortReason(child.abort);
  if (exit.error?.code === 'ENOENT') throw toolMissing(child.tool);
  if (exit.error) throw new SourceError('SOURCE', redact(`${what}: ${child.tool} could not run: ${exit.error.message}`, secrets));
  if (exit.code === 0) return;
  const stderr = redact(child.stderr().trim(), secrets);
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  throw new SourceError(classify?.(stderr) ?? 'SOURCE', `${redact(what, secrets)}: ${child.tool} ${how}${stderr ? `: ${lastLines(stderr)}` : ''}`);
}

/** Runs a short command to completion and returns its stdout (a version, a query's answer). */
export async function runText(runner: ProcessRunner, tool: string, args: string[], what: string, options: SpawnOptions & { secrets?: ReadonlyArray<string | undefined>; classify?: Classifier } = {}): Promise<string> {
  const child = runner.spawn(tool, args, options);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  await checkExit(child, what, options.secrets, options.classify);
  return out;
}

/** The tool's error lines (its last lines when none says "error"): what went wrong, not the SQL it was running. */
function lastLines(text: string): string {
  const lines = text.split('\n');
  const errors = lines.filter((l) => /\b(error|fatal|ERROR|FATAL)\b/.test(l));
  return (errors.length > 0 ? errors.slice(0, 4) : lines.slice(-6)).join('\n');
}
