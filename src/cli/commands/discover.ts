/**
 * `lifeboat discover PATH... [s3://BUCKET/PREFIX ...] [--json] [--write-config FILE]`: find the AI
 * assets in file trees and S3 prefixes, propose their tiers, and show what lifeboat.yaml covers.
 */
import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import type cliProgressTypes from 'cli-progress';
import type { DrPlan } from '../../control/plan.js';
import type { DiscoverReport } from '../../control/audit/report.js';
import type { WalkProgress } from '../../control/audit/walk-result.js';
import { messageOf, UsageError } from '../errors.js';
import { formatBytes, makeOutput, table, type Output } from '../output.js';
import { defaultConfigFile, openRepo, withRepoOptions, type RepoContext, type RepoFlags } from '../repo-options.js';

interface DiscoverFlags extends RepoFlags {
  writeConfig?: string;
}

export function registerDiscover(program: Command): void {
  withRepoOptions(program.command('discover').description('find unprotected AI assets in file trees and S3 prefixes, and propose their tiers'))
    .argument('<paths...>', 'directories, files and s3://BUCKET/PREFIX URLs to walk')
    .option('--write-config <file>', 'write lifeboat.yaml entries for the unprotected assets to this new file, for review')
    .action(async (paths: string[], flags: DiscoverFlags) => {
      const out = makeOutput(!!flags.json, !!flags.quiet);
      for (const p of paths) if (!p.startsWith('s3://') && !statSync(p, { throwIfNoEntry: false })) throw new UsageError(`${p}: no such file or directory`);
      if (flags.writeConfig && statSync(flags.writeConfig, { throwIfNoEntry: false })) {
        throw new UsageError(`${flags.writeConfig} exists: --write-config writes a new file for review and never edits one in place`);
      }
      const plan = await readPlan(flags);
      const notes: string[] = [];
      const opened = await openRepository(flags, plan, notes, out);
      const progress = walkProgress(!flags.json && !flags.quiet);
      try {
        const { discover } = await import('../../control/audit/discover.js');
        const s3 = { endpoint: flags.s3Endpoint, region: flags.s3Region, forcePathStyle: flags.s3PathStyle, profile: flags.s3Profile, caBundle: flags.s3CaBundle };
        const repository = opened ? { repo: opened.repo, location: opened.repo.storage.location } : undefined;
        const report = await discover({ paths, s3, plan, repository, notes, onProgress: progress.update });
        progress.stop();
        if (flags.writeConfig) await writeConfig(flags.writeConfig, report, plan, out);
        out.result(report, () => describe(report));
      } finally {
        progress.stop();
        await opened?.close();
      }
    });
}

async function readPlan(flags: RepoFlags): Promise<DrPlan | undefined> {
  const file = flags.config ?? process.env.LIFEBOAT_CONFIG ?? defaultConfigFile();
  if (!file) return undefined;
  const { loadPlan } = await import('../../control/plan.js');
  return loadPlan(file);
}

/** The repository named by -r or LIFEBOAT_REPOSITORY (its failure is the command's), else lifeboat.yaml's primary (its failure is a note). */
async function openRepository(flags: RepoFlags, plan: DrPlan | undefined, notes: string[], out: Output): Promise<RepoContext | undefined> {
  const named = flags.repo ?? process.env.LIFEBOAT_REPOSITORY;
  if (named) return openRepo(flags);
  if (!plan?.primary) return undefined;
  try {
    return await openRepo(flags);
  } catch (err) {
    const note = `the primary repository ${plan.primary.name} could not be opened, so stored bytes per tier are not shown: ${messageOf(err)}`;
    notes.push(note);
    out.warn(note);
    return undefined;
  }
}

async function writeConfig(file: string, report: DiscoverReport, plan: DrPlan | undefined, out: Output): Promise<void> {
  const { configEntries } = await import('../../control/audit/write-config.js');
  await fs.writeFile(file, configEntries(report.assets, plan?.assets.map((a) => a.name)), { flag: 'wx' });
  out.info(`wrote ${report.assets.filter((a) => a.covered_by === null).length} proposed asset(s) to ${file}: review them, then merge them into lifeboat.yaml`);
}

/** Files walked, bytes and rate on a terminal; the total is not known ahead of a walk. */
function walkProgress(enabled: boolean): { update(p: WalkProgress): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof cliProgressTypes;
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'discover {value} files | {bytes} | {at}', hideCursor: true, clearOnComplete: true, fps: 5 });
  bar.start(0, 0, { bytes: '0 B', at: '' });
  let stopped = false;
  return {
    update: (p) => bar.update(p.files, { bytes: formatBytes(p.bytes), at: p.at.length > 60 ? `…${p.at.slice(-59)}` : p.at }),
    stop() {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };
}

function describe(r: DiscoverReport): string {
  const assets = table(
    ['Path', 'Kind', 'Format', 'Size', 'Tier', 'Covered by', 'Reason'],
    r.assets.map((a) => [a.path, a.kind, a.format, formatBytes(a.bytes), String(a.proposed_tier), a.covered_by ?? '-', a.reason]),
  );
  const tiers = table(
    ['Tier', 'Assets', 'Found', 'Protected', 'Unprotected', 'Stored in repository'],
    r.summary.tiers.map((t) => [String(t.tier), String(t.assets), formatBytes(t.bytes_found), formatBytes(t.bytes_protected), formatBytes(t.bytes_unprotected), t.stored_bytes === null ? '-' : formatBytes(t.stored_bytes)]),
  );
  const lines = [assets, '', tiers];
  for (const t of r.summary.tiers) {
    if (t.largest_unprotected.length) lines.push('', `largest unprotected in Tier ${t.tier}:`, ...t.largest_unprotected.map((a) => `  ${formatBytes(a.bytes).padStart(10)}  ${a.path} (${a.kind})`));
  }
  const mismatched = r.assets.filter((a) => a.configured_tier !== null && a.configured_tier !== a.proposed_tier);
  for (const a of mismatched) lines.push(`note: ${a.path} is in Tier ${a.configured_tier} (asset ${a.covered_by}); discovery proposes Tier ${a.proposed_tier}: ${a.reason}`);
  lines.push('', `${r.summary.assets} asset(s) in ${r.summary.files} file(s), ${formatBytes(r.summary.bytes)}; ${r.summary.decoys} decoy(s) rejected; ${r.skipped.length} path(s) skipped`);
  for (const s of r.skipped) lines.push(`skipped: ${s.path}: ${s.reason}`);
  for (const n of r.summary.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
