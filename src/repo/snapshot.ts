/**
 * Snapshots `snapshots/<id>`: sealed JSON, written last, after every pack and index it needs.
 * The repository describes itself: the asset name, tier, tags and metadata live here.
 */
import { FormatError, NewerFormatError } from './errors.js';
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
  /** The asset's kind in lifeboat.yaml (model, adapter, dataset, ...), when backed up from the plan. */
  kind?: string;
  /** Exclude patterns the backup applied. */
  exclude?: string[];
  summary: SnapshotSummary;
  /** Files that could not be read completely; such a snapshot is marked incomplete everywhere. */
  incomplete: Array<{ path: string; reason: string }>;
  program: string;
  /** The asset's version number (ASSET@vN): assigned when the snapshot is written, never reused (docs/format.md §9). Absent in older snapshots. */
  assetVersion?: number;
  /** Where the content came from when it is not files and directories: a database dump, a git bundle, a bucket, a command. */
  source?: SnapshotSource;
  /** What this asset version was made from: dataset versions, code commits, parameters, metrics. */
  lineage?: Lineage;
}

/** What a source adapter records about a backup (never a credential). */
export interface SnapshotSource {
  /** The adapter's name: postgres, mysql, sqlite, git, s3, command. */
  kind: string;
  /** What was read, without credentials: a URL with no password, a path, s3://BUCKET/PREFIX, a command line. */
  location: string;
  /** Facts worth keeping beside the data: server and dump tool versions, object counts. */
  details: Record<string, string | number | boolean>;
  /** The path in the snapshot of the adapter's manifest (row counts, refs, object metadata), if it wrote one. */
  manifest?: string;
}

export interface Lineage {
  inputs: LineageInput[];
  params: Record<string, string>;
  metrics: Record<string, number>;
  /** The run that produced it, from --lineage-file (e.g. an MLflow run export). */
  run?: { source: string; id?: string; name?: string; experiment?: string; status?: string; start?: string; end?: string };
}

/** One thing the version was made from, under a role such as "dataset" or "code". */
export type LineageInput =
  /** A version of an asset in this repository; `snapshot` is its id here, `tree` its root tree (the same in every replica). */
  | { role: string; kind: 'version'; asset: string; assetVersion: number; snapshot: string; tree: string }
  | { role: string; kind: 'git'; url: string; commit: string }
  /** Anything else, recorded as written (an MLflow dataset digest, a URI). */
  | { role: string; kind: 'uri'; uri: string };

export function decodeSnapshot(plain: Buffer, id: string): Snapshot {
  const snap = parseJson<Snapshot>(plain, `snapshot ${id.slice(0, 12)}`);
  if (typeof snap.version !== 'number') throw new FormatError(`snapshot ${id.slice(0, 12)} has no format version`);
  if (snap.version > SNAPSHOT_VERSION) throw new NewerFormatError(`snapshot ${id.slice(0, 12)} has version ${snap.version}, newer than this lifeboat supports: upgrade lifeboat`);
  if (typeof snap.tree !== 'string' || !/^[0-9a-f]{64}$/.test(snap.tree)) throw new FormatError(`snapshot ${id.slice(0, 12)} has no valid tree id`);
  return snap;
}
