// The S3 mode's printed summary: one column per tool, Lifeboat's ratio to each other tool, then
// the copy of the series.
import type { S3SuiteResult, S3ToolResult } from './s3-suite.js';
import { median } from './measure.js';
import { ratiosOf, renderComparison, type Ratio, type Row } from './table.js';

const MB = 1e6;
const ROWS: Row<S3ToolResult>[] = [
  { label: 'backup base to S3, MB/s (median)', better: 'higher', value: (r) => r.backupMBps, format: (x) => x.toFixed(0) },
  { label: 'restore base from S3, MB/s (median)', better: 'higher', value: (r) => r.restoreMBps, format: (x) => x.toFixed(0) },
  { label: 'peak RSS backup, MB', better: 'lower', value: (r) => r.backupPeakRss && r.backupPeakRss / MB, format: (x) => x.toFixed(0) },
  { label: 'peak RSS restore, MB', better: 'lower', value: (r) => r.restorePeakRss && r.restorePeakRss / MB, format: (x) => x.toFixed(0) },
  { label: 'base stored in the bucket, MB', better: 'lower', value: (r) => (r.storedBytes.length ? median(r.storedBytes) / MB : undefined), format: (x) => x.toFixed(0) },
];

export function s3Ratios(results: S3ToolResult[]): Ratio[] {
  return ratiosOf(ROWS, results);
}

export function renderS3Table(s: S3SuiteResult): string {
  const out = [renderComparison(ROWS, s.tools)];
  const c = s.copy;
  if (c?.error) out.push(`\nlifeboat copy of the series failed: ${c.error}`);
  else if (c?.seconds !== undefined) {
    out.push(
      `\nlifeboat copy --all of the series (${c.versions} snapshots, ${(c.seriesBytes / 1e9).toFixed(2)} GB raw, local repository ${((c.localRepoBytes ?? 0) / 1e9).toFixed(2)} GB) to a second bucket:\n` +
        `  ${c.seconds.toFixed(1)} s, ${((c.bytesWritten ?? 0) / MB).toFixed(0)} MB written in ${c.packs} packs (${(c.writtenMBps ?? 0).toFixed(0)} MB/s), ` +
        `bucket holds ${((c.bucketBytes ?? 0) / MB).toFixed(0)} MB in ${c.bucketObjects} objects, peak RSS ${((c.peakRss ?? 0) / MB).toFixed(0)} MB; ` +
        `${c.verifiedVersion ? `${c.verifiedVersion} restored from the copy matches the source` : 'not verified'}`,
    );
  }
  return out.join('\n');
}
