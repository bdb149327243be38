// npm run bench: generate the series, measure Lifeboat, restic and borg on it in one run, print
// the table and ratios, write the results JSON. See docs/bench.md.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GenOptionError } from './gen/options.js';
import { generateSeries, type SeriesManifest } from './gen/series.js';
import { HELP, parseBenchArgs, type BenchArgs } from './lib/args.js';
import { borgTool } from './lib/borg.js';
import { ensureTools } from './lib/install.js';
import { lifeboatStats, lifeboatTool } from './lib/lifeboat.js';
import { run } from './lib/measure.js';
import { resticTool } from './lib/restic.js';
import { s3ServerFromEnv, s3ToolEnv } from './lib/s3.js';
import { runS3Suite, type S3SuiteResult } from './lib/s3-suite.js';
import { renderS3Table, s3Ratios } from './lib/s3-table.js';
import { runSparse, type SparseResult } from './lib/sparse.js';
import type { DeviceLimits } from './lib/device.js';
import { runSuite, type ToolResult } from './lib/suite.js';
import { ratios, renderSeriesTable, renderTable } from './lib/table.js';
import type { BackupTool, ToolContext } from './lib/tool.js';

const log = (line: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** What the bench creates inside a --work directory given by the user (only these are deleted). */
const OWNED = ['series', 'repos', 'restore', 'sparse', 'restic-cache', 'borg-base'];

const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function toolsFor(a: BenchArgs, ctx: ToolContext, lifeboatCmd: string[]): BackupTool[] {
  const all: Record<string, () => BackupTool> = {
    lifeboat: () => lifeboatTool(ctx, lifeboatCmd),
    restic: () => resticTool(ctx, a.resticCompression),
    borg: () => borgTool(ctx, a.borgCompression),
  };
  return a.tools.map((t) => all[t]());
}

async function seriesFor(a: BenchArgs, workDir: string): Promise<{ dir: string; manifest: SeriesManifest }> {
  if (a.seriesDir) {
    const manifest = JSON.parse(readFileSync(path.join(a.seriesDir, 'series-manifest.json'), 'utf8')) as SeriesManifest;
    return { dir: a.seriesDir, manifest };
  }
  const dir = path.join(workDir, 'series');
  const approxBytes = a.params * (a.dtype === 'fp32' ? 4 : 2) * 10;
  const fs = await statfs(workDir);
  if (fs.bavail * fs.bsize < approxBytes * 1.8) {
    throw new Error(`${workDir} has ${(fs.bavail * fs.bsize / 1e9).toFixed(0)} GB free; the series (~${(approxBytes / 1e9).toFixed(0)} GB) and the repositories need ~${(approxBytes * 1.8 / 1e9).toFixed(0)} GB. Use a smaller --params or another --work.`);
  }
  log(`generating the ${a.paramsLabel} ${a.dtype} series in ${dir}`);
  const manifest = await generateSeries({ out: dir, params: a.params, dtype: a.dtype, seed: a.seed, ...(a.series ? { series: a.series } : {}), log });
  return { dir, manifest };
}

/** S3 mode: Lifeboat and restic against the S3 server (borg has no S3 backend). */
async function runS3(a: BenchArgs, ctx: ToolContext, lifeboatCmd: string[], tools: BackupTool[], seriesDir: string, manifest: SeriesManifest): Promise<S3SuiteResult> {
  const server = s3ServerFromEnv(process.env);
  Object.assign(process.env, s3ToolEnv(server)); // the tools' processes inherit it
  if (tools.some((t) => t.name === 'borg')) log('S3 mode: borg has no S3 backend, so it is left out');
  const plan = {
    workDir: ctx.workDir,
    seriesDir,
    versions: manifest.versions.map((v) => ({ name: v.name, bytes: v.bytes })),
    repeats: a.repeats,
    server,
    lifeboat: { command: lifeboatCmd, password: ctx.password },
    log,
  };
  const s3 = await runS3Suite(tools.filter((t) => t.name !== 'borg'), plan);
  process.stdout.write(`
${a.paramsLabel} ${a.dtype}, base ${((manifest.versions.find((v) => v.name === 'base')?.bytes ?? 0) / 1e9).toFixed(2)} GB, against S3 at ${server.endpoint}; ${os.cpus().length} cores
`);
  process.stdout.write(renderS3Table(s3) + '\n');
  return s3;
}

async function gitCommit(): Promise<string | undefined> {
  return run(['git', '-C', checkout, 'rev-parse', '--short', 'HEAD']).then((s) => s.trim(), () => undefined);
}

async function main(): Promise<number> {
  const a = parseBenchArgs(process.argv.slice(2));
  if (!a) {
    process.stdout.write(HELP);
    return 0;
  }
  if (a.install && a.tools.some((t) => t !== 'lifeboat')) await ensureTools(log);
  else if (!existsSync('/usr/bin/time')) throw new Error('GNU time (/usr/bin/time) is needed for peak RSS: apt-get install -y time');
  const workDir = a.work ?? (await mkdtemp(path.join(os.tmpdir(), 'lifeboat-bench-')));
  await mkdir(workDir, { recursive: true });
  const ctx: ToolContext = { workDir, password: 'bench-password-not-secret' };
  const lifeboatCmd = a.lifeboat ?? [process.execPath, path.join(checkout, 'bin', 'lifeboat.js')];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const resultsFile = a.results ?? path.join(os.tmpdir(), `lifeboat-bench-${a.paramsLabel}-${a.dtype}-${stamp}.json`);
  const tools = toolsFor(a, ctx, lifeboatCmd);
  if (!a.keep) {
    // an interrupted run must not leave ~30 GB behind in /tmp
    const cleanup = (): void => {
      if (a.work) for (const sub of OWNED) rmSync(path.join(workDir, sub), { recursive: true, force: true });
      else rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    };
    process.once('SIGINT', cleanup);
    process.once('SIGTERM', cleanup);
  }
  const commitAtStart = await gitCommit(); // the checkout may move while the bench runs
  const results: ToolResult[] = [];
  let device: DeviceLimits | undefined;
  const sparse: SparseResult[] = [];
  let manifest: SeriesManifest | undefined;
  let s3: S3SuiteResult | undefined;
  try {
    if (a.mode === 's3') {
      const s = await seriesFor(a, workDir);
      manifest = s.manifest;
      s3 = await runS3(a, ctx, lifeboatCmd, tools, s.dir, manifest);
    }
    if (a.mode === 'all' || a.mode === 'series') {
      const s = await seriesFor(a, workDir);
      manifest = s.manifest;
      const plan = {
        workDir,
        seriesDir: s.dir,
        versions: manifest.versions.map((v) => ({ name: v.name, bytes: v.bytes })),
        repeats: a.repeats,
        log,
        extra: async (tool: BackupTool, repo: string) => (tool.name === 'lifeboat' ? lifeboatStats(lifeboatCmd, ctx, repo).catch((e: Error) => ({ error: e.message })) : undefined),
      };
      const suite = await runSuite(tools, plan);
      results.push(...suite.tools);
      device = suite.device;
      process.stdout.write(`\n${a.paramsLabel} ${a.dtype} series: ${(manifest.totalBytes / 1e9).toFixed(2)} GB in ${manifest.versions.length} versions, base ${((manifest.versions.find((v) => v.name === 'base')?.bytes ?? 0) / 1e9).toFixed(2)} GB; ${os.cpus().length} cores\n`);
      process.stdout.write(renderTable(results, device) + '\n\nrepository growth per version (stored / raw):\n' + renderSeriesTable(results) + '\n');
    }
    if (a.mode === 'all' || a.mode === 'sparse') {
      const lb = tools.find((t) => t.name === 'lifeboat');
      if (lb) sparse.push(await runSparse(lb, workDir, a.sparseBytes, 64, log));
      for (const s of sparse) {
        process.stdout.write(`\nsparse ${(s.fileBytes / 1e9).toFixed(0)} GB file (${(s.dataBytes / 1e6).toFixed(1)} MB data), ${s.tool}: ` +
          (s.error ? `failed: ${s.error}\n` : `backup ${s.backupSeconds?.toFixed(1)} s / ${((s.backupPeakRss ?? 0) / 1e6).toFixed(0)} MB peak RSS, restore ${s.restoreSeconds?.toFixed(1)} s / ${((s.restorePeakRss ?? 0) / 1e6).toFixed(0)} MB peak RSS, restored file allocates ${((s.restoredAllocated ?? 0) / 1e6).toFixed(1)} MB: ${s.restoredSparse ? 'sparse' : 'NOT sparse'}, data ${s.dataMatches ? 'matches' : 'DIFFERS'}\n`));
      }
    }
    const doc = {
      date: new Date().toISOString(),
      machine: { loadAverageAtEnd: os.loadavg(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryBytes: os.totalmem(), kernel: os.release(), node: process.version },
      checkoutCommitAtStart: commitAtStart,
      rssMethod: 'GNU time -f %M (ru_maxrss of the tool process, KiB x 1024)',
      options: { ...a, lifeboat: lifeboatCmd },
      series: manifest && { totalBytes: manifest.totalBytes, shape: manifest.shape, versions: manifest.versions, generatorSeconds: manifest.seconds },
      device,
      tools: results,
      ratios: ratios(results),
      sparse,
      ...(s3 ? { s3: { ...s3, ratios: s3Ratios(s3.tools) } } : {}),
    };
    await writeFile(resultsFile, JSON.stringify(doc, null, 2) + '\n');
    process.stdout.write(`\nresults: ${resultsFile}\n`);
  } finally {
    if (a.keep) log(`kept ${workDir}`);
    else if (a.work) for (const sub of OWNED) await rm(path.join(workDir, sub), { recursive: true, force: true });
    else await rm(workDir, { recursive: true, force: true });
  }
  const failed = results.some((r) => r.error) || sparse.some((s) => s.error) || !!s3?.tools.some((r) => r.error) || !!s3?.copy?.error;
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error & { code?: string }) => {
    process.stderr.write(`bench: ${e.message}\n`);
    process.exitCode = e instanceof GenOptionError || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  },
);
