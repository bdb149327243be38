/** Reading what a snapshot recorded, through the engine (for assertions about trees and blobs). */
import type { BlobIndex } from '../../src/repo/blob-index.js';
import { makeCodecSet } from '../../src/repo/codec/all.js';
import { loadIndex } from '../../src/repo/index-store.js';
import type { Repository } from '../../src/repo/repository.js';
import type { Node } from '../../src/repo/tree.js';
import { resolveSnapshot } from '../../src/engine/snapshots.js';
import { makeTreeReader, walkTree } from '../../src/engine/trees.js';

/** Every node of a snapshot by its path relative to the snapshot root. */
export async function snapshotNodes(repo: Repository, spec: string): Promise<Map<string, Node>> {
  const { snapshot } = await resolveSnapshot(repo, spec);
  const { index } = await loadIndex(repo);
  const trees = makeTreeReader(repo, index, makeCodecSet(repo.config.zstdLevel));
  const nodes = new Map<string, Node>();
  for await (const { path, node } of walkTree(trees, snapshot.tree)) nodes.set(path, node);
  return nodes;
}

/** Distinct data blobs a snapshot's files reference. */
export async function dataBlobsOf(repo: Repository, spec: string): Promise<Set<string>> {
  const blobs = new Set<string>();
  for (const node of (await snapshotNodes(repo, spec)).values()) {
    if (node.type === 'file') for (const ref of node.content) if (typeof ref === 'string') blobs.add(ref);
  }
  return blobs;
}

export function rawLengthOf(index: BlobIndex, blob: string): number {
  const where = index.get(Buffer.from(blob, 'hex'));
  if (!where) throw new Error(`blob ${blob.slice(0, 12)} is not indexed`);
  return where.rawLength;
}
