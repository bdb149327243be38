/**
 * Snapshots `snapshots/<id>`: sealed JSON, written last, after every pack and index it needs.
 * The repository describes itself: the asset name, tier, tags and metadata live here.
 */
import { FormatError } from './errors.js';
import { parseJson } from './json.js';

export const SNAPSHOT_VERSION = 1;

export interface SnapshotSummary {
  files: number;
  dirs: number;
  /** Bytes of all files in the snapshot. */
  totalBytes: number;
  /** Bytes read from files that changed since the parent. */
  readBytes: number;
  /** Blobs and their plaintext / stored bytes added to the repository by this backup. */
  newBlobs: number;
  newRawBytes: number;
  newStoredBytes: number;
  durationMs: number;
}

export interface Snapshot {
  version: number;
  time: string;
  asset: string;
  hostname: string;
  username: string;
  /** Absolute source path(s) as given to backup. */
  paths: string[];
  tree: string;
  parent?: string;
  tags: string[];
  meta: Record<string, string>;
  tier?: number;
  summary: SnapshotSummary;
  /** Files that could not be read completely; such a snapshot is marked incomplete everywhere. */
  incomplete: Array<{ path: string; reason: string }>;
  program: string;
}

export function decodeSnapshot(plain: Buffer, id: string): Snapshot {
  const snap = parseJson<Snapshot>(plain, `snapshot ${id.slice(0, 12)}`);
  if (typeof snap.version !== 'number' || snap.version > SNAPSHOT_VERSION) {
    throw new FormatError(`snapshot ${id.slice(0, 12)} has version ${snap.version}, newer than this lifeboat supports: upgrade lifeboat`);
  }
  if (typeof snap.tree !== 'string' || !/^[0-9a-f]{64}$/.test(snap.tree)) throw new FormatError(`snapshot ${id.slice(0, 12)} has no valid tree id`);
  return snap;
}
