/**
 * The savers of a backup, one per kind of node (restic's archiver has the same shape): a file
 * saver that skips what did not change and reads what did, a directory saver that saves its
 * children and then its tree, a symlink saver. They share one explicit Archive: what they write
 * to, what they count, and the one list of what could not be read completely.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { BigIntStats } from 'node:fs';
import { isAbort, throwIfAborted } from '../base/errors.js';
import type { CodecSet } from '../repo/codec/all.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot, SnapshotSummary } from '../repo/snapshot.js';
import type { DirNode, FileNode, Node, SymlinkNode, Tree } from '../repo/tree.js';
import type { Limit } from '../storage/limit.js';
import { readFileContent, type ContentContext } from './file-content.js';
import { settleAll } from './operation.js';
import type { Packer } from './packer.js';
import { saveTree, type TreeReader } from './trees.js';

/** What every saver of one backup shares. */
export interface Archive {
  repo: Repository;
  packer: Packer;
  codecs: CodecSet;
  /** The parent snapshot's trees. */
  trees: TreeReader;
  content: ContentContext;
  /** Bounds the files read at once. */
  files: Limit;
  /** Stops the savers: the operation's signal, or the backup's first failure (`fail`). */
  signal: AbortSignal;
  fail(err: unknown): void;
  counts: Pick<SnapshotSummary, 'files' | 'dirs' | 'totalBytes' | 'readBytes'>;
  /** Files done (saved, skipped as unchanged, or left out): for progress. */
  filesDone(): void;
  incomplete: Snapshot['incomplete'];
  warn(message: string): void;
  /** Paths left out by the backup's exclude patterns. */
  excluded(abs: string): boolean;
}

type NodeBase = Pick<FileNode, 'name' | 'mode' | 'mtimeNs' | 'uid' | 'gid'>;

/** How many times a file that changes while read is read again before it is stored as it was read. */
const CHANGED_RETRIES = 2;

/**
 * Whether a file must be read again: anything but a complete file node of the parent with the
 * same size, inode, mtime and ctime. Pure: what the parent's content still is, is asked apart.
 */
export function fileChanged(old: Node | undefined, st: BigIntStats): boolean {
  if (old?.type !== 'file' || old.incomplete) return true;
  return old.size !== Number(st.size) || old.inode !== Number(st.ino) || old.mtimeNs !== String(st.mtimeNs) || old.ctimeNs !== String(st.ctimeNs);
}

/** The one place a path is marked incomplete: listed in the snapshot, and a warning for people. */
function markIncomplete(a: Archive, abs: string, reason: string, consequence: string): void {
  a.incomplete.push({ path: abs, reason });
  a.warn(`${abs}: ${consequence}`);
}

/** The node of `abs` (named `name` in its tree) by its kind, compared with `old`, the parent's node of that name. */
export async function saveNode(a: Archive, abs: string, name: string, old: Node | undefined): Promise<Node | undefined> {
  throwIfAborted(a.signal);
  let st: BigIntStats;
  try {
    st = await fs.lstat(abs, { bigint: true });
  } catch (err) {
    markIncomplete(a, abs, (err as Error).message, `cannot stat (${(err as Error).message}); left out`);
    return undefined;
  }
  const base: NodeBase = { name, mode: Number(st.mode) & 0o7777, mtimeNs: String(st.mtimeNs), uid: Number(st.uid), gid: Number(st.gid) };
  if (st.isFile()) return saveFile(a, abs, base, st, old);
  if (st.isSymbolicLink()) return saveSymlink(abs, base);
  if (st.isDirectory()) return saveDirNode(a, abs, base, old);
  a.warn(`${abs}: skipped (not a regular file, directory or symlink)`);
  return undefined;
}

async function saveSymlink(abs: string, base: NodeBase): Promise<SymlinkNode> {
  return { type: 'symlink', ...base, target: await fs.readlink(abs) };
}

async function saveDirNode(a: Archive, abs: string, base: NodeBase, old: Node | undefined): Promise<DirNode | undefined> {
  a.counts.dirs++;
  const subtree = await saveDir(a, abs, old?.type === 'dir' ? old.subtree : undefined);
  return subtree === undefined ? undefined : { type: 'dir', ...base, subtree };
}

