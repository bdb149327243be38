/** What `backup` prints of a new snapshot, and the error of one that is incomplete. */
import type { Snapshot } from '../../repo/snapshot.js';
import { OutcomeError } from '../errors.js';
import { formatBytes, formatRate } from '../output.js';

export function describeSnapshot(snapshotId: string, snapshot: Snapshot): string {
  const s = snapshot.summary;
  return [
    `snapshot ${snapshotId.slice(0, 12)} of ${snapshot.asset} saved${snapshot.incomplete.length ? ' (INCOMPLETE: some files could not be read)' : ''}`,
    `  files ${s.files}, dirs ${s.dirs}, ${formatBytes(s.totalBytes)} in total, ${formatBytes(s.readBytes)} read`,
    `  added ${s.newBlobs} blobs: ${formatBytes(s.newRawBytes)} of new data stored as ${formatBytes(s.newStoredBytes)}`,
    `  took ${(s.durationMs / 1000).toFixed(1)} s (${formatRate(s.readBytes, s.durationMs)} read)`,
  ].join('\n');
}

export function incompleteError(snapshot: Snapshot): OutcomeError {
  return new OutcomeError('INCOMPLETE', `${snapshot.incomplete.length} file(s) could not be read completely; the snapshot is marked incomplete`);
}
