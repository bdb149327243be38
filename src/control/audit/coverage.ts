/**
 * Which asset of lifeboat.yaml already protects a path found by discovery: the asset whose
 * source path is the path or a folder above it. A path that only contains a source (the plan
 * backs up part of it) is not covered. Exclude patterns are not applied: an asset whose files
 * a source excludes is still shown as covered by it.
 */
import path from 'node:path';
import type { Asset } from '../plan.js';
import type { Tier } from '../policy.js';
import { sourcePaths } from '../../sources/config.js';

export interface Coverage {
  asset: string;
  tier: Tier;
}

export interface CoverageIndex {
  coverOf(found: string): Coverage | undefined;
}

export function coverageIndex(assets: readonly Asset[]): CoverageIndex {
  const claims = assets.flatMap((a) => (a.source ? sourcePaths(a.source).map((p) => ({ path: path.resolve(p), asset: a.name, tier: a.tier })) : []));
  // The most specific source wins, as a backup of a folder inside another's is the one that names it.
  claims.sort((a, b) => b.path.length - a.path.length);
  return {
    coverOf(found) {
      if (found.startsWith('s3://')) return undefined;
      const claim = claims.find((c) => c.path === found || isInside(found, c.path));
      return claim ? { asset: claim.asset, tier: claim.tier } : undefined;
    },
  };
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
