// The bench harness's own parts that decide its figures: peak-RSS measurement, medians,
// Lifeboat ratios, and the asset names it gives each series version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measured, median, ToolFailedError } from '../../bench/lib/measure.js';
import { ratios, renderTable } from '../../bench/lib/table.js';
import { assetOf } from '../../bench/lib/lifeboat.js';
import type { ToolResult } from '../../bench/lib/suite.js';

test('measured() reports the peak RSS of the child process, not of the harness', async () => {
  const hold = (mb: number): string[] => [process.execPath, '-e', `const b = Buffer.alloc(${mb} << 20, 1); setTimeout(() => console.log(b[0]), 200);`];
  const small = await measured(hold(1));
  const big = await measured(hold(300));
  assert.ok(big.peakRss > 300 * 2 ** 20, `peak RSS ${big.peakRss} of a process holding 300 MiB`);
  assert.ok(big.peakRss - small.peakRss > 250 * 2 ** 20, `${big.peakRss} vs ${small.peakRss}`);
  assert.equal(small.stdout.trim(), '1');
  assert.ok(small.seconds >= 0.2 && small.seconds < 10);
  await assert.rejects(measured([process.execPath, '-e', 'console.error("boom"); process.exit(3)']), (e: unknown) => e instanceof ToolFailedError && e.exitCode === 3 && /boom/.test(e.message));
});

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

function result(tool: string, backupMBps: number, repo: number, error?: string): ToolResult {
  return { tool, settings: '', baseBytes: 1, backupSeconds: [1], restoreSeconds: [1], backupMBps, restoreMBps: backupMBps, seriesRepoBytes: repo, series: [], rebackup: [], error };
}

test('ratios are lifeboat / other for every metric both have, and skip failed tools', () => {
  const rs = ratios([result('lifeboat', 400, 3e9), result('restic', 200, 9e9), result('borg', 100, 8e9, 'borg exploded')]);
  const backup = rs.find((r) => r.metric.startsWith('backup base') && r.other === 'restic');
  assert.equal(backup?.ratio, 2);
  assert.equal(backup?.better, 'higher');
  const repo = rs.find((r) => r.metric.startsWith('repository') && r.other === 'restic');
  assert.ok(repo && Math.abs(repo.ratio - 1 / 3) < 1e-9 && repo.better === 'lower');
  assert.ok(!rs.some((r) => r.other === 'borg'));
  const table = renderTable([result('lifeboat', 400, 3e9), result('restic', 200, 9e9), result('borg', 100, 8e9, 'borg exploded')]);
  assert.match(table, /2\.00x/);
  assert.match(table, /borg failed: borg exploded/);
});

test('the table shows the restore variants and the device limits measured in the run', () => {
  const lb = { ...result('lifeboat', 400, 3e9), restoreColdMBps: 300, restoreDurableMBps: 250, durableOverDeviceWrite: 1.2 };
  const rs = { ...result('restic', 200, 9e9), restoreColdMBps: 100, restoreDurableMBps: 125, durableOverDeviceWrite: 2.4 };
  const table = renderTable([lb, rs], { bytes: 2e9, writeSeconds: [2, 4, 3], readSeconds: [5] });
  assert.match(table, /caches dropped, MB\/s.*\b300\b.*\b100\b.*3\.00x/);
  assert.match(table, /then sync, MB\/s.*\b250\b.*\b125\b.*2\.00x/);
  assert.match(table, /device write time.*1\.20x.*2\.40x.*0\.50x/);
  assert.match(table, /direct write 667 MB\/s, direct read 400 MB\/s/);
  assert.doesNotMatch(renderTable([lb, rs], { bytes: 2e9, writeSeconds: [2], readSeconds: [] }), /direct read \d/);
});

test('series versions map to lineage assets', () => {
  assert.deepEqual(['base', 'ft-partial-1', 'ft-full-12', 'lora-2', 'merged-3', 'dataset-v2'].map(assetOf), ['base', 'ft-partial', 'ft-full', 'lora', 'merged', 'dataset']);
});
