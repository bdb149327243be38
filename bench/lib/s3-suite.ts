// The S3 mode's measurements, in one run against one S3 server (the local Ceph RGW):
// - base backup and restore per tool (Lifeboat, restic; borg has no S3 backend) into a fresh
//   prefix of one bucket each repeat, page cache warmed first, each step started on a quiet
//   machine (quiet.ts: the RGW done with what the previous step left it), repeats interleaving the tools,
//   medians reported; peak RSS; the bytes the repository occupies in the bucket; the first
//   restore of each tool verified by SHA-256 against the source;
// - `lifeboat copy --all` of the whole series from a local repository to a second bucket (a new
//   repository with its own password, so every blob is re-encrypted): time, bytes written, peak
//   RSS; then one version restored from the copy and verified.
// Nothing is deleted while the timed steps run: a removed prefix is garbage RGW collects two to
// three minutes later (start-ceph-rgw.sh), in bursts that landed on whichever tool's step ran
// then. Each repeat writes its own prefix; both buckets are removed at the end, also when a tool
// failed. Garbage left by earlier runs is collected before the first timed step (s3.ts).
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compareTrees, treeBytes, warmCache } from './fsutil.js';
import { measured, median } from './measure.js';
import { waitForQuiet, type Quiet } from './quiet.js';
import { resticS3Repo } from './restic.js';
import { bucketBytes, collectGarbage, createBenchBucket, removeBucket, requireS3, type S3Server } from './s3.js';
import type { BaseResult } from './suite.js';
import type { BackupTool } from './tool.js';

export interface S3ToolResult extends BaseResult {
  loadBefore: number[];
  /** the wait for a quiet machine before each backup and each restore (quiet.ts) */
  quietBefore: Array<{ backup: Quiet; restore: Quiet }>;
  /** bytes of the repository's objects in the bucket after each base backup */
  storedBytes: number[];
}

export interface S3CopyResult {
  error?: string;
  versions: number;
  seriesBytes: number;
  /** backing the series up into the local source repository (not the figure; for context) */
  localBackupSeconds?: number;
  localRepoBytes?: number;
  seconds?: number;
  peakRss?: number;
  /** from `lifeboat copy --json`: new packs and their bytes at the destination, stored bytes read at the source */
  packs?: number;
  bytesWritten?: number;
  bytesRead?: number;
  snapshotsCopied?: number;
  /** the destination repository's objects in the bucket, listed after the copy */
  bucketBytes?: number;
  bucketObjects?: number;
  /** bytesWritten / seconds */
  writtenMBps?: number;
  /** the version restored from the copy and compared by SHA-256 */
  verifiedVersion?: string;
}

export interface S3SuitePlan {
  workDir: string;
  seriesDir: string;
  versions: Array<{ name: string; bytes: number }>;
  repeats: number;
  server: S3Server;
  /** how to run Lifeboat, and the passwords of the source and the copy */
  lifeboat: { command: string[]; password: string };
  log: (line: string) => void;
}

export interface S3SuiteResult {
  endpoint: string;
  buckets: string[];
  tools: S3ToolResult[];
  copy?: S3CopyResult;
}

function repoUrl(tool: string, plan: S3SuitePlan, bucket: string, prefix: string): string {
  return tool === 'restic' ? resticS3Repo(plan.server.endpoint, bucket, prefix) : `s3://${bucket}/${prefix}`;
}

async function freshDir(p: string): Promise<string> {
  await rm(p, { recursive: true, force: true });
  await mkdir(p, { recursive: true });
  return p;
}

