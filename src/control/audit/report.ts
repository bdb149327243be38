/**
 * The discovery report (`lifeboat discover --json`): every asset found with its proposed tier
 * and reason and the lifeboat.yaml asset that covers it, a summary per tier (bytes found,
 * protected and unprotected, the largest unprotected assets, and what the repository stores for
 * the tier), and what the walk skipped. Pure: built from the walk's result.
 */
import type { Tier } from '../policy.js';
import { TIERS } from '../policy.js';
import type { CoverageIndex } from './coverage.js';
import { propose } from './propose.js';
import type { StoredByTier } from './stored-by-tier.js';
import type { Skipped, WalkResult } from './walk-result.js';

export interface DiscoveredAsset {
  path: string;
  kind: string;
  format: string;
  bytes: number;
  files: number;
  proposed_tier: Tier;
  reason: string;
  /** The lifeboat.yaml asset whose source holds this path, or null. */
  covered_by: string | null;
  /** That asset's tier (it may differ from the proposed one), or null. */
  configured_tier: Tier | null;
  /** Git repositories: the remote they are rebuilt from (credentials removed). */
  git_remote?: string;
}

export interface TierSummary {
  tier: Tier;
  assets: number;
  bytes_found: number;
  bytes_protected: number;
  bytes_unprotected: number;
  largest_unprotected: Array<{ path: string; kind: string; bytes: number }>;
  /** Stored bytes of the repository's snapshots of this tier; null without a repository. */
  stored_bytes: number | null;
}

export interface DiscoverReport {
  assets: DiscoveredAsset[];
  summary: {
    files: number;
    bytes: number;
    assets: number;
    /** Files named like a format whose first bytes are not that format. */
    decoys: number;
    tiers: TierSummary[];
    /** The repository the stored bytes come from; null when none was given or configured. */
    repository: ({ location: string } & StoredByTier) | null;
    notes: string[];
  };
  skipped: Skipped[];
}

export const LARGEST = 5;

export function buildReport(walks: WalkResult[], coverage: CoverageIndex, repository: DiscoverReport['summary']['repository'], notes: string[] = []): DiscoverReport {
  const assets: DiscoveredAsset[] = walks
    .flatMap((w) => w.assets)
    .map((c) => {
      const p = propose(c);
      const cover = coverage.coverOf(c.path);
      const asset: DiscoveredAsset = { path: c.path, kind: c.kind, format: c.format, bytes: c.bytes, files: c.files, proposed_tier: p.tier, reason: p.reason, covered_by: cover?.asset ?? null, configured_tier: cover?.tier ?? null };
      return c.hints.gitRemote ? { ...asset, git_remote: c.hints.gitRemote.url } : asset;
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const tiers = TIERS.map((tier): TierSummary => {
    const mine = assets.filter((a) => a.proposed_tier === tier);
    const unprotected = mine.filter((a) => a.covered_by === null);
    const bytes = (list: DiscoveredAsset[]) => list.reduce((n, a) => n + a.bytes, 0);
    return {
      tier,
      assets: mine.length,
      bytes_found: bytes(mine),
      bytes_protected: bytes(mine) - bytes(unprotected),
      bytes_unprotected: bytes(unprotected),
      largest_unprotected: [...unprotected].sort((a, b) => b.bytes - a.bytes).slice(0, LARGEST).map((a) => ({ path: a.path, kind: a.kind, bytes: a.bytes })),
      stored_bytes: repository ? (repository.stored_bytes[String(tier)] ?? 0) : null,
    };
  });
  const sum = (of: (w: WalkResult) => number) => walks.reduce((n, w) => n + of(w), 0);
  return {
    assets,
    summary: { files: sum((w) => w.files), bytes: sum((w) => w.bytes), assets: assets.length, decoys: sum((w) => w.decoys), tiers, repository, notes },
    skipped: walks.flatMap((w) => w.skipped),
  };
}
