/**
 * The walk of an S3 prefix: one streamed listing (S3 returns keys in order, so the keys under a
 * "directory" come together), turned into the same depth-first walk as a file tree with a stack
 * of open directories. Objects are sniffed with ranged GETs of their first and last bytes.
 */
import { LifeboatError, throwIfAborted } from '../../base/errors.js';
import { openStorage } from '../../storage/open.js';
import type { S3Options } from '../../storage/s3-options.js';
import type { Storage } from '../../storage/storage.js';
import { newDirState, type DirOutcome, type DirState } from './candidate.js';
import { remoteOf } from './git-remote.js';
import { joinPath } from './group.js';
import { expectationOf, HEAD_BYTES, needsTail, TAIL_BYTES } from './sniff.js';
import { classifySqlite, SQLITE_SCHEMA_BYTES, tablesInHead } from './sqlite-kind.js';
import { closeDir, reasonOf, sniff, WalkTally, type WalkCommon, type WalkResult } from './walk-result.js';

export interface S3WalkOptions extends WalkCommon {
  s3?: S3Options;
}

interface Open {
  state: DirState;
  segments: string[];
  children: DirOutcome[];
}

/** Walks every object under `url` (s3://BUCKET/PREFIX). */
export async function walkS3(url: string, options: S3WalkOptions = {}): Promise<WalkResult> {
  const storage = await openStorage(url, { s3: options.s3 });
  try {
    return await walkStorage(storage, url.replace(/\/+$/, ''), options);
  } finally {
    await storage.close();
  }
}

/** Walks the objects of `storage`, naming them under `root`. */
export async function walkStorage(storage: Storage, root: string, options: WalkCommon = {}): Promise<WalkResult> {
  const tally = new WalkTally(options);
  const stack: Open[] = [{ state: newDirState(root, root.split('/').pop() ?? root), segments: [], children: [] }];
  const close = () => {
    const done = stack.pop()!;
    const outcome = closeDir(done.state, done.children);
    if (stack.length > 0) stack[stack.length - 1].children.push(outcome);
    else tally.root(outcome);
  };
  let previous = '';
  for await (const object of storage.list('')) {
    throwIfAborted(options.signal);
    if (object.key < previous) throw new LifeboatError('STORAGE', `${storage.location} listed ${object.key} after ${previous}: discovery needs keys in order, as S3 lists them`);
    previous = object.key;
    if (object.key.endsWith('/')) continue; // a console's "folder" placeholder
    const segments = object.key.split('/');
    const name = segments.pop()!;
    // A repository's .git objects belong to the folder that holds it, as on a file system.
    const git = segments.indexOf('.git');
    const dir = git >= 0 ? segments.slice(0, git) : segments;
    while (!isPrefix(stack[stack.length - 1].segments, dir)) close();
    for (let depth = stack[stack.length - 1].segments.length; depth < dir.length; depth++) {
      const parent = stack[stack.length - 1].state;
      const seg = dir[depth];
      stack.push({ state: newDirState(joinPath(parent.path, seg), seg, parent.dvcTargets.has(seg)), segments: dir.slice(0, depth + 1), children: [] });
    }
    const state = stack[stack.length - 1].state;
    if (git >= 0) await gitObject(storage, tally, state, object.key, git === segments.length - 1 && name === 'config', object.size);
    else await objectFile(storage, tally, state, object.key, name, object.size);
  }
  while (stack.length > 0) close();
  return tally.result();
}

/** An object under `.git/`: counted with its repository; `config` names the remote (not contacted from here). */
async function gitObject(storage: Storage, tally: WalkTally, dir: DirState, key: string, isConfig: boolean, size: number): Promise<void> {
  const git = (dir.git ??= { bytes: 0, files: 0 });
  git.bytes += size;
  git.files++;
  tally.files++;
  tally.bytes += size;
  if (!isConfig || size === 0) return;
  const url = remoteOf((await storage.get(key, { offset: 0, length: Math.min(size, 64 * 1024) })).toString('utf8'));
  if (url) git.remote = { url, reachable: undefined };
}

function isPrefix(prefix: string[], of: string[]): boolean {
  return prefix.length <= of.length && prefix.every((s, i) => s === of[i]);
}

async function objectFile(storage: Storage, tally: WalkTally, dir: DirState, key: string, name: string, size: number): Promise<void> {
  const expected = expectationOf(name, size);
  if (expected === undefined || size === 0) return tally.file(dir, name, size, undefined);
  try {
    const isDatabase = expected === 'sqlite';
    const head = await storage.get(key, { offset: 0, length: Math.min(isDatabase ? SQLITE_SCHEMA_BYTES : HEAD_BYTES, size) });
    const tail = needsTail(expected) && size >= TAIL_BYTES ? await storage.get(key, { offset: size - TAIL_BYTES, length: TAIL_BYTES }) : undefined;
    const sniffed = sniff(name, size, head.subarray(0, HEAD_BYTES), tail);
    const database = sniffed && 'format' in sniffed && sniffed.format === 'sqlite' ? classifySqlite(tablesInHead(head)) : undefined;
    tally.file(dir, name, size, sniffed, database);
  } catch (err) {
    if ((err as LifeboatError).code === 'NOT_FOUND') return tally.skip(joinPath(dir.path, name), 'vanished during the walk');
    if ((err as LifeboatError).code === 'ACCESS_DENIED') return tally.skip(joinPath(dir.path, name), 'access denied');
    if (err instanceof LifeboatError) throw err;
    tally.skip(joinPath(dir.path, name), reasonOf(err));
  }
}
