/**
 * The options every repository command shares, and opening the repository they name.
 * Repository: -r/--repo or LIFEBOAT_REPOSITORY. Password, first found: --password-file,
 * LIFEBOAT_PASSWORD_FILE, LIFEBOAT_PASSWORD, else a prompt when stdin is a terminal.
 */
import fs from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { objectKey, openRepository, unwrapEarly, type EarlyKey, type Repository } from '../repo/repository.js';
import { cacheDirFor, cacheRoot, cachedKeys, readCached, touchCached, withObjectCache } from '../storage/object-cache.js';
import { openStorage, remoteIdentity, type OpenStorageOptions } from '../storage/open.js';
import { prefetching } from '../storage/prefetch.js';
import type { Storage } from '../storage/storage.js';
import { CliError, ExitCode } from './errors.js';
import { makeOutput, type Output } from './output.js';

export interface RepoFlags {
  repo?: string;
  passwordFile?: string;
  json?: boolean;
  quiet?: boolean;
  s3Endpoint?: string;
  s3Region?: string;
  s3PathStyle?: boolean;
  s3Profile?: string;
  s3MaxInFlight?: number;
  s3LockMode?: 'GOVERNANCE' | 'COMPLIANCE';
  /** false with --no-cache */
  cache?: boolean;
}

export function withRepoOptions(cmd: Command): Command {
  return cmd
    .option('-r, --repo <url>', 'repository: a directory or s3://BUCKET/PREFIX (env LIFEBOAT_REPOSITORY)')
    .option('--password-file <file>', 'read the password from this file (env LIFEBOAT_PASSWORD_FILE, or LIFEBOAT_PASSWORD)')
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('-q, --quiet', 'no progress or notes on stderr')
    .option('--s3-endpoint <url>', 'S3 endpoint, e.g. http://ceph-rgw:7480 (env AWS_ENDPOINT_URL)')
    .option('--s3-region <region>', 'S3 region (env AWS_REGION; default us-east-1)')
    .option('--s3-path-style', 'bucket in the URL path (default when an endpoint is given: Ceph, MinIO)')
    .option('--s3-profile <name>', 'AWS profile for credentials (env AWS_PROFILE)')
    .option('--s3-max-in-flight <n>', 'S3 requests in flight at once (default 8)', Number)
    .option('--s3-lock-mode <mode>', 'Object Lock mode for retained objects: GOVERNANCE or COMPLIANCE')
    .option('--no-cache', 'S3: do not use the local cache of keys, snapshots and index (in LIFEBOAT_CACHE_DIR, default ~/.cache/lifeboat)');
}

/** Storage settings from the --s3-* flags; the AWS environment fills in what they leave out. */
export function storageOptions(flags: RepoFlags): OpenStorageOptions {
  if (flags.s3LockMode && flags.s3LockMode !== 'GOVERNANCE' && flags.s3LockMode !== 'COMPLIANCE') {
    throw new CliError(`--s3-lock-mode takes GOVERNANCE or COMPLIANCE, got "${flags.s3LockMode}"`, ExitCode.usage);
  }
  return {
    s3: {
      endpoint: flags.s3Endpoint,
      region: flags.s3Region,
      forcePathStyle: flags.s3PathStyle,
      profile: flags.s3Profile,
      maxInFlight: flags.s3MaxInFlight,
      lockMode: flags.s3LockMode,
    },
  };
}

/**
 * The repository's storage; for a remote one, with its keys, snapshots and index kept in the local
 * cache `cacheDir` (storage/object-cache.ts).
 */
export function openRepoStorage(flags: RepoFlags): Promise<Storage> {
  return openCachedStorage(flags, repoCacheDir(flags));
}

async function openCachedStorage(flags: RepoFlags, cacheDir: string | undefined): Promise<Storage> {
  const storage = await openStorage(repoUrl(flags), storageOptions(flags));
  return cacheDir ? withObjectCache(storage, cacheDir) : storage;
}

/** The local cache directory of the repository the flags name; undefined for a local one, or with --no-cache. */
export function repoCacheDir(flags: RepoFlags): string | undefined {
  if (flags.cache === false) return undefined;
  const identity = remoteIdentity(repoUrl(flags), storageOptions(flags));
  return identity === undefined ? undefined : cacheDirFor(cacheRoot(process.env), identity);
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

export interface OpenRepoOptions {
  /** Key prefixes of immutable objects the command reads first, read ahead while the key is derived (storage/prefetch.ts). */
  prefetch?: string[];
  /** false: read everything from the repository itself, never from the local cache (check, repair). */
  cache?: boolean;
}

/** What restore, backup, ls and diff read first: every snapshot and index object. */
export const SNAPSHOTS_AND_INDEX = ['snapshots/', 'index/'];

export async function openRepo(flags: RepoFlags, options: OpenRepoOptions = {}): Promise<RepoContext> {
  const cacheDir = options.cache === false ? undefined : repoCacheDir(flags);
  const password = await readPassword(flags);
  // With the key file cached, its derivation starts now and overlaps loading the S3 client.
  const early = cacheDir ? await earlyKey(cacheDir, password) : undefined;
  const opened = await openCachedStorage(flags, cacheDir);
  const storage = options.prefetch ? prefetching(opened, options.prefetch) : opened;
  const repo = await openRepository(storage, password, { early });
  if (cacheDir) await touchCached(cacheDir, objectKey('key', repo.keyId)); // tried first next time
  return { repo, out: makeOutput(!!flags.json, !!flags.quiet), close: () => storage.close() };
}

/** Starts unwrapping the cached key file that opened the repository last. */
async function earlyKey(cacheDir: string, password: string): Promise<EarlyKey | undefined> {
  const [newest] = await cachedKeys(cacheDir, objectKey('key', ''));
  const bytes = newest ? await readCached(cacheDir, newest) : undefined;
  return bytes ? unwrapEarly(bytes, newest.slice(objectKey('key', '').length), password) : undefined;
}

/** Runs a command body with an open repository and always closes the storage. */
export async function withRepo<T>(flags: RepoFlags, body: (ctx: RepoContext) => Promise<T>, options: OpenRepoOptions = {}): Promise<T> {
  const ctx = await openRepo(flags, options);
  try {
    return await body(ctx);
  } finally {
    await ctx.close();
  }
}
