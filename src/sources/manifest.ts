/**
 * The manifest a source stores beside its data (`manifest.json` in the snapshot): what the backup
 * saw (server and tool versions, row counts, refs, object metadata), so that restore and verify
 * can compare against it. The snapshot's `source` field names it.
 */
import type { Repository } from '../repo/repository.js';
import type { SnapshotSource } from '../repo/snapshot.js';
import { openSnapshotReader, type SnapshotReader } from '../engine/snapshot-files.js';
import type { SourceKind } from './config.js';
import { SourceError } from './errors.js';

export const MANIFEST = 'manifest.json';

export function sourceRecord(kind: SourceKind, location: string, details: SnapshotSource['details'], manifest: string | undefined = MANIFEST): { source: SnapshotSource } {
  return { source: { kind, location, details, ...(manifest ? { manifest } : {}) } };
}

/** Opens a snapshot that a `kind` source made; a snapshot of another kind is refused with what it is. */
export async function openSourceSnapshot(repo: Repository, spec: string, kind: SourceKind, workers?: number): Promise<SnapshotReader> {
  const reader = await openSnapshotReader(repo, spec, { workers });
  const made = reader.snapshot.source?.kind ?? 'path';
  if (made !== kind) {
    await reader.close();
    throw new SourceError('SOURCE', `snapshot ${reader.id.slice(0, 12)} of ${reader.snapshot.asset} was made from a ${made} source, not ${kind}: restore it ${made === 'path' ? 'with --target DIR' : `with --to-${made === 's3' ? 's3' : made}`}`);
  }
  return reader;
}

export async function readManifest<T>(reader: SnapshotReader): Promise<T> {
  const name = reader.snapshot.source?.manifest ?? MANIFEST;
  return JSON.parse((await reader.readBytes(name)).toString('utf8')) as T;
}
