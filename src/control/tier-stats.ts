/**
 * What the protection costs, by tier: the bytes the repository stores for each tier's snapshots
 * beside the bytes they protect, so that over-investment shows (FRAMEWORK.md: Tier 3 belongs in
 * git). One walk of every snapshot's trees (engine groupedStats); `serve` computes it on its
 * status period and serves it from memory as `GET /api/v1/stats`.
 */
import type { Stats } from '../engine/inspect.js';
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { DrPlan } from './plan.js';
import { newestGood } from './rpo.js';

export interface TierUsage {
  /** 1, 2, 3; null for snapshots of assets the plan does not name (nor record a tier). */
  tier: number | null;
  assets: number;
  snapshots: number;
  /** Bytes of the newest good snapshot of each of the tier's assets: what a recovery brings back. */
  protected_bytes: number;
  /** Bytes of the files in all the tier's snapshots. */
  logical_bytes: number;
  /** Bytes the repository stores for them (compressed, encrypted); a blob shared with another tier counts in both. */
  stored_bytes: number;
}

export interface StatsDocument {
  generated_at: string;
  repository: string;
  total: {
    snapshots: number;
    protected_bytes: number;
    logical_bytes: number;
    /** Distinct bytes before compression. */
    raw_bytes: number;
    stored_bytes: number;
    /** Bytes dedup did not store (file bytes less the distinct data, holes aside). */
    dedup_saved_bytes: number;
    /** Bytes compression took off the distinct data. */
    compression_saved_bytes: number;
    dedup_ratio: number;
    compression_ratio: number;
  };
  tiers: TierUsage[];
}

/** The tier a snapshot counts under: its asset's in the plan, else the one it recorded. */
export function tierOf(plan: DrPlan, s: StoredSnapshot): number | null {
  return plan.assets.find((a) => a.name === s.snapshot.asset)?.tier ?? s.snapshot.tier ?? null;
}

/** Pure: the plan, the snapshots, the engine's stats over all of them and per tier (keyed by tierOf as a string). */
export function statsDocument(plan: DrPlan, repository: string, snapshots: readonly StoredSnapshot[], all: Stats, byTier: ReadonlyMap<string, Stats>, now: number): StatsDocument {
  const assets = new Set(snapshots.map((s) => s.snapshot.asset));
  const tierOfAsset = new Map([...assets].map((name) => [name, tierOf(plan, snapshots.find((s) => s.snapshot.asset === name)!)]));
  const protectedOf = (names: string[]) => names.reduce((sum, name) => sum + (newestGood(snapshots, name)?.snapshot.summary.totalBytes ?? 0), 0);
  const tiers: TierUsage[] = [1, 2, 3, null].map((tier) => {
    const planned = tier === null ? [] : plan.assets.filter((a) => a.tier === tier).map((a) => a.name);
    const stored = [...tierOfAsset].filter(([, t]) => t === tier).map(([name]) => name);
    const s = byTier.get(String(tier));
    return {
      tier,
      assets: new Set([...planned, ...stored]).size,
      snapshots: s?.snapshots ?? 0,
      protected_bytes: protectedOf(stored),
      logical_bytes: s?.logicalBytes ?? 0,
      stored_bytes: s?.storedBytes ?? 0,
    };
  });
  const dataBytes = all.logicalBytes - all.sparseBytes;
  const distinct = all.dedupRatio > 0 ? dataBytes / all.dedupRatio : 0;
  return {
    generated_at: new Date(now).toISOString(),
    repository,
    total: {
      snapshots: all.snapshots,
      protected_bytes: protectedOf([...assets]),
      logical_bytes: all.logicalBytes,
      raw_bytes: all.rawBytes,
      stored_bytes: all.storedBytes,
      dedup_saved_bytes: Math.max(0, Math.round(dataBytes - distinct)),
      compression_saved_bytes: Math.max(0, all.rawBytes - all.storedBytes),
      dedup_ratio: all.dedupRatio,
      compression_ratio: all.compressionRatio,
    },
    tiers: tiers.filter((t) => t.tier !== null || t.snapshots > 0),
  };
}
