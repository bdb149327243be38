// The measurements, in one run: base backup and restore (median of repeats, fresh repository
// each time, page cache warmed first; repeats interleave the tools so that load from other
// processes hits all of them alike), peak RSS of both, then per tool the whole series as one
// snapshot per version in order, the repository size after it, and the no-change re-backup
// of every version. Each base repeat restores three ways, what users wait for: with the
// repository in the page cache, after the caches are dropped (root), and followed by `sync`
// (until the restored bytes are on the device); and measures the device's own direct write and
// read of the same bytes (device.ts).
import { spawnSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dropCaches, measureDevice, type DeviceLimits } from './device.js';
import { compareTrees, treeBytes, warmCache } from './fsutil.js';
import { median } from './measure.js';
import type { BackupTool } from './tool.js';

export interface SeriesStep {
  version: string;
  bytes: number;
  seconds: number;
  peakRss: number;
  repoBytesAfter: number;
  detail?: unknown;
}

/** A tool's base backups and restores: what the series bench and the S3 bench both measure. */
export interface BaseResult {
  tool: string;
  version?: string;
  settings: string;
  error?: string;
  baseBytes: number;
  backupSeconds: number[];
  /** restores with the repository in the page cache */
  restoreSeconds: number[];
  /** restores after the page cache was dropped (empty when the bench cannot drop it: not root) */
  restoreColdSeconds?: number[];
  /** restores followed by sync(1), the repository in the page cache: until the bytes are durable */
  restoreDurableSeconds?: number[];
  /** 1-minute load average before each base repeat (other processes on the machine) */
  loadBefore?: number[];
  backupMBps?: number;
  restoreMBps?: number;
  restoreColdMBps?: number;
  restoreDurableMBps?: number;
  /** median restore-to-durable time over the median device direct write time of the same bytes */
  durableOverDeviceWrite?: number;
  backupPeakRss?: number;
  restorePeakRss?: number;
  restoreVerified?: boolean;
}

export interface ToolResult extends BaseResult {
  series: SeriesStep[];
  seriesRepoBytes?: number;
  seriesBackupSeconds?: number;
  rebackupSeconds?: number;
  rebackup: Array<{ version: string; seconds: number; detail?: unknown }>;
  extra?: unknown;
}

export interface SuitePlan {
  workDir: string;
  seriesDir: string;
  versions: Array<{ name: string; bytes: number }>;
  repeats: number;
  log: (line: string) => void;
  /** tool-specific facts to keep (e.g. lifeboat stats), read from the series repository */
  extra?: (tool: BackupTool, repo: string) => Promise<unknown>;
}

export interface SuiteResult {
  tools: ToolResult[];
  /** the device's direct write and read of the base's bytes, once per repeat */
  device?: DeviceLimits;
}

async function freshDir(p: string): Promise<string> {
  await rm(p, { recursive: true, force: true });
  await mkdir(p, { recursive: true });
  return p;
}

async function baseRepeat(tool: BackupTool, plan: SuitePlan, r: ToolResult, i: number): Promise<{ backupRss: number; restoreRss: number }> {
  const baseDir = path.join(plan.seriesDir, 'base');
  const repo = path.join(plan.workDir, 'repos', `${tool.name}-base-${i}`);
  await rm(repo, { recursive: true, force: true });
  await mkdir(path.dirname(repo), { recursive: true });
  await tool.init(repo);
  await warmCache(baseDir);
  (r.loadBefore ??= []).push(+os.loadavg()[0].toFixed(2));
  const b = await tool.backup({ repo, dir: baseDir, version: 'base' });
  r.backupSeconds.push(b.seconds);
  const mbps = (s: number) => `${(r.baseBytes / 1e6 / s).toFixed(0)} MB/s`;
  const restoreOnce = async (cache: 'warm' | 'cold', durable: boolean) => {
    const target = await freshDir(path.join(plan.workDir, 'restore', `${tool.name}-${i}`));
    if (cache === 'warm') await warmCache(repo);
    else if (!(await dropCaches(plan.log))) return undefined;
    spawnSync('sync'); // only the restore's own writes are left for the timed sync
    const rs = await tool.restore(repo, 'base', baseDir, target);
    const seconds = durable ? rs.seconds + timedSync() : rs.seconds;
    return { ...rs, seconds, target };
  };
  const warm = await restoreOnce('warm', false);
  r.restoreSeconds.push(warm!.seconds);
  if (i === 1) {
    const problems = await compareTrees(baseDir, warm!.restoredDir);
    if (problems.length) throw new Error(`restore of base by ${tool.name} does not match the source: ${problems.slice(0, 5).join('; ')}`);
    r.restoreVerified = true;
  }
  const cold = await restoreOnce('cold', false);
  if (cold) (r.restoreColdSeconds ??= []).push(cold.seconds);
  const durable = await restoreOnce('warm', true);
  (r.restoreDurableSeconds ??= []).push(durable!.seconds);
  plan.log(
    `${tool.name} base #${i}: backup ${mbps(b.seconds)} (${(b.peakRss / 1e6).toFixed(0)} MB RSS), restore ${mbps(warm!.seconds)} (${(warm!.peakRss / 1e6).toFixed(0)} MB RSS), ` +
      `cold ${cold ? mbps(cold.seconds) : '-'}, to durable ${mbps(durable!.seconds)}, load ${os.loadavg()[0].toFixed(1)}`,
  );
  await rm(path.join(plan.workDir, 'restore'), { recursive: true, force: true });
  await rm(repo, { recursive: true, force: true });
  return { backupRss: b.peakRss, restoreRss: Math.max(warm!.peakRss, cold?.peakRss ?? 0, durable!.peakRss) };
}

