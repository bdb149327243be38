// node dist/bench/report.js RESULTS.json — prints the tables of a finished bench run again
// (the summary with ratios, and per version what each repository grew by).
import { readFileSync } from 'node:fs';
import { renderSeriesTable, renderTable } from './lib/table.js';
import type { DeviceLimits } from './lib/device.js';
import type { ToolResult } from './lib/suite.js';
import type { SparseResult } from './lib/sparse.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/bench/report.js RESULTS.json\n');
  process.exit(2);
}
const doc = JSON.parse(readFileSync(file, 'utf8')) as { date: string; options: { paramsLabel: string; dtype: string }; series?: { totalBytes: number }; tools: ToolResult[]; sparse: SparseResult[]; device?: DeviceLimits };
process.stdout.write(`${doc.options.paramsLabel} ${doc.options.dtype}, ${((doc.series?.totalBytes ?? 0) / 1e9).toFixed(2)} GB series, ${doc.date}\n\n`);
process.stdout.write(renderTable(doc.tools, doc.device) + '\n\n' + renderSeriesTable(doc.tools) + '\n');
for (const s of doc.sparse) {
  process.stdout.write(`\nsparse ${(s.fileBytes / 1e9).toFixed(0)} GB file, ${(s.dataBytes / 1e6).toFixed(1)} MB data, ${s.tool}: ` +
    (s.error ? `failed: ${s.error}` : `backup ${s.backupSeconds?.toFixed(1)} s, peak RSS ${((s.backupPeakRss ?? 0) / 1e6).toFixed(0)} MB; restore ${s.restoreSeconds?.toFixed(1)} s, peak RSS ${((s.restorePeakRss ?? 0) / 1e6).toFixed(0)} MB; restored allocation ${((s.restoredAllocated ?? 0) / 1e6).toFixed(1)} MB (${s.restoredSparse ? 'sparse' : 'NOT sparse'}), data ${s.dataMatches ? 'matches' : 'DIFFERS'}`) + '\n');
}
