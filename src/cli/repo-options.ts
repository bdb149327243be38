/**
 * The options every repository command shares, and opening the repository they name.
 * Repository: -r/--repo or LIFEBOAT_REPOSITORY. Password, first found: --password-file,
 * LIFEBOAT_PASSWORD_FILE, LIFEBOAT_PASSWORD, else a prompt when stdin is a terminal.
 */
import fs from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { openRepository, type Repository } from '../repo/repository.js';
import { openStorage } from '../storage/open.js';
import { CliError, ExitCode } from './errors.js';
import { makeOutput, type Output } from './output.js';

export interface RepoFlags {
  repo?: string;
  passwordFile?: string;
  json?: boolean;
  quiet?: boolean;
}

export function withRepoOptions(cmd: Command): Command {
  return cmd
    .option('-r, --repo <url>', 'repository: a directory or s3://BUCKET/PREFIX (env LIFEBOAT_REPOSITORY)')
    .option('--password-file <file>', 'read the password from this file (env LIFEBOAT_PASSWORD_FILE, or LIFEBOAT_PASSWORD)')
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('-q, --quiet', 'no progress or notes on stderr');
}

export function repoUrl(flags: RepoFlags): string {
  const url = flags.repo ?? process.env.LIFEBOAT_REPOSITORY;
  if (!url) throw new CliError('no repository given: use -r/--repo or set LIFEBOAT_REPOSITORY', ExitCode.usage);
  return url;
}

export async function readPassword(flags: RepoFlags, purpose = 'repository password', fileFlag = flags.passwordFile, envPrefix = 'LIFEBOAT'): Promise<string> {
  const file = fileFlag ?? process.env[`${envPrefix}_PASSWORD_FILE`];
  if (file) {
    const text = await fs.readFile(file, 'utf8').catch((err: Error) => {
      throw new CliError(`cannot read the password file ${file}: ${err.message}`);
    });
    return text.replace(/\r?\n$/, '');
  }
  const env = process.env[`${envPrefix}_PASSWORD`];
  if (env !== undefined) return env;
  if (process.stdin.isTTY) return prompt(`${purpose}: `);
  throw new CliError(`no password given: set ${envPrefix}_PASSWORD or ${envPrefix}_PASSWORD_FILE, or use --password-file`, ExitCode.usage);
}

/** Reads a line from the terminal without echoing it. */
async function prompt(question: string): Promise<string> {
  process.stderr.write(question);
  const silent = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

export interface RepoContext {
  repo: Repository;
  out: Output;
  close(): Promise<void>;
}

export async function openRepo(flags: RepoFlags): Promise<RepoContext> {
  const storage = await openStorage(repoUrl(flags));
  const password = await readPassword(flags);
  const repo = await openRepository(storage, password);
  return { repo, out: makeOutput(!!flags.json, !!flags.quiet), close: () => storage.close() };
}

/** Runs a command body with an open repository and always closes the storage. */
export async function withRepo<T>(flags: RepoFlags, body: (ctx: RepoContext) => Promise<T>): Promise<T> {
  const ctx = await openRepo(flags);
  try {
    return await body(ctx);
  } finally {
    await ctx.close();
  }
}
