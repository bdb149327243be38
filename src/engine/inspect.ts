/** Read-only views of a repository: ls, diff, stats. */
import { makeCodecSet } from '../repo/codec/all.js';
import type { BlobIndex } from '../repo/blob-index.js';
import { loadIndex } from '../repo/index-store.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot } from '../repo/snapshot.js';
import type { Node } from '../repo/tree.js';
import { listSnapshots, resolveSnapshot, type ResolveOptions, type StoredSnapshot } from './snapshots.js';
import { findNode, makeTreeReader, walkTree, type TreeReader } from './trees.js';

export interface Entry {
  path: string;
  type: Node['type'];
  size: number;
  mode: number;
  mtime: string;
  sha256?: string;
  target?: string;
}

async function openTrees(repo: Repository) {
  const { index } = await loadIndex(repo);
  return { index, trees: makeTreeReader(repo, index, makeCodecSet(repo.config.zstdLevel)) };
}

function entryOf(path: string, node: Node): Entry {
  return {
    path,
    type: node.type,
    size: node.type === 'file' ? node.size : 0,
    mode: node.mode,
    mtime: new Date(Number(BigInt(node.mtimeNs) / 1000000n)).toISOString(),
    sha256: node.type === 'file' ? node.sha256 : undefined,
    target: node.type === 'symlink' ? node.target : undefined,
  };
}

async function entriesOf(trees: TreeReader, treeId: string, subpath = ''): Promise<Entry[]> {
  const top = await findNode(trees, treeId, subpath);
  if (top.type !== 'dir') return [entryOf(top.name, top)];
  const out: Entry[] = [];
  for await (const { path, node } of walkTree(trees, top.subtree)) out.push(entryOf(path, node));
  return out;
}

export async function ls(repo: Repository, spec: string, subpath = '', options: ResolveOptions = {}): Promise<{ snapshotId: string; entries: Entry[] }> {
  const snap = await resolveSnapshot(repo, spec, options);
  const { trees } = await openTrees(repo);
  return { snapshotId: snap.id, entries: await entriesOf(trees, snap.snapshot.tree, subpath) };
}

export interface DiffResult {
  from: string;
  to: string;
  added: Entry[];
  removed: Entry[];
  modified: Array<{ path: string; before: Entry; after: Entry }>;
}

export async function diff(repo: Repository, specA: string, specB: string, options: ResolveOptions = {}): Promise<DiffResult> {
  const [a, b] = [await resolveSnapshot(repo, specA, options), await resolveSnapshot(repo, specB, options)];
  const { trees } = await openTrees(repo);
  const before = new Map((await entriesOf(trees, a.snapshot.tree)).map((e) => [e.path, e]));
  const after = new Map((await entriesOf(trees, b.snapshot.tree)).map((e) => [e.path, e]));
  const result: DiffResult = { from: a.id, to: b.id, added: [], removed: [], modified: [] };
  for (const [path, e] of after) {
    const old = before.get(path);
    if (!old) result.added.push(e);
    else if (old.type !== e.type || old.sha256 !== e.sha256 || old.target !== e.target || old.mode !== e.mode) result.modified.push({ path, before: old, after: e });
  }
  for (const [path, e] of before) if (!after.has(path)) result.removed.push(e);
  return result;
}

export interface Stats {
  snapshots: number;
  /** Bytes of the files in the snapshot(s) counted, as a user sees them. */
  logicalBytes: number;
  /** Distinct blobs referenced, and their plaintext and stored (compressed, encrypted) bytes. */
  blobs: number;
  rawBytes: number;
  storedBytes: number;
  /** Zero runs kept as holes, not stored. */
  sparseBytes: number;
  dedupRatio: number;
  compressionRatio: number;
  /** logicalBytes / storedBytes. */
  totalRatio: number;
  byCodec: Record<string, { blobs: number; rawBytes: number; storedBytes: number }>;
}


/** Stats over one snapshot, or over every snapshot of the repository. */
export async function stats(repo: Repository, spec?: string, options: ResolveOptions = {}): Promise<Stats> {
  const snaps = spec ? [await resolveSnapshot(repo, spec, options)] : await listSnapshots(repo);
  return (await groupedStats(repo, snaps, () => undefined)).all;
}

/**
 * Stats over `snaps`, and over each group of them that `groupOf` names, in one walk of their trees.
 * A blob shared by two groups counts in both, and once in `all`.
 */
export async function groupedStats(repo: Repository, snaps: readonly StoredSnapshot[], groupOf: (s: StoredSnapshot) => string | undefined): Promise<{ all: Stats; groups: Map<string, Stats> }> {
  const { index, trees } = await openTrees(repo);
  const codecs = makeCodecSet(repo.config.zstdLevel);
  const codecName = (id: number) => {
    try {
      return codecs.byId(id).name;
    } catch {
      return `codec ${id}`; // stats still counts what a newer version wrote
    }
  };
  const all = counter(index, codecName);
  const groups = new Map<string, ReturnType<typeof counter>>();
  for (const stored of snaps) {
    const name = groupOf(stored);
    const group = name === undefined ? undefined : groups.get(name) ?? groups.set(name, counter(index, codecName)).get(name)!;
    const counters = group ? [all, group] : [all];
    const { snapshot } = stored;
    for (const c of counters) c.snapshot(snapshot.tree);
    for await (const { node } of walkTree(trees, snapshot.tree)) {
      if (node.type === 'dir') for (const c of counters) c.blob(node.subtree);
      if (node.type === 'file') for (const c of counters) c.file(node.size, node.content);
    }
  }
  return { all: all.done(), groups: new Map([...groups].map(([k, c]) => [k, c.done()])) };
}

/** Counts the distinct blobs and the file bytes of the snapshots given to it. */
function counter(index: BlobIndex, codecName: (id: number) => string) {
  const seen = new Set<string>();
  let dataRawBytes = 0; // dedup compares file bytes with data blobs only, not tree listings
  const s: Stats = { snapshots: 0, logicalBytes: 0, blobs: 0, rawBytes: 0, storedBytes: 0, sparseBytes: 0, dedupRatio: 0, compressionRatio: 0, totalRatio: 0, byCodec: {} };
  const blob = (id: string, data = false) => {
    if (seen.has(id)) return;
    seen.add(id);
    const entry = index.get(Buffer.from(id, 'hex'));
    if (!entry) return;
    if (data) dataRawBytes += entry.rawLength;
    const c = (s.byCodec[codecName(entry.codec)] ??= { blobs: 0, rawBytes: 0, storedBytes: 0 });
    c.blobs++;
    c.rawBytes += entry.rawLength;
    c.storedBytes += entry.storedLength;
    s.blobs++;
    s.rawBytes += entry.rawLength;
    s.storedBytes += entry.storedLength;
  };
  return {
    blob,
    snapshot(tree: string) {
      s.snapshots++;
      blob(tree);
    },
    file(size: number, content: ReadonlyArray<string | number>) {
      s.logicalBytes += size;
      for (const ref of content) {
        if (typeof ref === 'number') s.sparseBytes += ref;
        else blob(ref, true);
      }
    },
    done(): Stats {
      s.dedupRatio = dataRawBytes ? (s.logicalBytes - s.sparseBytes) / dataRawBytes : 0;
      s.compressionRatio = s.storedBytes ? s.rawBytes / s.storedBytes : 0;
      s.totalRatio = s.storedBytes ? s.logicalBytes / s.storedBytes : 0;
      return s;
    },
  };
}
