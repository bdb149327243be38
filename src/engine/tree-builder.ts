/**
 * Builds the trees of a snapshot from a flat list of entries with slash-separated paths (what a
 * stream backup produces: a dump and its manifest, every object of a bucket). Each path component
 * is checked as restore checks it, and a name used twice, or as both a file and a directory, is
 * refused. Trees are stored children first, so a parent never names a tree that is not stored.
 */
import type { CodecSet } from '../repo/codec/all.js';
import { FormatError } from '../repo/errors.js';
import type { Repository } from '../repo/repository.js';
import { checkNodeName, type FileNode, type Node } from '../repo/tree.js';
import type { Packer } from './packer.js';
import { saveTree } from './trees.js';

/** What every directory node gets: a stream has no directories of its own. */
export interface DirStamp {
  mtimeNs: string;
  uid?: number;
  gid?: number;
}

interface Dir {
  files: Map<string, FileNode>;
  dirs: Map<string, Dir>;
}

export interface TreeBuilder {
  /** Adds a file at `path` (its node's name is set from the path). */
  add(path: string, node: Omit<FileNode, 'name'>): void;
  /** Checks a path before its content is stored: well formed, and not taken. */
  check(path: string): void;
  /** Stores every tree; returns the root tree id and the number of directories below the root. */
  save(repo: Repository, packer: Packer, codecs: CodecSet, dirs: DirStamp): Promise<{ tree: string; dirs: number }>;
}

export function makeTreeBuilder(): TreeBuilder {
  const root: Dir = { files: new Map(), dirs: new Map() };
  const reserved = new Set<string>();

  function parts(path: string): string[] {
    const list = path.split('/');
    for (const p of list) checkNodeName(p, `entry path ${JSON.stringify(path)}`);
    return list;
  }

  function dirOf(list: string[], create: boolean): Dir | undefined {
    let dir = root;
    for (const name of list.slice(0, -1)) {
      if (dir.files.has(name)) throw new FormatError(`entry path ${list.join('/')}: ${name} is a file already`);
      let next = dir.dirs.get(name);
      if (!next) {
        if (!create) return undefined;
        next = { files: new Map(), dirs: new Map() };
        dir.dirs.set(name, next);
      }
      dir = next;
    }
    return dir;
  }

  function check(path: string): void {
    const list = parts(path);
    const dir = dirOf(list, false);
    const name = list[list.length - 1];
    if (reserved.has(path) || dir?.files.has(name) || dir?.dirs.has(name)) throw new FormatError(`entry path ${path} is used twice in one snapshot`);
  }

  async function saveDir(dir: Dir, repo: Repository, packer: Packer, codecs: CodecSet, base: DirStamp, count: { dirs: number }): Promise<string> {
    const nodes: Node[] = [...dir.files.entries()].map(([name, node]) => ({ ...node, name }));
    for (const [name, sub] of dir.dirs) {
      count.dirs++;
      nodes.push({ ...base, type: 'dir', name, mode: 0o755, subtree: await saveDir(sub, repo, packer, codecs, base, count) });
    }
    nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return saveTree(repo, packer, codecs, { nodes });
  }

  return {
    check(path) {
      check(path);
      reserved.add(path);
    },
    add(path, node) {
      reserved.delete(path);
      check(path);
      const list = parts(path);
      dirOf(list, true)!.files.set(list[list.length - 1], { ...node, name: list[list.length - 1] } as FileNode);
    },
    async save(repo, packer, codecs, base) {
      const count = { dirs: 0 };
      const tree = await saveDir(root, repo, packer, codecs, base, count);
      return { tree, dirs: count.dirs };
    },
  };
}
