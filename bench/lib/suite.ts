// One tool's measurements, in one run: base backup and restore (median of repeats, fresh
// repository each time, page cache warmed first), peak RSS of both, then the whole series as
// one snapshot per version in order, the repository size after it, and the no-change
// re-backup of every version.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { compareTrees, treeBytes, warmCache } from './fsutil.js';
import { median } from './measure.js';
import type { BackupTool } from './tool.js';

export interface SeriesStep {
  version: string;
  bytes: number;
  seconds: number;
  peakRss: number;
  repoBytesAfter: number;
}

export interface ToolResult {
  tool: string;
  version?: string;
  settings: string;
  error?: string;
  baseBytes: number;
  backupSeconds: number[];
  restoreSeconds: number[];
  backupMBps?: number;
  restoreMBps?: number;
  backupPeakRss?: number;
  restorePeakRss?: number;
  restoreVerified?: boolean;
  series: SeriesStep[];
  seriesRepoBytes?: number;
  seriesBackupSeconds?: number;
  rebackupSeconds?: number;
  rebackup: Array<{ version: string; seconds: number }>;
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

async function freshDir(p: string): Promise<string> {
  await rm(p, { recursive: true, force: true });
  await mkdir(p, { recursive: true });
  return p;
}

async function measureBase(tool: BackupTool, plan: SuitePlan, r: ToolResult): Promise<void> {
  const baseDir = path.join(plan.seriesDir, 'base');
  const rssB: number[] = [];
  const rssR: number[] = [];
  for (let i = 1; i <= plan.repeats; i++) {
    const repo = path.join(plan.workDir, 'repos', `${tool.name}-base-${i}`);
    await rm(repo, { recursive: true, force: true });
    await mkdir(path.dirname(repo), { recursive: true });
    await tool.init(repo);
    await warmCache(baseDir);
    const b = await tool.backup({ repo, dir: baseDir, version: 'base' });
    const target = await freshDir(path.join(plan.workDir, 'restore', `${tool.name}-${i}`));
    const rs = await tool.restore(repo, 'base', baseDir, target);
    r.backupSeconds.push(b.seconds);
    r.restoreSeconds.push(rs.seconds);
    rssB.push(b.peakRss);
    rssR.push(rs.peakRss);
    plan.log(`${tool.name} base #${i}: backup ${(r.baseBytes / 1e6 / b.seconds).toFixed(0)} MB/s (${(b.peakRss / 1e6).toFixed(0)} MB RSS), restore ${(r.baseBytes / 1e6 / rs.seconds).toFixed(0)} MB/s (${(rs.peakRss / 1e6).toFixed(0)} MB RSS)`);
    if (i === 1) {
      const problems = await compareTrees(baseDir, rs.restoredDir);
      if (problems.length) throw new Error(`restore of base by ${tool.name} does not match the source: ${problems.slice(0, 5).join('; ')}`);
      r.restoreVerified = true;
    }
    await rm(target, { recursive: true, force: true });
    await rm(repo, { recursive: true, force: true });
  }
  r.backupMBps = r.baseBytes / 1e6 / median(r.backupSeconds);
  r.restoreMBps = r.baseBytes / 1e6 / median(r.restoreSeconds);
  r.backupPeakRss = Math.max(...rssB);
  r.restorePeakRss = Math.max(...rssR);
}

async function measureSeries(tool: BackupTool, plan: SuitePlan, r: ToolResult): Promise<void> {
  const repo = path.join(plan.workDir, 'repos', `${tool.name}-series`);
  await rm(repo, { recursive: true, force: true });
  await tool.init(repo);
  await warmCache(plan.seriesDir);
  for (const v of plan.versions) {
    const b = await tool.backup({ repo, dir: path.join(plan.seriesDir, v.name), version: v.name });
    const repoBytesAfter = await treeBytes(repo);
    r.series.push({ version: v.name, bytes: v.bytes, seconds: b.seconds, peakRss: b.peakRss, repoBytesAfter });
    plan.log(`${tool.name} series ${v.name}: ${b.seconds.toFixed(2)} s, repository ${(repoBytesAfter / 1e9).toFixed(3)} GB`);
  }
  r.seriesRepoBytes = r.series[r.series.length - 1]?.repoBytesAfter;
  r.seriesBackupSeconds = r.series.reduce((s, x) => s + x.seconds, 0);
  for (const v of plan.versions) {
    const b = await tool.backup({ repo, dir: path.join(plan.seriesDir, v.name), version: v.name, again: true });
    r.rebackup.push({ version: v.name, seconds: b.seconds });
  }
  r.rebackupSeconds = r.rebackup.reduce((s, x) => s + x.seconds, 0);
  plan.log(`${tool.name} no-change re-backup of ${plan.versions.length} versions: ${r.rebackupSeconds.toFixed(2)} s`);
  if (plan.extra) r.extra = await plan.extra(tool, repo);
  await rm(repo, { recursive: true, force: true });
}

/** Runs every measurement for one tool; a failure is recorded in `error`, not thrown, so the other tools still run. */
export async function runTool(tool: BackupTool, plan: SuitePlan, parts: { base: boolean; series: boolean }): Promise<ToolResult> {
  const base = plan.versions.find((v) => v.name === 'base');
  const r: ToolResult = { tool: tool.name, settings: tool.settings, baseBytes: base?.bytes ?? 0, backupSeconds: [], restoreSeconds: [], series: [], rebackup: [] };
  try {
    r.version = await tool.version();
    if (parts.base && base) await measureBase(tool, plan, r);
    if (parts.series) await measureSeries(tool, plan, r);
  } catch (e) {
    r.error = (e as Error).message;
    plan.log(`${tool.name}: ${r.error}`);
  }
  return r;
}