/** Saves a directory's children, then its tree; returns the tree's id, or undefined when it cannot be listed. */
export async function saveDir(a: Archive, abs: string, oldTreeId: string | undefined): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await fs.readdir(abs)).sort();
  } catch (err) {
    markIncomplete(a, abs, (err as Error).message, `cannot list (${(err as Error).message}); left out`);
    return undefined;
  }
  const old = await oldNodes(a.trees, oldTreeId);
  const kept = names.filter((n) => !a.excluded(path.join(abs, n)));
  const nodes = await settleAll(kept.map((n) => saveNode(a, path.join(abs, n), n, old.get(n))), (err) => a.fail(err));
  return saveTreeOf(a, nodes);
}

/** The root tree of several sources, each by its base name, against the parent's root tree. */
export async function saveSources(a: Archive, sources: readonly string[], parentTree: string | undefined): Promise<string> {
  const old = await oldNodes(a.trees, parentTree);
  const nodes = await settleAll(sources.map((abs) => saveNode(a, abs, path.basename(abs), old.get(path.basename(abs)))), (err) => a.fail(err));
  return saveTreeOf(a, nodes, true);
}

export function saveTreeOf(a: Archive, nodes: Array<Node | undefined>, sort = false): Promise<string> {
  const kept = nodes.filter((n): n is Node => n !== undefined);
  const tree: Tree = { nodes: sort ? kept.sort((x, y) => (x.name < y.name ? -1 : 1)) : kept };
  return saveTree(a.repo, a.packer, a.codecs, tree);
}

async function saveFile(a: Archive, abs: string, base: NodeBase, st: BigIntStats, old: Node | undefined): Promise<FileNode | undefined> {
  const size = Number(st.size);
  a.counts.files++;
  a.counts.totalBytes += size;
  if (!fileChanged(old, st) && contentKnown(a, old as FileNode)) {
    a.content.onBytes(size);
    a.filesDone();
    return { ...(old as FileNode), ...base };
  }
  return a.files.run(async () => {
    try {
      return await readFile(a, abs, base, old);
    } catch (err) {
      // Only a failing system call on the file makes it unreadable; a repository write or
      // pipeline failure must fail the backup, not leave files out of an "incomplete" snapshot.
      if (typeof (err as NodeJS.ErrnoException).syscall !== 'string') throw err;
      markIncomplete(a, abs, (err as Error).message, `cannot read (${(err as Error).message}); left out of the snapshot`);
      return undefined;
    } finally {
      a.filesDone();
    }
  }, a.signal);
}

/** Reads a file's content (again, up to CHANGED_RETRIES times, while it changes under the read). */
async function readFile(a: Archive, abs: string, base: NodeBase, old: Node | undefined): Promise<FileNode> {
  for (let attempt = 0; ; attempt++) {
    const read = await readFileContent(a.content, abs, parentPieces(old));
    a.counts.readBytes += read.size;
    if (read.changed && attempt < CHANGED_RETRIES) continue;
    const now = await fs.lstat(abs, { bigint: true });
    const node: FileNode = { type: 'file', ...base, mtimeNs: String(now.mtimeNs), size: read.size, sha256: read.sha256, content: read.content, inode: Number(now.ino), ctimeNs: String(now.ctimeNs) };
    if (read.labels) node.labels = read.labels;
    if (read.changed) {
      node.incomplete = 'changed while being read; stored as read';
      markIncomplete(a, abs, node.incomplete, `changed while being read ${CHANGED_RETRIES + 1} times; stored as last read and marked incomplete`);
    }
    return node;
  }
}

/** Every blob of the parent's file is still indexed (a prune may have removed it since). */
function contentKnown(a: Archive, node: FileNode): boolean {
  return node.content.every((ref) => typeof ref === 'number' || a.content.index.has(Buffer.from(ref, 'hex')));
}

/** The parent's tensor pieces of a file, by label, for delta encoding. */
function parentPieces(old: Node | undefined): Map<string, string> {
  const pieces = new Map<string, string>();
  if (old?.type !== 'file' || !old.labels) return pieces;
  old.labels.forEach((label, i) => {
    const ref = old.content[i];
    if (label !== null && typeof ref === 'string') pieces.set(label, ref);
  });
  return pieces;
}

async function oldNodes(trees: TreeReader, treeId: string | undefined): Promise<Map<string, Node>> {
  if (!treeId) return new Map();
  try {
    return new Map((await trees.load(treeId)).nodes.map((n) => [n.name, n]));
  } catch (err) {
    if (isAbort(err)) throw err;
    return new Map(); // an unreadable parent only costs re-reading
  }
}
