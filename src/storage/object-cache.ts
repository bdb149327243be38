/**
 * A local copy of a remote repository's small objects that never change: key files, snapshots and
 * index files, each named by the SHA-256 of its bytes. A command against S3 then reads them from
 * disk instead of the network, and can start deriving the key from a cached key file before the
 * S3 client is even loaded (cli/repo-options.ts).
 *
 * Content naming makes the cache safe without any bookkeeping: a cached file is served only if its
 * bytes hash to its name, so it is byte for byte the object the repository holds (or held). Which
 * objects exist is never taken from the cache: listings always go to the storage, and a listing of
 * a cached prefix removes the cached files of objects that are gone (forgotten snapshots, index
 * files replaced by a prune, a key removed). Writing the cache is best effort: a full or read-only
 * disk costs the speed-up, never the command.
 *
 * On disk (docs/format.md, section 13): ROOT/<identity hash>/<object key>, e.g.
 * ~/.cache/lifeboat/3f2a…/index/<id>; the directory's mtime is refreshed on every use, and
 * directories unused for CACHE_MAX_AGE_DAYS are removed.
 */
import { systemClock } from '../base/clock.js';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ObjectInfo, Storage } from './storage.js';

/** The prefixes whose objects are named by the SHA-256 of their bytes and never rewritten. */
export const CACHED_PREFIXES = ['keys/', 'snapshots/', 'index/'];
/** A repository's cache directory not used for this long is removed when another is opened. */
export const CACHE_MAX_AGE_DAYS = 30;

/** Where caches live: LIFEBOAT_CACHE_DIR, else $XDG_CACHE_HOME/lifeboat, else ~/.cache/lifeboat. */
export function cacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.LIFEBOAT_CACHE_DIR) return path.resolve(env.LIFEBOAT_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache'), 'lifeboat');
}

/** The cache directory of the repository `identity` names (its URL and, on S3, its endpoint). */
export function cacheDirFor(root: string, identity: string): string {
  return path.join(root, createHash('sha256').update(identity).digest('hex').slice(0, 32));
}

function isCached(key: string): boolean {
  return CACHED_PREFIXES.some((prefix) => key.startsWith(prefix)) && /^[0-9a-f]{64}$/.test(path.posix.basename(key));
}

/** The cached object, if present and intact (its bytes hash to its name); a damaged copy is removed. */
export async function readCached(dir: string, key: string): Promise<Buffer | undefined> {
  const file = path.join(dir, key);
  const bytes = await fs.readFile(file).catch(() => undefined);
  if (!bytes) return undefined;
  if (createHash('sha256').update(bytes).digest('hex') === path.posix.basename(key)) return bytes;
  await fs.rm(file, { force: true }).catch(() => {});
  return undefined;
}

/** Keys of the objects cached under `prefix` (e.g. `keys/`), the most recently used first. */
export async function cachedKeys(dir: string, prefix: string): Promise<string[]> {
  const names = await fs.readdir(path.join(dir, prefix)).catch(() => [] as string[]);
  const found = await Promise.all(
    names
      .filter((name) => isCached(prefix + name))
      .map(async (name) => ({ key: prefix + name, used: (await fs.stat(path.join(dir, prefix, name)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  return found.sort((a, b) => b.used - a.used).map((f) => f.key);
}

/** Marks a cached object as used now (cachedKeys lists it first). */
export async function touchCached(dir: string, key: string): Promise<void> {
  const now = new Date(systemClock.now());
  await fs.utimes(path.join(dir, key), now, now).catch(() => {});
}

/** A copy being written: `<id>.tmp-<12 hex>`, renamed to `<id>` when complete. */
const TMP_NAME = /^[0-9a-f]{64}\.tmp-[0-9a-f]{12}$/;
/** Older than this, a temporary file is taken for one whose writer died. */
const STALE_TMP_MS = 10 * 60_000;

async function store(dir: string, key: string, data: Uint8Array): Promise<void> {
  const file = path.join(dir, key);
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    // Only for this user: a key file is what a password guesser needs.
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.writeFile(tmp, data, { mode: 0o600 });
    await fs.rename(tmp, file); // never a half-written file under an object's name
  } catch {
    await fs.rm(tmp, { force: true }).catch(() => {});
  }
}

/**
 * `storage` with the objects of CACHED_PREFIXES read from and written through to `dir`. Also
 * refreshes the directory's time and removes other repositories' caches unused for
 * CACHE_MAX_AGE_DAYS (in the background: only a readdir and a stat per repository).
 */
export function withObjectCache(storage: Storage, dir: string): Storage {
  void fs.mkdir(dir, { recursive: true, mode: 0o700 }).then(() => {
    const now = new Date(systemClock.now());
    return fs.utimes(dir, now, now);
  }).then(() => removeUnusedCaches(path.dirname(dir))).catch(() => {});

  return {
    ...storage,
    async get(key, range, into, signal) {
      if (range || !isCached(key)) return storage.get(key, range, into, signal);
      const cached = await readCached(dir, key);
      if (cached) return cached;
      const data = await storage.get(key, undefined, undefined, signal);
      await store(dir, key, data);
      return data;
    },
    async put(key, data, options) {
      await storage.put(key, data, options);
      if (isCached(key)) await store(dir, key, data);
    },
    async delete(key, signal) {
      await storage.delete(key, signal);
      if (isCached(key)) await fs.rm(path.join(dir, key), { force: true }).catch(() => {});
    },
    list(prefix, signal) {
      return CACHED_PREFIXES.includes(prefix) ? listAndForget(storage, dir, prefix, signal) : storage.list(prefix, signal);
    },
  };
}

/**
 * Lists `prefix` and, once the listing is complete, removes the cached objects it did not name,
 * and temporary files that a command which died mid-write left there over STALE_TMP_MS ago.
 */
async function* listAndForget(storage: Storage, dir: string, prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
  const listed = new Set<string>();
  for await (const object of storage.list(prefix, signal)) {
    listed.add(object.key);
    yield object;
  }
  for (const name of await fs.readdir(path.join(dir, prefix)).catch(() => [] as string[])) {
    const file = path.join(dir, prefix, name);
    const gone = isCached(prefix + name) && !listed.has(prefix + name);
    const stale = TMP_NAME.test(name) && ((await fs.stat(file).catch(() => undefined))?.mtimeMs ?? Infinity) < systemClock.now() - STALE_TMP_MS;
    if (gone || stale) await fs.rm(file, { force: true }).catch(() => {});
  }
}

async function removeUnusedCaches(root: string): Promise<void> {
  const cutoff = systemClock.now() - CACHE_MAX_AGE_DAYS * 86_400_000;
  for (const entry of await fs.readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !/^[0-9a-f]{32}$/.test(entry.name)) continue;
    const dir = path.join(root, entry.name);
    const stat = await fs.stat(dir).catch(() => undefined);
    if (stat && stat.mtimeMs < cutoff) await fs.rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