async function baseRepeat(tool: BackupTool, plan: S3SuitePlan, bucket: string, r: S3ToolResult, i: number): Promise<{ backupRss: number; restoreRss: number }> {
  const baseDir = path.join(plan.seriesDir, 'base');
  const prefix = `${tool.name}-base-${i}`;
  const repo = repoUrl(tool.name, plan, bucket, prefix);
  await tool.init(repo);
  await warmCache(baseDir);
  r.loadBefore.push(+os.loadavg()[0].toFixed(2));
  const quiet = { backup: await waitForQuiet(), restore: { waitedMs: 0, busy: 0, syncMs: 0 } };
  const b = await tool.backup({ repo, dir: baseDir, version: 'base' });
  r.storedBytes.push((await bucketBytes(plan.server, bucket, `${prefix}/`)).bytes);
  const target = await freshDir(path.join(plan.workDir, 'restore', `${tool.name}-s3-${i}`));
  quiet.restore = await waitForQuiet();
  r.quietBefore.push(quiet);
  const rs = await tool.restore(repo, 'base', baseDir, target);
  r.backupSeconds.push(b.seconds);
  r.restoreSeconds.push(rs.seconds);
  plan.log(`${tool.name} S3 base #${i}: backup ${(r.baseBytes / 1e6 / b.seconds).toFixed(0)} MB/s (${(b.peakRss / 1e6).toFixed(0)} MB RSS), restore ${(r.baseBytes / 1e6 / rs.seconds).toFixed(0)} MB/s (${(rs.peakRss / 1e6).toFixed(0)} MB RSS), ${(r.storedBytes[r.storedBytes.length - 1] / 1e6).toFixed(0)} MB in the bucket, load ${os.loadavg()[0].toFixed(1)}, waited ${(quiet.backup.waitedMs / 1000).toFixed(1)} / ${(quiet.restore.waitedMs / 1000).toFixed(1)} s for a quiet machine`);
  if (i === 1) {
    const problems = await compareTrees(baseDir, rs.restoredDir);
    if (problems.length) throw new Error(`restore of base from S3 by ${tool.name} does not match the source: ${problems.slice(0, 5).join('; ')}`);
    r.restoreVerified = true;
  }
  await rm(target, { recursive: true, force: true });
  return { backupRss: b.peakRss, restoreRss: rs.peakRss };
}

async function measureBase(tools: BackupTool[], plan: S3SuitePlan, bucket: string): Promise<S3ToolResult[]> {
  const baseBytes = plan.versions.find((v) => v.name === 'base')?.bytes ?? 0;
  const results = tools.map((t): S3ToolResult => ({ tool: t.name, settings: t.settings, baseBytes, backupSeconds: [], restoreSeconds: [], loadBefore: [], quietBefore: [], storedBytes: [] }));
  const fail = (r: S3ToolResult, e: unknown): void => {
    r.error = (e as Error).message;
    plan.log(`${r.tool}: ${r.error}`);
  };
  for (let t = 0; t < tools.length; t++) await tools[t].version().then((v) => (results[t].version = v), (e) => fail(results[t], e));
  const rss = results.map(() => ({ backup: [] as number[], restore: [] as number[] }));
  for (let i = 1; i <= plan.repeats; i++) {
    for (let t = 0; t < tools.length; t++) {
      if (results[t].error) continue;
      await baseRepeat(tools[t], plan, bucket, results[t], i).then((x) => {
        rss[t].backup.push(x.backupRss);
        rss[t].restore.push(x.restoreRss);
      }, (e) => fail(results[t], e));
    }
  }
  for (const [t, r] of results.entries()) {
    if (r.error) continue;
    r.backupMBps = r.baseBytes / 1e6 / median(r.backupSeconds);
    r.restoreMBps = r.baseBytes / 1e6 / median(r.restoreSeconds);
    r.backupPeakRss = Math.max(...rss[t].backup);
    r.restorePeakRss = Math.max(...rss[t].restore);
  }
  return results;
}

interface CopyJson {
  copied: number;
  packs: number;
  bytesWritten: number;
  bytesRead: number;
  snapshots: Array<{ sourceId: string; destinationId: string }>;
}

