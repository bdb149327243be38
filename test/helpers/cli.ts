/** Running the real CLI (bin/lifeboat.js, on the compiled dist/) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testBackendEnv } from './test-backend.js';
import { TEST_PASSWORD } from './test-repo.js';

export const BIN = fileURLToPath(new URL('../../../bin/lifeboat.js', import.meta.url));
const TEST_CACHE_DIR = path.join(os.tmpdir(), 'lifeboat-test-cache');

export interface CliOptions {
  /** Extra environment; LIFEBOAT_PASSWORD defaults to the test password, and the S3 test backend's AWS_* are set (set to undefined to remove). */
  env?: Record<string, string | undefined>;
  uid?: number;
  gid?: number;
  cwd?: string;
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], options: CliOptions = {}): ChildProcess {
  const env: Record<string, string> = {};
  // The cache of S3 repositories goes to the temporary directory, not the home of whoever runs the tests.
  const merged = { ...process.env, ...testBackendEnv(), LIFEBOAT_PASSWORD: TEST_PASSWORD, LIFEBOAT_CACHE_DIR: TEST_CACHE_DIR, ...options.env };
  for (const [k, v] of Object.entries(merged)) if (v !== undefined && !k.startsWith('LIFEBOAT_DEBUG')) env[k] = v;
  return spawn(process.execPath, [BIN, ...args], { env, uid: options.uid, gid: options.gid, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Collects output and the exit status of a spawned CLI. */
export function finished(child: ChildProcess, timeoutMs = 120_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lifeboat did not finish within ${timeoutMs} ms; stderr so far: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // A crash (no test sends these) is reported where it happens, whatever the test asserts next.
      if (signal && CRASHES.has(signal)) process.stderr.write(`# lifeboat ${child.spawnargs.slice(2).join(' ')} died of ${signal}; its stderr:\n${stderr}\n`);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const CRASHES = new Set<NodeJS.Signals>(['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE']);

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return finished(spawnCli(args, options), options.timeoutMs);
}

/** Runs the CLI with --json and parses stdout; fails with the CLI's stderr when it is not JSON. */
export async function runCliJson<T = unknown>(args: string[], options: CliOptions = {}): Promise<{ result: CliResult; json: T }> {
  const result = await runCli([...args, '--json'], options);
  try {
    return { result, json: JSON.parse(result.stdout) as T };
  } catch {
    throw new Error(`lifeboat ${args.join(' ')} --json printed no JSON (exit ${result.code}): stdout ${JSON.stringify(result.stdout)} stderr ${JSON.stringify(result.stderr)}`);
  }
}
