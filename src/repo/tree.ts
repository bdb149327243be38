/**
 * Trees: one JSON blob (type tree) per directory, listing its entries sorted by name.
 *
 *   { "nodes": [ Node, ... ] }
 *
 * A file node's `content` lists its bytes in order: a string is a data blob id (hex), a
 * number n is a run of n zero bytes stored as nothing (restored as a hole). `sha256` is the
 * SHA-256 of the whole file, checked on every restore.
 */
import { FormatError } from './errors.js';
import { parseJson } from './json.js';

export type ContentRef = string | number;

interface NodeBase {
  name: string;
  mode: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string (JSON numbers lose precision). */
  mtimeNs: string;
  uid?: number;
  gid?: number;
}

export interface FileNode extends NodeBase {
  type: 'file';
  size: number;
  sha256: string;
  content: ContentRef[];
  /** Tensor piece labels aligned with `content` (null where none): how the next backup finds delta bases. */
  labels?: Array<string | null>;
  /** Change detection against the next backup's parent lookup. */
  inode: number;
  ctimeNs: string;
  /** Why the stored content may not match the file (read error, changed while read). */
  incomplete?: string;
}

export interface DirNode extends NodeBase {
  type: 'dir';
  subtree: string;
}

export interface SymlinkNode extends NodeBase {
  type: 'symlink';
  target: string;
}

export type Node = FileNode | DirNode | SymlinkNode;

export interface Tree {
  nodes: Node[];
}

/**
 * A node name must be one plain path component. Restore relies on this check to never write
 * outside its target: a tree naming "..", "a/b" or "/etc" is rejected, not sanitised.
 */
export function checkNodeName(name: unknown, where: string): string {
  if (typeof name !== 'string' || name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new FormatError(`unsafe name ${JSON.stringify(name)} in ${where}: the snapshot is damaged or was forged; nothing was restored from it`);
  }
  return name;
}

export function encodeTree(tree: Tree): Buffer {
  return Buffer.from(JSON.stringify(tree));
}

export function decodeTree(plain: Buffer, treeId: string): Tree {
  const tree = parseJson<Tree>(plain, `tree ${treeId.slice(0, 12)}`);
  if (!Array.isArray(tree?.nodes)) throw new FormatError(`tree ${treeId.slice(0, 12)} has no node list`);
  const names = new Set<string>();
  for (const node of tree.nodes) {
    const name = checkNodeName(node.name, `tree ${treeId.slice(0, 12)}`);
    // Two entries with one name (a symlink and a directory, say) would make restore's result depend on order.
    if (names.has(name)) throw new FormatError(`tree ${treeId.slice(0, 12)} names ${JSON.stringify(name)} twice: the snapshot is damaged or was forged`);
    names.add(name);
  }
  return tree;
}

/** Total bytes a content list describes, given the raw length of each blob. */
export function contentLength(content: readonly ContentRef[], rawLength: (id: string) => number): number {
  return content.reduce<number>((n, ref) => n + (typeof ref === 'number' ? ref : rawLength(ref)), 0);
}
