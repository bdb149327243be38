/**
 * What a snapshot needs: every tree and data blob its root tree reaches. Copy sends these, prune
 * keeps them, retention extends their packs, replication lag counts them.
 */
import type { TreeReader } from './trees.js';

export interface SnapshotBlobs {
  /** Data blob ids (hex) in first-use order, each once. */
  data: string[];
  /** Tree blob ids (hex), children before their parents, each once. */
  trees: string[];
}

/**
 * Every blob a snapshot's root tree needs. Trees in `visited` (already collected in this run) are
 * not walked again, and their blobs are not listed again.
 */
export async function collectBlobs(trees: TreeReader, rootTree: string, visited: Set<string>, seenData: Set<string>): Promise<SnapshotBlobs> {
  const out: SnapshotBlobs = { data: [], trees: [] };
  async function visit(treeId: string): Promise<void> {
    if (visited.has(treeId)) return;
    visited.add(treeId);
    for (const node of (await trees.load(treeId)).nodes) {
      if (node.type === 'dir') await visit(node.subtree);
      else if (node.type === 'file') {
        for (const ref of node.content) {
          if (typeof ref === 'string' && !seenData.has(ref)) {
            seenData.add(ref);
            out.data.push(ref);
          }
        }
      }
    }
    out.trees.push(treeId); // after its subtrees: a tree never lands before what it names
  }
  await visit(rootTree);
  return out;
}
