/**
 * Planning a copy (pure where it can be): which snapshots go, which blobs each one needs, and how
 * the blobs a destination lacks are read from the source in as few range reads as possible.
 */
import type { BlobIndex } from '../repo/blob-index.js';
import { FormatError } from '../repo/errors.js';
import type { DeltaRef } from '../repo/pack.js';
import type { BlobSpan } from './pipeline-protocol.js';
import type { StoredSnapshot } from './snapshots.js';
import type { TreeReader } from './trees.js';

/** What identifies "the same snapshot" in two repositories whose ids differ (other key, other nonce). */
export function snapshotKey(s: StoredSnapshot): string {
  return `${s.snapshot.asset}\0${s.snapshot.time}\0${s.snapshot.tree}`;
}

export interface Selection {
  /** Snapshot ids already resolved from what the user named (ids, prefixes, ASSET@latest). */
  ids?: readonly string[];
  asset?: string;
  tier?: number;
  all?: boolean;
}

/** The source snapshots a selection names, oldest first; the filters combine (asset AND tier AND ids). */
export function selectSnapshots(source: readonly StoredSnapshot[], selection: Selection): StoredSnapshot[] {
  const ids = selection.ids && selection.ids.length > 0 ? new Set(selection.ids) : undefined;
  if (!ids && selection.asset === undefined && selection.tier === undefined && !selection.all) return [];
  return source.filter(
    (s) =>
      (!ids || ids.has(s.id)) &&
      (selection.asset === undefined || s.snapshot.asset === selection.asset) &&
      (selection.tier === undefined || s.snapshot.tier === selection.tier),
  );
}

/** Splits the selected snapshots into those the destination lacks and those it already has. */
export function partitionByPresence(selected: readonly StoredSnapshot[], destination: readonly StoredSnapshot[]): { missing: StoredSnapshot[]; present: Array<{ source: StoredSnapshot; destinationId: string }> } {
  const there = new Map(destination.map((d) => [snapshotKey(d), d.id]));
  const missing: StoredSnapshot[] = [];
  const present: Array<{ source: StoredSnapshot; destinationId: string }> = [];
  for (const s of selected) {
    const id = there.get(snapshotKey(s));
    if (id === undefined) missing.push(s);
    else present.push({ source: s, destinationId: id });
  }
  return { missing, present };
}

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

/** One range read of a source pack and the blobs in it. */
export interface Fetch {
  packId: string;
  offset: number;
  length: number;
  /** `start` is relative to the fetched range. */
  blobs: Array<BlobSpan & { type: number; delta?: DeltaRef }>;
}

export interface FetchPlanOptions {
  /** Largest range read. */
  maxBytes?: number;
  /** Bytes of unneeded blobs a read may span to avoid a second request. */
  maxGap?: number;
  /** Largest plaintext of the blobs of one read (what decoding them holds in memory). */
  maxRawBytes?: number;
}

/**
 * Groups blobs (ids the destination lacks) into range reads of the source: by pack, in pack
 * order, merging neighbours. Throws when the source index does not know a blob.
 */
export function planFetches(index: BlobIndex, ids: readonly string[], options: FetchPlanOptions = {}): Fetch[] {
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  // Delta blobs are tiny when stored but decode against full-size bases: bound the plaintext too.
  const maxRawBytes = options.maxRawBytes ?? 16 * 1024 * 1024;
  const maxGap = options.maxGap ?? 256 * 1024;
  const byPack = new Map<string, Array<{ id: Buffer; offset: number; length: number; codec: number; rawLength: number; type: number; delta?: DeltaRef }>>();
  for (const hex of ids) {
    const id = Buffer.from(hex, 'hex');
    const where = index.get(id);
    if (!where) throw new FormatError(`blob ${hex.slice(0, 12)} is not in the source index: the source repository is missing data (run "lifeboat check" on it)`);
    let list = byPack.get(where.packId);
    if (!list) byPack.set(where.packId, (list = []));
    list.push({ id, offset: where.offset, length: where.storedLength, codec: where.codec, rawLength: where.rawLength, type: where.type, delta: where.delta });
  }
  const fetches: Fetch[] = [];
  for (const [packId, blobs] of byPack) {
    blobs.sort((a, b) => a.offset - b.offset);
    let current: Fetch | undefined;
    let currentRaw = 0;
    for (const b of blobs) {
      const end = b.offset + b.length;
      const joins = current && b.offset - (current.offset + current.length) <= maxGap && end - current.offset <= maxBytes && currentRaw + b.rawLength <= maxRawBytes;
      if (!joins) {
        current = { packId, offset: b.offset, length: 0, blobs: [] };
        fetches.push(current);
        currentRaw = 0;
      }
      currentRaw += b.rawLength;
      current!.blobs.push({ start: b.offset - current!.offset, length: b.length, codec: b.codec, rawLength: b.rawLength, id: b.id, type: b.type, delta: b.delta });
      current!.length = end - current!.offset;
    }
  }
  return fetches;
}

/** Stored bytes of the blobs a fetch list moves (the part of the reads that is not gaps). */
export function fetchedBlobBytes(fetches: readonly Fetch[]): number {
  return fetches.reduce((n, f) => n + f.blobs.reduce((m, b) => m + b.length, 0), 0);
}
