/**
 * The walk of file trees: depth first, one directory listing streamed at a time, each file
 * measured (lstat) and, when its name promises a format, sniffed by its first bytes. Symlinks are
 * not followed (a backup stores a link as a link): a link to a directory that is its own ancestor
 * is reported as a loop, one to a directory outside the walk as not followed. Unreadable and
 * vanished files and directories are reported in `skipped` and the walk goes on.
 */
import type { Dirent, Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { throwIfAborted } from '../../base/errors.js';
import type { DirOutcome, DirState, FileFacts } from './candidate.js';
import { newDirState } from './candidate.js';
import { localRemotePath, remoteOf } from './git-remote.js';
import { expectationOf, HEAD_BYTES, needsTail, TAIL_BYTES } from './sniff.js';
import { classifySqlite, SQLITE_SCHEMA_BYTES, tablesInHead } from './sqlite-kind.js';
import { closeDir, reasonOf, sniff, WalkTally, type WalkCommon, type WalkResult } from './walk-result.js';

/** The filesystem calls the walk makes; tests pass one that fails where they want. */
export interface WalkFs {
  opendir(dir: string): Promise<AsyncIterable<Dirent>>;
  lstat(file: string): Promise<Stats>;
  stat(file: string): Promise<Stats>;
  realpath(file: string): Promise<string>;
  /** Up to `length` bytes of `file` from `position`. */
  read(file: string, position: number, length: number): Promise<Buffer>;
  /** Table names of a SQLite database. */
  sqliteTables(file: string): Promise<string[]>;
}

export const nodeWalkFs: WalkFs = {
  opendir: (dir) => fsp.opendir(dir, { bufferSize: 256 }),
  lstat: (file) => fsp.lstat(file),
  stat: (file) => fsp.stat(file),
  realpath: (file) => fsp.realpath(file),
  async read(file, position, length) {
    const handle = await fsp.open(file, 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  },
  async sqliteTables(file) {
    // Loaded only when a database turns up: a native addon most walks never need.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
    } finally {
      db.close();
    }
  },
};

/** Files of one directory measured at once. */
const BATCH = 32;

export interface FsWalkOptions extends WalkCommon {
  fs?: WalkFs;
}

export async function walkFiles(roots: string[], options: FsWalkOptions = {}): Promise<WalkResult> {
  const fs = options.fs ?? nodeWalkFs;
  const tally = new WalkTally(options);
  // Real paths, so that a link's target compares with the paths the walk is in.
  const real: string[] = [];
  for (const r of roots) {
    const resolved = await fs.realpath(path.resolve(r)).catch((err: unknown) => void tally.skip(path.resolve(r), reasonOf(err)));
    if (resolved !== undefined) real.push(resolved);
  }
  const walk = new FsWalk(fs, [...new Set(real)], options, tally);
  for (const root of walk.roots) await walk.root(root);
  return tally.result();
}

class FsWalk {
  constructor(
    private readonly fs: WalkFs,
    readonly roots: string[],
    private readonly options: FsWalkOptions,
    readonly tally: WalkTally,
  ) {}

  async root(root: string): Promise<void> {
    // A root inside another root is walked there.
    if (this.roots.some((r) => r !== root && isInside(root, r))) return;
    let stats: Stats;
    try {
      stats = await this.fs.stat(root);
    } catch (err) {
      return this.tally.skip(root, reasonOf(err));
    }
    if (stats.isDirectory()) {
      const outcome = await this.dir(root);
      if (outcome) this.tally.root(outcome);
      return;
    }
    const dir = { ...newDirState(path.dirname(root), path.basename(path.dirname(root))), partial: true };
    await this.file(dir, path.basename(root), stats.size);
    this.tally.root(closeDir(dir, []));
  }

  private async dir(dir: string, dvcTracked = false): Promise<DirOutcome | undefined> {
    throwIfAborted(this.options.signal);
    const state = newDirState(dir, path.basename(dir), dvcTracked);
    const subdirs: string[] = [];
    // Files are measured and sniffed a batch at a time: one stat after another waits on the disk
    // (or the thread pool) for each, a batch keeps the pool busy. A batch is all that is held.
    const batch: Array<Promise<void>> = [];
    let unlisted = false;
    try {
      for await (const entry of await this.fs.opendir(dir)) {
        const full = path.join(dir, entry.name);
        const type = entry.isFile() || entry.isDirectory() || entry.isSymbolicLink() ? entry : await this.fs.lstat(full).catch(() => undefined);
        if (!type) continue;
        if (type.isDirectory()) subdirs.push(entry.name);
        else if (type.isSymbolicLink()) batch.push(this.link(full));
        else if (type.isFile()) batch.push(this.file(state, entry.name));
        if (batch.length >= BATCH) await Promise.all(batch.splice(0));
      }
    } catch (err) {
      this.tally.skip(dir, reasonOf(err));
      unlisted = true;
    }
    await Promise.all(batch);
    if (unlisted && state.files === 0 && subdirs.length === 0) return undefined;
    const children: DirOutcome[] = [];
    for (const name of subdirs) {
      const full = path.join(dir, name);
      if (name === '.git') await this.git(state, full);
      else {
        const child = await this.dir(full, state.dvcTargets.has(name));
        if (child) children.push(child);
      }
    }
    return closeDir(state, children);
  }

  private async file(dir: DirState, name: string, knownSize?: number): Promise<void> {
    const full = path.join(dir.path, name);
    try {
      const size = knownSize ?? (await this.fs.lstat(full)).size;
      const expected = expectationOf(name, size);
      if (expected === undefined || size === 0) return this.tally.file(dir, name, size, undefined);
      const head = await this.fs.read(full, 0, Math.min(HEAD_BYTES, size));
      const tail = needsTail(expected) && size >= TAIL_BYTES ? await this.fs.read(full, size - TAIL_BYTES, TAIL_BYTES) : undefined;
      const sniffed = sniff(name, size, head, tail);
      const database = sniffed && 'format' in sniffed && sniffed.format === 'sqlite' ? await this.database(full, size) : undefined;
      this.tally.file(dir, name, size, sniffed, database);
    } catch (err) {
      this.tally.skip(full, reasonOf(err));
    }
  }

  private async database(file: string, size: number): Promise<FileFacts['database']> {
    try {
      return classifySqlite(await this.fs.sqliteTables(file));
    } catch {
      // Locked, damaged or in a journal mode a read-only open refuses: the schema's text still tells.
      return classifySqlite(tablesInHead(await this.fs.read(file, 0, Math.min(SQLITE_SCHEMA_BYTES, size))));
    }
  }

  private async link(full: string): Promise<void> {
    let target: Stats;
    try {
      target = await this.fs.stat(full);
    } catch (err) {
      // A dangling link points at nothing to protect; a loop of links is worth saying.
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') this.tally.skip(full, 'symlink loop');
      return;
    }
    if (!target.isDirectory()) return;
    const real = await this.fs.realpath(full).catch(() => undefined);
    if (real === undefined) return;
    if (isInside(full, real)) this.tally.skip(full, `symlink loop: points to its own ancestor ${real}`);
    else if (!this.roots.some((r) => r === real || isInside(real, r))) this.tally.skip(full, `symlink to a directory outside the walk, not followed: ${real} (name it as a PATH to include it)`);
  }

  /** A `.git` directory: its bytes belong to the repository asset; its remote decides the tier. */
  private async git(state: DirState, gitDir: string): Promise<void> {
    const counted = { bytes: 0, files: 0 };
    await this.count(gitDir, counted);
    const config = await this.fs.read(path.join(gitDir, 'config'), 0, 64 * 1024).catch(() => undefined);
    const url = config ? remoteOf(config.toString('utf8')) : undefined;
    const local = url ? localRemotePath(url, state.path) : undefined;
    const reachable = local === undefined ? undefined : await this.fs.stat(local).then(() => true, () => false);
    state.git = { ...counted, remote: url ? { url, reachable } : undefined };
  }

  private async count(dir: string, into: { bytes: number; files: number }): Promise<void> {
    try {
      for await (const entry of await this.fs.opendir(dir)) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await this.count(full, into);
        else if (entry.isFile()) {
          const size = await this.fs.lstat(full).then((s) => s.size, () => 0);
          into.bytes += size;
          into.files++;
          this.tally.files++;
          this.tally.bytes += size;
        }
      }
    } catch (err) {
      this.tally.skip(dir, reasonOf(err));
    }
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