function timedSync(): number {
  const t0 = process.hrtime.bigint();
  spawnSync('sync');
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function measureSeries(tool: BackupTool, plan: SuitePlan, r: ToolResult): Promise<void> {
  const repo = path.join(plan.workDir, 'repos', `${tool.name}-series`);
  await rm(repo, { recursive: true, force: true });
  await mkdir(path.dirname(repo), { recursive: true });
  await tool.init(repo);
  await warmCache(plan.seriesDir);
  for (const v of plan.versions) {
    const b = await tool.backup({ repo, dir: path.join(plan.seriesDir, v.name), version: v.name });
    const repoBytesAfter = await treeBytes(repo);
    r.series.push({ version: v.name, bytes: v.bytes, seconds: b.seconds, peakRss: b.peakRss, repoBytesAfter, detail: b.detail });
    plan.log(`${tool.name} series ${v.name}: ${b.seconds.toFixed(2)} s, repository ${(repoBytesAfter / 1e9).toFixed(3)} GB`);
  }
  r.seriesRepoBytes = r.series[r.series.length - 1]?.repoBytesAfter;
  r.seriesBackupSeconds = r.series.reduce((s, x) => s + x.seconds, 0);
  for (const v of plan.versions) {
    const b = await tool.backup({ repo, dir: path.join(plan.seriesDir, v.name), version: v.name, again: true });
    r.rebackup.push({ version: v.name, seconds: b.seconds, detail: b.detail });
  }
  r.rebackupSeconds = r.rebackup.reduce((s, x) => s + x.seconds, 0);
  plan.log(`${tool.name} no-change re-backup of ${plan.versions.length} versions: ${r.rebackupSeconds.toFixed(2)} s`);
  if (plan.extra) r.extra = await plan.extra(tool, repo);
  await rm(repo, { recursive: true, force: true });
}

function fail(r: ToolResult, e: unknown, log: (s: string) => void): void {
  r.error = (e as Error).message;
  log(`${r.tool}: ${r.error}`);
}

/** Runs every measurement for every tool; a tool's failure is recorded in its `error`, and the others go on. */
export async function runSuite(tools: BackupTool[], plan: SuitePlan): Promise<SuiteResult> {
  const base = plan.versions.find((v) => v.name === 'base');
  const results = tools.map((t): ToolResult => ({ tool: t.name, settings: t.settings, baseBytes: base?.bytes ?? 0, backupSeconds: [], restoreSeconds: [], series: [], rebackup: [] }));
  for (let t = 0; t < tools.length; t++) await tools[t].version().then((v) => (results[t].version = v), (e) => fail(results[t], e, plan.log));
  const rss = results.map(() => ({ backup: [] as number[], restore: [] as number[] }));
  let device: DeviceLimits | undefined;
  if (base) {
    device = { bytes: base.bytes, writeSeconds: [], readSeconds: [] };
    for (let i = 1; i <= plan.repeats; i++) {
      await warmCache(path.join(plan.seriesDir, 'base'));
      await measureDevice(path.join(plan.seriesDir, 'base'), path.join(plan.workDir, 'device-probe'), device, plan.log);
      for (let t = 0; t < tools.length; t++) {
        if (results[t].error) continue;
        await baseRepeat(tools[t], plan, results[t], i).then((x) => {
          rss[t].backup.push(x.backupRss);
          rss[t].restore.push(x.restoreRss);
        }, (e) => fail(results[t], e, plan.log));
      }
    }
    results.forEach((r, t) => {
      if (r.error) return;
      r.backupMBps = r.baseBytes / 1e6 / median(r.backupSeconds);
      r.restoreMBps = r.baseBytes / 1e6 / median(r.restoreSeconds);
      if (r.restoreColdSeconds?.length) r.restoreColdMBps = r.baseBytes / 1e6 / median(r.restoreColdSeconds);
      if (r.restoreDurableSeconds?.length) r.restoreDurableMBps = r.baseBytes / 1e6 / median(r.restoreDurableSeconds);
      if (r.restoreDurableSeconds?.length && device?.writeSeconds.length) r.durableOverDeviceWrite = median(r.restoreDurableSeconds) / median(device.writeSeconds);
      r.backupPeakRss = Math.max(...rss[t].backup);
      r.restorePeakRss = Math.max(...rss[t].restore);
    });
  }
  for (let t = 0; t < tools.length; t++) {
    if (!results[t].error) await measureSeries(tools[t], plan, results[t]).catch((e) => fail(results[t], e, plan.log));
  }
  return { tools: results, device };
}