/** The series into a local repository (one snapshot per version, as the series mode does), then `lifeboat copy --all` of it to a fresh bucket. */
async function measureCopy(lifeboat: BackupTool, plan: S3SuitePlan, bucket: string): Promise<S3CopyResult> {
  const c: S3CopyResult = { versions: plan.versions.length, seriesBytes: plan.versions.reduce((s, v) => s + v.bytes, 0) };
  const local = path.join(plan.workDir, 'repos', 'lifeboat-copy-source');
  const env = { LIFEBOAT_PASSWORD: plan.lifeboat.password, LIFEBOAT_TO_PASSWORD: `${plan.lifeboat.password}-replica` };
  try {
    await rm(local, { recursive: true, force: true });
    await mkdir(path.dirname(local), { recursive: true });
    await lifeboat.init(local);
    await warmCache(plan.seriesDir);
    const sourceIds = new Map<string, string>(); // version -> snapshot id in the local repository
    let seconds = 0;
    for (const v of plan.versions) {
      const b = await lifeboat.backup({ repo: local, dir: path.join(plan.seriesDir, v.name), version: v.name });
      sourceIds.set(v.name, (JSON.parse(b.stdout) as { id: string }).id);
      seconds += b.seconds;
    }
    c.localBackupSeconds = seconds;
    c.localRepoBytes = await treeBytes(local);
    plan.log(`copy source: the series in a local repository, ${(c.localRepoBytes / 1e9).toFixed(2)} GB, backed up in ${seconds.toFixed(1)} s`);
    const to = `s3://${bucket}/lifeboat-copy`;
    const m = await measured([...plan.lifeboat.command, 'copy', '-r', local, '--to', to, '--init', '--all', '--json'], { env });
    const doc = JSON.parse(m.stdout) as CopyJson;
    Object.assign(c, { seconds: m.seconds, peakRss: m.peakRss, packs: doc.packs, bytesWritten: doc.bytesWritten, bytesRead: doc.bytesRead, snapshotsCopied: doc.copied, writtenMBps: doc.bytesWritten / 1e6 / m.seconds });
    const listed = await bucketBytes(plan.server, bucket, 'lifeboat-copy/');
    c.bucketBytes = listed.bytes;
    c.bucketObjects = listed.objects;
    plan.log(`lifeboat copy --all to ${to}: ${m.seconds.toFixed(1)} s, ${(doc.bytesWritten / 1e6).toFixed(0)} MB written (${c.writtenMBps!.toFixed(0)} MB/s), ${(m.peakRss / 1e6).toFixed(0)} MB RSS`);
    if (doc.copied !== plan.versions.length) throw new Error(`lifeboat copy copied ${doc.copied} snapshot(s), not the ${plan.versions.length} of the series`);
    c.verifiedVersion = await verifyCopy(plan, to, sourceIds, doc, env);
  } catch (e) {
    c.error = (e as Error).message;
    plan.log(`lifeboat copy: ${c.error}`);
  } finally {
    await rm(local, { recursive: true, force: true });
  }
  return c;
}

/** Restores one version from the copy (the newest full fine-tune: a chain of deltas, when the series has one) and compares it with its source. */
async function verifyCopy(plan: S3SuitePlan, to: string, sourceIds: Map<string, string>, doc: CopyJson, env: Record<string, string>): Promise<string> {
  const v = plan.versions.filter((x) => x.name.startsWith('ft-full')).pop() ?? plan.versions[plan.versions.length - 1];
  const copied = doc.snapshots.find((s) => s.sourceId === sourceIds.get(v.name));
  if (!copied) throw new Error(`lifeboat copy --json names no copy of ${v.name} (${sourceIds.get(v.name)})`);
  const target = await freshDir(path.join(plan.workDir, 'restore', 'lifeboat-copy'));
  try {
    await measured([...plan.lifeboat.command, 'restore', '-r', to, copied.destinationId, '--target', target, '--json'], { env: { LIFEBOAT_PASSWORD: env.LIFEBOAT_TO_PASSWORD } });
    const problems = await compareTrees(path.join(plan.seriesDir, v.name), target);
    if (problems.length) throw new Error(`${v.name} restored from the copy does not match the source: ${problems.slice(0, 5).join('; ')}`);
    plan.log(`${v.name} restored from the copy matches the source`);
    return v.name;
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}

/** Every S3 measurement; a tool's failure is recorded in its `error`, and the others go on. */
export async function runS3Suite(tools: BackupTool[], plan: S3SuitePlan): Promise<S3SuiteResult> {
  await requireS3(plan.server);
  const out: S3SuiteResult = { endpoint: plan.server.endpoint, buckets: [], tools: [] };
  try {
    const base = await createBenchBucket(plan.server, 'base');
    out.buckets.push(base);
    const collected = await collectGarbage();
    if (collected) plan.log(`RGW's garbage collected before the run (${collected})`);
    out.tools = await measureBase(tools, plan, base);
    const lifeboat = tools.find((t) => t.name === 'lifeboat');
    if (lifeboat) {
      const copyBucket = await createBenchBucket(plan.server, 'copy');
      out.buckets.push(copyBucket);
      out.copy = await measureCopy(lifeboat, plan, copyBucket);
    }
  } finally {
    for (const b of out.buckets) await removeBucket(plan.server, b).catch((e: Error) => plan.log(`could not remove bucket ${b}: ${e.message}`));
    if (out.buckets.length) plan.log(`removed buckets ${out.buckets.join(', ')}`);
  }
  return out;
}
