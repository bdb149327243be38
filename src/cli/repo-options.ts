/**
 * The options every repository command shares, and opening the repository they name.
 * Repository: -r/--repo or LIFEBOAT_REPOSITORY, a URL, a directory or a name of lifeboat.yaml's
 * repositories: section; neither given: that section's primary. S3 settings: the --s3-* flags,
 * then lifeboat.yaml, then the AWS environment. Password, first found: --password-file,
 * LIFEBOAT_PASSWORD_FILE, LIFEBOAT_PASSWORD, lifeboat.yaml's password_file, else a prompt when
 * stdin is a terminal.
 */
import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { objectKey, openRepository, unwrapEarly, type EarlyKey, type Repository } from '../repo/repository.js';
import { cacheDirFor, cacheRoot, cachedKeys, readCached, touchCached, withObjectCache } from '../storage/object-cache.js';
import { openStorage, remoteIdentity } from '../storage/open.js';
import { prefetching } from '../storage/prefetch.js';
import type { S3Options } from '../storage/s3-options.js';
import type { Storage } from '../storage/storage.js';
import type { NamedRepository } from '../control/repositories.js';
import { AbortedError } from '../base/errors.js';
import { UsageError } from './errors.js';
import { makeOutput, type Output } from './output.js';

export interface RepoFlags {
  repo?: string;
  config?: string;
  passwordFile?: string;
  json?: boolean;
  quiet?: boolean;
  s3Endpoint?: string;
  s3Region?: string;
  s3PathStyle?: boolean;
  s3Profile?: string;
  s3MaxInFlight?: number;
  s3LockMode?: 'GOVERNANCE' | 'COMPLIANCE';
  s3CaBundle?: string;
  /** false with --no-cache */
  cache?: boolean;
}

export function withRepoOptions(cmd: Command): Command {
  return cmd
    .option('-r, --repo <url>', 'repository: a directory, s3://BUCKET/PREFIX or a name from lifeboat.yaml (env LIFEBOAT_REPOSITORY; default: its primary)')
    .option('-c, --config <file>', 'lifeboat.yaml naming the repositories (env LIFEBOAT_CONFIG; default ./lifeboat.yaml, else ~/.config/lifeboat/lifeboat.yaml)')
    .option('--password-file <file>', 'read the password from this file (env LIFEBOAT_PASSWORD_FILE, or LIFEBOAT_PASSWORD)')
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('-q, --quiet', 'no progress or notes on stderr')
    .option('--s3-endpoint <url>', 'S3 endpoint, e.g. http://ceph-rgw:7480 (env AWS_ENDPOINT_URL)')
    .option('--s3-region <region>', 'S3 region (env AWS_REGION; default us-east-1)')
    .option('--s3-path-style', 'bucket in the URL path (default when an endpoint is given: Ceph, MinIO)')
    .option('--s3-profile <name>', 'AWS profile for credentials (env AWS_PROFILE)')
    .option('--s3-max-in-flight <n>', 'S3 requests in flight at once (default 8)', Number)
    .option('--s3-lock-mode <mode>', 'Object Lock mode for retained objects: GOVERNANCE or COMPLIANCE')
    .option('--s3-ca-bundle <file>', 'https endpoints: also trust the CA certificates in this PEM file (env AWS_CA_BUNDLE)')
    .option('--no-cache', 'S3: do not use the local cache of keys, snapshots and index (in LIFEBOAT_CACHE_DIR, default ~/.cache/lifeboat)');
}

/** A repository as a command opens it, once names are looked up in lifeboat.yaml. */
export interface RepoTarget {
  url: string;
  /** Its S3 settings: flags over lifeboat.yaml; the AWS environment fills in what both leave out. */
  s3: S3Options;
  /** Its password file in lifeboat.yaml (used when no flag or environment variable gives a password). */
  passwordFile?: string;
}

/** The S3 settings the --s3-* flags give. */
function flagS3Options(flags: RepoFlags): S3Options {
  if (flags.s3LockMode && flags.s3LockMode !== 'GOVERNANCE' && flags.s3LockMode !== 'COMPLIANCE') {
    throw new UsageError(`--s3-lock-mode takes GOVERNANCE or COMPLIANCE, got "${flags.s3LockMode}"`);
  }
  return {
    endpoint: flags.s3Endpoint,
    region: flags.s3Region,
    forcePathStyle: flags.s3PathStyle,
    profile: flags.s3Profile,
    maxInFlight: flags.s3MaxInFlight,
    lockMode: flags.s3LockMode,
    caBundle: flags.s3CaBundle,
  };
}

/** The repository of -r/--repo or LIFEBOAT_REPOSITORY, or lifeboat.yaml's primary when neither is given. */
export function resolveRepo(flags: RepoFlags): Promise<RepoTarget> {
  return resolveTarget(flags, flags.repo ?? process.env.LIFEBOAT_REPOSITORY, flagS3Options(flags));
}

/**
 * A repository argument (-r, --to, --replicas; undefined: lifeboat.yaml's primary) as a target:
 * the repository lifeboat.yaml names, with `s3` (the command's flags) over the file's settings,
 * else the URL or directory itself.
 */
export async function resolveTarget(flags: RepoFlags, value: string | undefined, s3: S3Options): Promise<RepoTarget> {
  const named = await lookUp(flags, value);
  if (named) return { url: named.url, s3: { ...named.s3, ...definedOnly(s3) }, passwordFile: named.passwordFile };
  if (value === undefined) throw new UsageError('no repository given: use -r/--repo or set LIFEBOAT_REPOSITORY (or name a primary in lifeboat.yaml)');
  return { url: value, s3 };
}

