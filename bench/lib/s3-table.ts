// The S3 mode's printed summary: one column per tool, Lifeboat's ratio to each other tool, then
// the copy of the series.
import type { S3SuiteResult, S3ToolResult } from './s3-suite.js';
import { median } from './measure.js';

interface Row {
  label: string;
  better: 'higher' | 'lower';
  value: (r: S3ToolResult) => number | undefined;
  format: (x: number) => string;
}

const MB = 1e6;
const ROWS: Row[] = [
  { label: 'backup base to S3, MB/s (median)', better: 'higher', value: (r) => r.backupMBps, format: (x) => x.toFixed(0) },
  { label: 'restore base from S3, MB/s (median)', better: 'higher', value: (r) => r.restoreMBps, format: (x) => x.toFixed(0) },
  { label: 'peak RSS backup, MB', better: 'lower', value: (r) => r.backupPeakRss && r.backupPeakRss / MB, format: (x) => x.toFixed(0) },
  { label: 'peak RSS restore, MB', better: 'lower', value: (r) => r.restorePeakRss && r.restorePeakRss / MB, format: (x) => x.toFixed(0) },
  { label: 'base stored in the bucket, MB', better: 'lower', value: (r) => (r.storedBytes.length ? median(r.storedBytes) / MB : undefined), format: (x) => x.toFixed(0) },
];

export interface S3Ratio {
  metric: string;
  other: string;
  /** lifeboat / other */
  ratio: number;
  better: 'higher' | 'lower';
}

export function s3Ratios(results: S3ToolResult[]): S3Ratio[] {
  const lb = results.find((r) => r.tool === 'lifeboat' && !r.error);
  if (!lb) return [];
  const out: S3Ratio[] = [];
  for (const other of results.filter((r) => r.tool !== 'lifeboat' && !r.error)) {
    for (const row of ROWS) {
      const a = row.value(lb);
      const b = row.value(other);
      if (a !== undefined && b !== undefined && b > 0) out.push({ metric: row.label, other: other.tool, ratio: a / b, better: row.better });
    }
  }
  return out;
}

function align(all: string[][]): string {
  const widths = all[0].map((_, i) => Math.max(...all.map((l) => l[i].length)));
  return all.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

export function renderS3Table(s: S3SuiteResult): string {
  const others = s.tools.filter((r) => r.tool !== 'lifeboat' && !r.error).map((r) => r.tool);
  const rs = s3Ratios(s.tools);
  const head = ['', ...s.tools.map((r) => r.tool), ...others.map((o) => `lifeboat/${o}`)];
  const lines = ROWS.map((row) => [
    `${row.label} (${row.better} is better)`,
    ...s.tools.map((r) => {
      const v = r.error ? undefined : row.value(r);
      return v === undefined ? (r.error ? 'failed' : '-') : row.format(v);
    }),
    ...others.map((o) => {
      const x = rs.find((q) => q.metric === row.label && q.other === o);
      return x ? `${x.ratio.toFixed(2)}x` : '-';
    }),
  ]);
  const out = [align([head, ...lines]), ...s.tools.filter((r) => r.error).map((r) => `${r.tool} failed: ${r.error}`)];
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
