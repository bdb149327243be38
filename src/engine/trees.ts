/** Reading and writing tree blobs, and finding nodes by path. */
import type { BlobIndex } from '../repo/blob-index.js';
import { openBlob, sealBlob } from '../repo/blob.js';
import type { CodecSet } from '../repo/codec/all.js';
import { sha256 } from '../repo/crypto.js';
import { FormatError } from '../repo/errors.js';
import { BlobType } from '../repo/pack.js';
import { packKey, type Repository } from '../repo/repository.js';
import { decodeTree, encodeTree, type Node, type Tree } from '../repo/tree.js';
import type { Packer } from './packer.js';

export interface TreeReader {
  load(treeId: string): Promise<Tree>;
}

/** Reads one blob from its pack (a range read), opens it and checks its SHA-256. */
export async function readBlob(repo: Repository, index: BlobIndex, codecs: CodecSet, id: string): Promise<Buffer> {
  const idBytes = Buffer.from(id, 'hex');
  const where = index.get(idBytes);
  if (!where) throw new FormatError(`blob ${id.slice(0, 12)} is not in the index: the repository is missing data (run "lifeboat check")`);
  const sealed = await repo.storage.get(packKey(where.packId), { offset: where.offset, length: where.storedLength });
  return openBlob(repo.key.data, codecs, sealed, { codec: where.codec, rawLength: where.rawLength, id: idBytes });
}

export function makeTreeReader(repo: Repository, index: BlobIndex, codecs: CodecSet): TreeReader {
  const cache = new Map<string, Tree>();
  return {
    async load(treeId) {
      let tree = cache.get(treeId);
      if (!tree) {
        tree = decodeTree(await readBlob(repo, index, codecs, treeId), treeId);
        if (cache.size > 1024) cache.clear();
        cache.set(treeId, tree);
      }
      return tree;
    },
  };
}

export async function saveTree(repo: Repository, packer: Packer, codecs: CodecSet, tree: Tree): Promise<string> {
  const plain = encodeTree(tree);
  const id = sha256(plain);
  if (!packer.knows(id)) {
    packer.claim(id);
    const { codec, sealed } = sealBlob(repo.key.data, codecs, plain, {});
    await packer.add(id, BlobType.tree, codec, plain.length, sealed);
  }
  return id.toString('hex');
}

/** The node at `subpath` (slash-separated, relative to the snapshot root), or a root pseudo-node. */
export async function findNode(trees: TreeReader, rootTree: string, subpath: string): Promise<Node> {
  let node: Node = { type: 'dir', name: '', mode: 0o755, mtimeNs: '0', subtree: rootTree };
  for (const part of subpath.split('/').filter((p) => p && p !== '.')) {
    if (node.type !== 'dir') throw new FormatError(`${subpath}: ${node.name} is not a directory in the snapshot`);
    const child: Node | undefined = (await trees.load(node.subtree)).nodes.find((n) => n.name === part);
    if (!child) throw new FormatError(`${subpath}: no "${part}" in the snapshot`);
    node = child;
  }
  return node;
}

/** Every node below a tree, depth first, with its path relative to that tree. */
export async function* walkTree(trees: TreeReader, treeId: string, prefix = ''): AsyncGenerator<{ path: string; node: Node }> {
  for (const node of (await trees.load(treeId)).nodes) {
    const path = prefix ? `${prefix}/${node.name}` : node.name;
    yield { path, node };
    if (node.type === 'dir') yield* walkTree(trees, node.subtree, path);
  }
}
