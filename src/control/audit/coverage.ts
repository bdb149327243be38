/**
 * Which asset of lifeboat.yaml already protects a path found by discovery: the asset whose
 * source path is the path or a folder above it. A path that only contains a source (the plan
 * backs up part of it) is not covered, and neither is one the source's exclude patterns leave
 * out (itself or a folder above it, as the backup would).
 */
import path from 'node:path';
import type { Asset } from '../plan.js';
import type { Tier } from '../policy.js';
import { excluder } from '../../engine/exclude.js';
import { sourcePaths } from '../../sources/config.js';

export interface Coverage {
  asset: string;
  tier: Tier;
}

export interface CoverageIndex {
  coverOf(found: string): Coverage | undefined;
}

export function coverageIndex(assets: readonly Asset[]): CoverageIndex {
  const claims = assets.flatMap((a) => {
    if (!a.source) return [];
    const paths = sourcePaths(a.source).map((p) => path.resolve(p));
    const excluded = excluder(a.source.kind === 'path' ? a.source.exclude : [], paths.length === 1 ? paths[0] : undefined);
    return paths.map((p) => ({ path: p, asset: a.name, tier: a.tier, excluded }));
  });
  // The most specific source wins, as a backup of a folder inside another's is the one that names it.
  claims.sort((a, b) => b.path.length - a.path.length);
  return {
    coverOf(found) {
      if (found.startsWith('s3://')) return undefined;
      const claim = claims.find((c) => c.path === found || (isInside(found, c.path) && !leftOut(found, c.path, c.excluded)));
      return claim ? { asset: claim.asset, tier: claim.tier } : undefined;
    },
  };
}

/** Whether `found`, or a folder between `root` and it, is excluded: the backup never walks into an excluded folder. */
function leftOut(found: string, root: string, excluded: (abs: string) => boolean): boolean {
  for (let p = found; p !== root && isInside(p, root); p = path.dirname(p)) if (excluded(p)) return true;
  return false;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
