/**
 * Which keep policy applies to which snapshots, and what happens to those it does not keep: the
 * pure plan behind `lifeboat forget`. The policy comes from the command line (one policy for every
 * asset, snapshots forgotten directly) or from lifeboat.yaml (each asset's effective `keep:` and
 * `expired:`; snapshots of assets the file does not name are left alone).
 */
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { DrPlan } from './plan.js';
import type { KeepPolicy, Policy } from './policy.js';
import { selectRetention, type AssetRetention, type ProtectedSnapshots } from './retention.js';

export type PolicySource =
  /** `--keep-*` flags: one policy for every asset in scope; what goes is deleted. */
  | { from: 'flags'; keep: KeepPolicy }
  /** No flags: each asset's policy in lifeboat.yaml. */
  | { from: 'file'; plan: DrPlan };

export interface RetentionScope {
  asset?: string;
  tier?: number;
}

export interface AssetPlan extends AssetRetention {
  keepPolicy: KeepPolicy;
  expired: Policy['expired'];
  /** The asset's tier in lifeboat.yaml; with flags, undefined. */
  tier?: number;
}

export interface RetentionPlan {
  from: PolicySource['from'];
  assets: AssetPlan[];
  /** Assets with snapshots that lifeboat.yaml does not name: with the policy from the file, nothing of them is touched. */
  leftAlone: Array<{ asset: string; snapshots: number }>;
  /** Where `expired: archive` sends what goes; undefined when no repository has role: archive. */
  archive?: string;
}

/** Kept in place of archiving, when the plan has nowhere to archive to (plan.ts warns about it too). */
export const NO_ARCHIVE_REASON = 'past the policy, but expired: archive and no repository has role: archive';

export function planRetention(snapshots: readonly StoredSnapshot[], source: PolicySource, scope: RetentionScope, now: number, protect?: ProtectedSnapshots): RetentionPlan {
  const inScope = snapshots.filter((s) => scope.asset === undefined || s.snapshot.asset === scope.asset);
  if (source.from === 'flags') {
    // With flags there is no plan to say an asset's tier: the tier the snapshot recorded decides.
    const tiered = scope.tier === undefined ? inScope : inScope.filter((s) => s.snapshot.tier === scope.tier);
    const assets = selectRetention(tiered, source.keep, now, protect).map((a): AssetPlan => ({ ...a, keepPolicy: source.keep, expired: 'delete' }));
    return { from: 'flags', assets, leftAlone: [] };
  }
  const { plan } = source;
  const named = new Map(plan.assets.map((a) => [a.name, a]));
  const assets: AssetPlan[] = [];
  for (const asset of plan.assets) {
    if ((scope.asset !== undefined && asset.name !== scope.asset) || (scope.tier !== undefined && asset.tier !== scope.tier)) continue;
    const own = inScope.filter((s) => s.snapshot.asset === asset.name);
    for (const selected of selectRetention(own, asset.policy.keep, now, protect)) {
      const held = asset.policy.expired === 'archive' && !plan.archive;
      const decisions = held ? selected.decisions.map((d) => (d.keep ? d : { ...d, keep: true, reasons: [NO_ARCHIVE_REASON] })) : selected.decisions;
      assets.push({ asset: asset.name, decisions, keepPolicy: asset.policy.keep, expired: asset.policy.expired, tier: asset.tier });
    }
  }
  const counts = new Map<string, number>();
  for (const s of inScope) if (!named.has(s.snapshot.asset)) counts.set(s.snapshot.asset, (counts.get(s.snapshot.asset) ?? 0) + 1);
  const leftAlone = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([asset, n]) => ({ asset, snapshots: n }));
  return { from: 'file', assets: assets.sort((a, b) => a.asset.localeCompare(b.asset)), leftAlone, archive: plan.archive?.name };
}

/** The snapshots the plan removes, by what happens to them. */
export function removals(plan: RetentionPlan): { archive: StoredSnapshot[]; delete: StoredSnapshot[] } {
  const out = { archive: [] as StoredSnapshot[], delete: [] as StoredSnapshot[] };
  for (const a of plan.assets) for (const d of a.decisions) if (!d.keep) out[a.expired].push(d.snapshot);
  return out;
}
