/**
 * RPO state: is the newest good backup of an asset young enough? Pure: the asset, its snapshots
 * and the time. A snapshot is good when it is complete (every file read); an incomplete one
 * protects something, but not the promise.
 */
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { Asset } from './plan.js';

export type RpoState = 'ok' | 'at_risk' | 'violated' | 'never' | 'git';

/** From this fraction of the RPO on, an asset is at risk: the next backup had better come soon. */
export const AT_RISK_FRACTION = 0.75;

export interface RpoStatus {
  state: RpoState;
  /** The newest complete snapshot of the asset, if any. */
  lastGood?: StoredSnapshot;
  /** now minus lastGood's time, in ms. */
  ageMs?: number;
  /** When the state becomes at_risk / violated without a new backup (absent when it already is, or never will). */
  atRiskAt?: number;
  violatedAt?: number;
}

/** `snapshots` may be of any assets, in any order. */
export function rpoStatus(asset: Asset, snapshots: readonly StoredSnapshot[], now: number): RpoStatus {
  if (asset.tier === 3) return { state: 'git' };
  const lastGood = newestGood(snapshots, asset.name);
  if (!lastGood) return { state: 'never' };
  const taken = Date.parse(lastGood.snapshot.time);
  const ageMs = Math.max(0, now - taken);
  const rpo = asset.policy.rpoMs;
  const atRiskAt = taken + AT_RISK_FRACTION * rpo;
  const violatedAt = taken + rpo;
  const state: RpoState = now >= violatedAt ? 'violated' : now >= atRiskAt ? 'at_risk' : 'ok';
  return { state, lastGood, ageMs, ...(state === 'ok' ? { atRiskAt } : {}), ...(state !== 'violated' ? { violatedAt } : {}) };
}

export function newestGood(snapshots: readonly StoredSnapshot[], asset: string): StoredSnapshot | undefined {
  let best: StoredSnapshot | undefined;
  for (const s of snapshots) {
    if (s.snapshot.asset !== asset || s.snapshot.incomplete.length > 0) continue;
    if (!best || s.snapshot.time > best.snapshot.time) best = s;
  }
  return best;
}

/** States that fail the objective (exit 4 of `status`): a promise broken, or never kept. */
export function objectiveMissed(state: RpoState): boolean {
  return state === 'violated' || state === 'never';
}
