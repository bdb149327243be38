/** Exit codes (documented in README) and the one place that maps errors to them. */
import { ConfigError } from '../control/config-error.js';
import { GatewayError } from '../gateway/errors.js';
import { RepoError } from '../repo/errors.js';
import { StorageError } from '../storage/errors.js';

export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  /** The backup finished and wrote a snapshot, but some files could not be read completely. */
  incomplete: 3,
} as const;

/** An error meant for the user, with the exit code it should end the process with. */
export class CliError extends Error {
  readonly code = 'CLI';
  constructor(message: string, readonly exitCode: number = ExitCode.error) {
    super(message);
    this.name = 'CliError';
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  return ExitCode.error;
}

/** A message for people: ours as they are, unexpected ones with their type so a bug report says something. */
export function messageOf(err: unknown): string {
  if (err instanceof CliError || err instanceof RepoError || err instanceof StorageError || err instanceof GatewayError || err instanceof ConfigError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT' && e.path) return `no such file or directory: ${e.path}`;
  if (e?.code === 'EACCES' && e.path) return `permission denied: ${e.path}`;
  if (e?.code === 'ENOSPC') return `no space left on device${e.path ? ` writing ${e.path}` : ''}: free some space and run the command again`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(err);
}
