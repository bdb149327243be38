/**
 * Planning a copy (pure): which snapshots go, and how the blobs a destination lacks are read from
 * the source in as few range reads as possible (which blobs a snapshot needs: reachable.ts).
 */
import type { BlobIndex } from '../repo/blob-index.js';
import { FormatError } from '../repo/errors.js';
import type { DeltaRef } from '../repo/pack.js';
import type { BlobSpan } from './pipeline-protocol.js';
import type { StoredSnapshot } from './snapshots.js';

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

/**
 * One range read of a source pack and the blobs in it that a destination lacks, in pack order,
 * gaps allowed. (Not restore's FilePart, which is a run of consecutive blobs in a file's order.)
 */
export interface PackRange {
  packId: string;
  offset: number;
  length: number;
  /** `start` is relative to the fetched range. */
  blobs: Array<BlobSpan & { type: number; delta?: DeltaRef }>;
}

/** The largest range read planPackRanges plans, unless told otherwise (one blob longer than it is a range of its own). */
export const MAX_RANGE_BYTES = 8 * 1024 * 1024;

export interface PackRangeOptions {
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
export function planPackRanges(index: BlobIndex, ids: readonly string[], options: PackRangeOptions = {}): PackRange[] {
  const maxBytes = options.maxBytes ?? MAX_RANGE_BYTES;
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
  const ranges: PackRange[] = [];
  for (const [packId, blobs] of byPack) {
    blobs.sort((a, b) => a.offset - b.offset);
    let current: PackRange | undefined;
    let currentRaw = 0;
    for (const b of blobs) {
      const end = b.offset + b.length;
      const joins = current && b.offset - (current.offset + current.length) <= maxGap && end - current.offset <= maxBytes && currentRaw + b.rawLength <= maxRawBytes;
      if (!joins) {
        current = { packId, offset: b.offset, length: 0, blobs: [] };
        ranges.push(current);
        currentRaw = 0;
      }
      currentRaw += b.rawLength;
      current!.blobs.push({ start: b.offset - current!.offset, length: b.length, codec: b.codec, rawLength: b.rawLength, id: b.id, type: b.type, delta: b.delta });
      current!.length = end - current!.offset;
    }
  }
  return ranges;
}

/** Stored bytes of the blobs the ranges move (the part of the reads that is not gaps). */
export function blobBytesOf(ranges: readonly PackRange[]): number {
  return ranges.reduce((n, f) => n + f.blobs.reduce((m, b) => m + b.length, 0), 0);
}
