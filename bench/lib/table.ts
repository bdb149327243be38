// The printed summary: one column per tool, then Lifeboat's ratio to each other tool.
import type { DeviceLimits } from './device.js';
import { median } from './measure.js';
import type { ToolResult } from './suite.js';

/** One figure of the comparison table, read from a tool's result. */
export interface Row<R> {
  label: string;
  /** "higher" when a bigger number is better (throughput) */
  better: 'higher' | 'lower';
  value: (r: R) => number | undefined;
  format: (x: number) => string;
}

/** What every tool's result has, whatever the mode. */
export interface Compared {
  tool: string;
  error?: string;
}

const MB = 1e6;
const ROWS: Row<ToolResult>[] = [
  { label: 'backup base, MB/s (median)', better: 'higher', value: (r) => r.backupMBps, format: (x) => x.toFixed(0) },
  { label: 'restore base, MB/s (median)', better: 'higher', value: (r) => r.restoreMBps, format: (x) => x.toFixed(0) },
  { label: 'restore base, caches dropped, MB/s', better: 'higher', value: (r) => r.restoreColdMBps, format: (x) => x.toFixed(0) },
  { label: 'restore base then sync, MB/s', better: 'higher', value: (r) => r.restoreDurableMBps, format: (x) => x.toFixed(0) },
  { label: 'restore then sync / device write time', better: 'lower', value: (r) => r.durableOverDeviceWrite, format: (x) => `${x.toFixed(2)}x` },
  { label: 'peak RSS backup, MB', better: 'lower', value: (r) => r.backupPeakRss && r.backupPeakRss / MB, format: (x) => x.toFixed(0) },
  { label: 'peak RSS restore, MB', better: 'lower', value: (r) => r.restorePeakRss && r.restorePeakRss / MB, format: (x) => x.toFixed(0) },
  { label: 'repository after series, GB', better: 'lower', value: (r) => r.seriesRepoBytes && r.seriesRepoBytes / 1e9, format: (x) => x.toFixed(2) },
  { label: 'series backup, s (first pass)', better: 'lower', value: (r) => r.seriesBackupSeconds, format: (x) => x.toFixed(1) },
  { label: 'no-change re-backup, s', better: 'lower', value: (r) => r.rebackupSeconds, format: (x) => x.toFixed(2) },
];

export interface Ratio {
  metric: string;
  other: string;
  /** lifeboat / other */
  ratio: number;
  better: 'higher' | 'lower';
}

export function ratios(results: ToolResult[]): Ratio[] {
  return ratiosOf(ROWS, results);
}

/** Lifeboat's figure divided by each other tool's, row by row. */
export function ratiosOf<R extends Compared>(rows: readonly Row<R>[], results: readonly R[]): Ratio[] {
  const lb = results.find((r) => r.tool === 'lifeboat' && !r.error);
  if (!lb) return [];
  const out: Ratio[] = [];
  for (const other of results.filter((r) => r.tool !== 'lifeboat' && !r.error)) {
    for (const row of rows) {
      const a = row.value(lb);
      const b = row.value(other);
      if (a !== undefined && b !== undefined && b > 0) out.push({ metric: row.label, other: other.tool, ratio: a / b, better: row.better });
    }
  }
  return out;
}

export function renderTable(results: ToolResult[], device?: DeviceLimits): string {
  const limits = device && device.writeSeconds.length
    ? `\ndevice, ${(device.bytes / 1e9).toFixed(2)} GB with dd (median): direct write ${(device.bytes / MB / median(device.writeSeconds)).toFixed(0)} MB/s` +
      (device.readSeconds.length ? `, direct read ${(device.bytes / MB / median(device.readSeconds)).toFixed(0)} MB/s` : ', direct read not measured (not root)')
    : '';
  return renderComparison(ROWS, results) + limits;
}

/** One column per tool, then Lifeboat's ratio to each other tool; failures listed below. */
export function renderComparison<R extends Compared>(rows: readonly Row<R>[], results: readonly R[]): string {
  const others = results.filter((r) => r.tool !== 'lifeboat' && !r.error).map((r) => r.tool);
  const rs = ratiosOf(rows, results);
  const head = ['', ...results.map((r) => r.tool), ...others.map((o) => `lifeboat/${o}`)];
  const lines = rows.map((row) => [
    `${row.label} (${row.better} is better)`,
    ...results.map((r) => {
      const v = r.error ? undefined : row.value(r);
      return v === undefined ? (r.error ? 'failed' : '-') : row.format(v);
    }),
    ...others.map((o) => {
      const x = rs.find((q) => q.metric === row.label && q.other === o);
      return x ? `${x.ratio.toFixed(2)}x` : '-';
    }),
  ]);
  const all = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  const fmt = (l: string[]): string => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const errors = results.filter((r) => r.error).map((r) => `${r.tool} failed: ${r.error}`);
  return [fmt(head), ...lines.map(fmt), ...errors].join('\n');
}

/** Per version: what each tool's repository grew by, as a share of the version's raw size. */
export function renderSeriesTable(results: ToolResult[]): string {
  const ok = results.filter((r) => !r.error && r.series.length > 0);
  if (ok.length === 0) return '';
  const head = ['version', 'raw MB', ...ok.map((r) => `${r.tool} stored`)];
  const rows = ok[0].series.map((step, i) => [
    step.version,
    (step.bytes / 1e6).toFixed(1),
    ...ok.map((r) => {
      const s = r.series[i];
      if (!s) return '-';
      const grew = s.repoBytesAfter - (i > 0 ? r.series[i - 1].repoBytesAfter : 0);
      return `${(grew / 1e6).toFixed(1)} MB ${((100 * grew) / s.bytes).toFixed(1).padStart(5)}%`;
    }),
  ]);
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  return all.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}
