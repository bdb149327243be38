/**
 * `lifeboat versions ASSET`: every version of an asset, oldest first, with its size, file count and
 * what changed since the version before it (files added, removed, modified; for tensor files, how
 * many tensors changed, from the tensor piece labels the splitter recorded), and the versions that
 * forget removed.
 */
import { byCodeUnit } from '../base/order.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { loadIndex } from '../repo/index-store.js';
import type { Repository } from '../repo/repository.js';
import type { FileNode } from '../repo/tree.js';
import { listForgotten } from './forgotten.js';
import { listSnapshotsAndDamage, type StoredSnapshot } from './snapshots.js';
import { makeTreeReader, walkTree, type TreeReader } from './trees.js';

export interface VersionChanges {
  added: number;
  removed: number;
  modified: number;
  /** Tensors (by name) whose pieces changed, appeared or went, over the modified tensor files. */
  tensorsChanged: number;
}

export interface VersionEntry {
  version: number | null;
  snapshot: string;
  time: string;
  size: number;
  files: number;
  tier?: number;
  kind?: string;
  source?: string;
  /** Against the version before it; null for the first. */
  changes: VersionChanges | null;
  lineage: boolean;
}

export interface VersionHistory {
  asset: string;
  versions: VersionEntry[];
  forgotten: Array<{ version: number; snapshot: string; time: string; forgotten: string }>;
  /** Snapshot objects of the repository that cannot be read: any of them may be a version of this asset (its name is inside). */
  damaged: Array<{ id: string; problem: string }>;
}

async function files(trees: TreeReader, root: string): Promise<Map<string, FileNode>> {
  const out = new Map<string, FileNode>();
  for await (const { path, node } of walkTree(trees, root)) if (node.type === 'file') out.set(path, node);
  return out;
}

/** Tensor name -> its pieces' blob ids, from labels "tensor:NAME#i" (or "tensor:FIRST+N" for grouped small tensors). */
function tensors(node: FileNode): Map<string, string> {
  const out = new Map<string, string>();
  node.labels?.forEach((label, i) => {
    if (!label?.startsWith('tensor:')) return;
    const name = label.slice(7).replace(/#\d+$/, '');
    out.set(name, `${out.get(name) ?? ''}${String(node.content[i])},`);
  });
  return out;
}

export function changesBetween(before: Map<string, FileNode>, after: Map<string, FileNode>): VersionChanges {
  const c: VersionChanges = { added: 0, removed: 0, modified: 0, tensorsChanged: 0 };
  for (const [p, node] of after) {
    const old = before.get(p);
    if (!old) c.added++;
    else if (old.sha256 !== node.sha256 || old.mode !== node.mode) {
      c.modified++;
      const [a, b] = [tensors(old), tensors(node)];
      for (const name of new Set([...a.keys(), ...b.keys()])) if (a.get(name) !== b.get(name)) c.tensorsChanged++;
    }
  }
  for (const p of before.keys()) if (!after.has(p)) c.removed++;
  return c;
}

export async function versionHistory(repo: Repository, asset: string): Promise<VersionHistory> {
  const [{ snapshots: all, damaged }, forgotten, { index }] = await Promise.all([listSnapshotsAndDamage(repo), listForgotten(repo), loadIndex(repo)]);
  const trees = makeTreeReader(repo, index, makeCodecSet(repo.config.zstdLevel));
  const mine = all.filter((s) => s.snapshot.asset === asset).sort(byVersion);
  const versions: VersionEntry[] = [];
  let previous: Map<string, FileNode> | undefined;
  for (const s of mine) {
    const now = await files(trees, s.snapshot.tree);
    versions.push({
      version: s.snapshot.assetVersion ?? null,
      snapshot: s.id,
      time: s.snapshot.time,
      size: s.snapshot.summary.totalBytes,
      files: s.snapshot.summary.files,
      tier: s.snapshot.tier,
      kind: s.snapshot.kind,
      source: s.snapshot.source?.kind,
      changes: previous ? changesBetween(previous, now) : null,
      lineage: !!s.snapshot.lineage,
    });
    previous = now;
  }
  const gone = forgotten.filter((f) => f.asset === asset && !mine.some((s) => s.id === f.snapshot)).map((f) => ({ version: f.assetVersion, snapshot: f.snapshot, time: f.time, forgotten: f.forgotten }));
  return { asset, versions, forgotten: gone.sort((a, b) => a.version - b.version), damaged: damaged.map(({ id, error }) => ({ id, problem: error.message })) };
}

/** Numbered versions by number, older unnumbered snapshots first by time. */
function byVersion(a: StoredSnapshot, b: StoredSnapshot): number {
  const [x, y] = [a.snapshot.assetVersion ?? 0, b.snapshot.assetVersion ?? 0];
  return x - y || byCodeUnit(a.snapshot.time, b.snapshot.time);
}
