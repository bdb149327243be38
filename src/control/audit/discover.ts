/**
 * `lifeboat discover`: walk file trees and S3 prefixes, group what is found into assets, propose
 * tiers, mark what the DR plan covers and set it beside what the repository stores per tier.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Asset, DrPlan } from '../plan.js';
import type { Repository } from '../../repo/repository.js';
import type { S3Options } from '../../storage/s3-options.js';
import { sourcePaths } from '../../sources/config.js';
import { coverageIndex } from './coverage.js';
import { walkFiles, type WalkFs } from './fs-walk.js';
import { buildReport, type DiscoverReport } from './report.js';
import { walkS3 } from './s3-walk.js';
import { storedByTier } from './stored-by-tier.js';
import type { WalkCommon, WalkResult } from './walk-result.js';

export interface DiscoverOptions extends WalkCommon {
  /** Directories, files and s3://BUCKET/PREFIX URLs. */
  paths: string[];
  s3?: S3Options;
  /** The DR plan whose assets may cover what is found. */
  plan?: DrPlan;
  /** The repository whose stored bytes per tier are shown, with where it is. */
  repository?: { repo: Repository; location: string };
  notes?: string[];
  fs?: WalkFs;
}

export async function discover(options: DiscoverOptions): Promise<DiscoverReport> {
  const remote = options.paths.filter((p) => p.startsWith('s3://'));
  const local = options.paths.filter((p) => !p.startsWith('s3://'));
  const notes = [...(options.notes ?? [])];
  // The repository's figures take a pass over its trees: started now, beside the walk.
  const stored = options.repository ? storedByTier(options.repository.repo) : undefined;
  stored?.catch(() => {});
  const walks: WalkResult[] = [];
  if (local.length > 0) walks.push(await walkFiles(local, options));
  for (const url of remote) walks.push(await walkS3(url, options));
  const coverage = coverageIndex(await realSources(options.plan?.assets ?? []));
  if (!options.plan) notes.push('no lifeboat.yaml: nothing is marked covered (-c FILE names one)');
  if (!options.repository) notes.push('no repository given or configured: stored bytes per tier are not shown (-r names one)');
  const repository = options.repository && stored ? { location: options.repository.location, ...(await stored) } : null;
  return buildReport(walks, coverage, repository, notes);
}

/** The plan's assets with their source paths resolved as the walk resolves its roots (real paths). */
async function realSources(assets: readonly Asset[]): Promise<Asset[]> {
  return Promise.all(
    assets.map(async (a) => {
      if (!a.source) return a;
      const paths = await Promise.all(sourcePaths(a.source).map((p) => fs.realpath(p).catch(() => path.resolve(p))));
      return { ...a, source: { ...a.source, paths } };
    }),
  );
}
