// Running a tool under measurement: wall time from our own clock, peak RSS from GNU time
// (`/usr/bin/time -f %M`, the child's ru_maxrss in KiB: the largest resident set the process
// reached, threads included), stdout kept for --json parsing, stderr tail kept for errors.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface RunResult {
  seconds: number;
  /** peak resident set size in bytes */
  peakRss: number;
  stdout: string;
  /** what the tool reported about the run, when it reports anything useful (Lifeboat's --json summary) */
  detail?: unknown;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** passed on stdin (then closed) */
  input?: string;
}

export class ToolFailedError extends Error {
  readonly code = 'BENCH_TOOL_FAILED';
  constructor(readonly command: string, readonly exitCode: number | null, readonly stderrTail: string) {
    super(`${command} exited with ${exitCode}: ${stderrTail.trim().split('\n').slice(-6).join(' | ')}`);
  }
}

const TAIL = 8192;

/** Runs argv under GNU time; rejects with ToolFailedError on a non-zero exit. */
export async function measured(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-bench-time-'));
  const timeFile = path.join(dir, 'time');
  try {
    const t0 = process.hrtime.bigint();
    const { code, stdout, stderr } = await spawnCollect(GNU_TIME, ['-f', '%M', '-o', timeFile, ...argv], opts);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (code !== 0) throw new ToolFailedError(argv.join(' '), code, stderr);
    const kib = parseInt((await readFile(timeFile, 'utf8')).trim().split('\n').pop() ?? '', 10);
    if (!Number.isFinite(kib)) throw new Error(`GNU time wrote no peak RSS for ${argv.join(' ')}`);
    return { seconds, peakRss: kib * 1024, stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs argv without measuring; rejects on a non-zero exit; resolves to stdout. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<string> {
  const { code, stdout, stderr } = await spawnCollect(argv[0], argv.slice(1), opts);
  if (code !== 0) throw new ToolFailedError(argv.join(' '), code, stderr);
  return stdout;
}

function spawnCollect(cmd: string, args: string[], opts: RunOptions): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-TAIL);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a child that exits without reading its input is not our failure
      child.stdin.end(opts.input);
    }
  });
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