/**
 * The repository of lifeboat.yaml that `value` names (undefined: its primary). The file is read
 * only when there is a name to look up: zod and yaml are megabytes of heap that a command given a
 * URL should not carry (startup-heap test).
 */
async function lookUp(flags: RepoFlags, value: string | undefined): Promise<NamedRepository | undefined> {
  if (value !== undefined && (value.includes('/') || value.includes(':'))) return undefined;
  const file = flags.config ?? process.env.LIFEBOAT_CONFIG ?? defaultConfigFile();
  if (file === undefined) return undefined;
  const { loadRepositories, defaultRepository, namedRepository } = await import('../control/repositories.js');
  const catalog = await loadRepositories(file);
  return value === undefined ? defaultRepository(catalog) : namedRepository(catalog, value, isDirectory);
}

/** ./lifeboat.yaml, else $XDG_CONFIG_HOME/lifeboat/lifeboat.yaml (~/.config/lifeboat/), if there. */
export function defaultConfigFile(): string | undefined {
  const home = process.env.XDG_CONFIG_HOME ? path.resolve(process.env.XDG_CONFIG_HOME) : path.join(os.homedir(), '.config');
  return ['lifeboat.yaml', path.join(home, 'lifeboat', 'lifeboat.yaml')].find((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
}

function isDirectory(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The target's storage; for a remote one, with its keys, snapshots and index kept in the local
 * cache (storage/object-cache.ts) unless `cache` is false.
 */
export async function openTargetStorage(target: RepoTarget, cache = true): Promise<Storage> {
  return openCachedStorage(target, cache ? cacheDirOf(target) : undefined);
}

async function openCachedStorage(target: RepoTarget, cacheDir: string | undefined): Promise<Storage> {
  const storage = await openStorage(target.url, { s3: target.s3 });
  return cacheDir ? withObjectCache(storage, cacheDir) : storage;
}

/** The local cache directory of a remote repository; undefined for a local one. */
function cacheDirOf(target: RepoTarget): string | undefined {
  const identity = remoteIdentity(target.url, { s3: target.s3 });
  return identity === undefined ? undefined : cacheDirFor(cacheRoot(process.env), identity);
}

/** Where a password comes from, first found: the flag's file, ENV_PASSWORD_FILE, ENV_PASSWORD, lifeboat.yaml's file, `fallback`, a prompt. */
export interface PasswordSource {
  /** The file a flag (--password-file, --to-password-file…) names. */
  file?: string;
  /** LIFEBOAT reads LIFEBOAT_PASSWORD_FILE and LIFEBOAT_PASSWORD; LIFEBOAT_TO the destination's, … */
  envPrefix?: string;
  /** The repository's password_file in lifeboat.yaml. */
  configured?: string;
  /** The password when none of the above gives one (a destination's: the source's), instead of a prompt. */
  fallback?: string;
  /** What the prompt asks for. */
  purpose?: string;
}

export async function readPassword({ file, envPrefix = 'LIFEBOAT', configured, fallback, purpose = 'repository password' }: PasswordSource): Promise<string> {
  const given = file ?? process.env[`${envPrefix}_PASSWORD_FILE`];
  if (given) return readPasswordFile(given);
  const env = process.env[`${envPrefix}_PASSWORD`];
  if (env !== undefined) return env;
  if (configured) return readPasswordFile(configured);
  if (fallback !== undefined) return fallback;
  if (process.stdin.isTTY) return prompt(`${purpose}: `);
  throw new UsageError(`no password given: set ${envPrefix}_PASSWORD or ${envPrefix}_PASSWORD_FILE, or use --password-file`);
}

async function readPasswordFile(file: string): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch((err: Error) => {
    throw new UsageError(`cannot read the password file ${file}: ${err.message}`, { cause: err });
  });
  return text.replace(/\r?\n$/, '');
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
  const target = await resolveRepo(flags);
  const cacheDir = options.cache === false || flags.cache === false ? undefined : cacheDirOf(target);
  const password = await readPassword({ file: flags.passwordFile, configured: target.passwordFile });
  // With the key file cached, its derivation starts now and overlaps loading the S3 client.
  const early = cacheDir ? await earlyKey(cacheDir, password) : undefined;
  const opened = await openCachedStorage(target, cacheDir);
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

let interruption: AbortController | undefined;

/**
 * The signal of the running command's operation. The first call arms it: from then on SIGINT or
 * SIGTERM fires it, the operation stops at its next safe point and the command exits 130 saying
 * what stays valid; a second signal exits at once. Commands whose operation does not take a signal
 * never arm it, so the signals end them as usual.
 */
export function interruptSignal(): AbortSignal {
  if (interruption) return interruption.signal;
  const controller = (interruption = new AbortController());
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`lifeboat: ${name} again: quitting at once (what was stored stays valid; the lock left behind is stale once this process is gone)\n`);
      process.exit(130);
    }
    process.stderr.write(`lifeboat: ${name}: stopping at the next safe point (${name} again quits at once)\n`);
    controller.abort(
      new AbortedError(
        `interrupted by ${name}, stopped at a safe point: what was stored before stays valid and the next run reuses it; ` +
          'nothing unfinished was committed (no snapshot of an unfinished backup, no partly restored file under its name). Run the command again to finish',
      ),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}
