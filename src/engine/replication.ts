/**
 * Replication lag of a replica against its primary, per asset: how long ago the newest primary
 * snapshot the replica does not have was taken, and how many stored bytes a copy would still
 * have to send for the asset (blobs its missing snapshots need that the replica lacks).
 * Read-only on both sides, and lock-free: snapshots are written last, so what is listed is whole.
 */
import { systemClock, type Clock } from '../base/clock.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { loadIndex } from '../repo/index-store.js';
import type { Repository } from '../repo/repository.js';
import { partitionByPresence } from './copy-plan.js';
import { collectBlobs } from './reachable.js';
import { listSnapshots, type StoredSnapshot } from './snapshots.js';
import { makeTreeReader } from './trees.js';

export interface AssetLag {
  asset: string;
  /** Tier of the asset's newest primary snapshot. */
  tier?: number;
  primarySnapshots: number;
  /** Primary snapshots the replica has (same asset, time and root tree). */
  replicated: number;
  missing: number;
  newestPrimary: string;
  /** Time of the newest snapshot the replica has, if any. */
  newestReplicated?: string;
  /** Time of the newest and oldest primary snapshot the replica lacks, if any. */
  newestMissing?: string;
  oldestMissing?: string;
  /** Now minus newestMissing; 0 when the replica has every snapshot. */
  lagMs: number;
  /** Stored bytes (at the primary) of the blobs the missing snapshots need and the replica lacks. */
  pendingBytes: number;
  pendingBlobs: number;
}

export interface LagReport {
  replica: string;
  now: string;
  assets: AssetLag[];
  /** Over all assets, each blob once. */
  pendingBytes: number;
  pendingBlobs: number;
}

export interface LagOptions {
  asset?: string;
  clock?: Clock;
}

export async function replicationLag(primary: Repository, replica: Repository, options: LagOptions = {}): Promise<LagReport> {
  const now = new Date((options.clock ?? systemClock).now());
  const all = (await listSnapshots(primary)).filter((s) => options.asset === undefined || s.snapshot.asset === options.asset);
  const { missing, present } = partitionByPresence(all, await listSnapshots(replica));
  const [{ index: primaryIndex }, { index: replicaIndex }] = await Promise.all([loadIndex(primary), loadIndex(replica)]);
  const trees = makeTreeReader(primary, primaryIndex, makeCodecSet(primary.config.zstdLevel));
  const pendingOf = (ids: Iterable<string>) => {
    let bytes = 0;
    let blobs = 0;
    for (const hex of ids) {
      const id = Buffer.from(hex, 'hex');
      if (replicaIndex.has(id)) continue;
      blobs++;
      bytes += primaryIndex.get(id)?.storedLength ?? 0;
    }
    return { bytes, blobs };
  };

  const overall = new Set<string>();
  const assets: AssetLag[] = [];
  for (const asset of [...new Set(all.map((s) => s.snapshot.asset))].sort()) {
    const mine = (list: readonly StoredSnapshot[]) => list.filter((s) => s.snapshot.asset === asset);
    const lacking = mine(missing);
    const had = mine(present.map((p) => p.source));
    const needed = new Set<string>();
    const visited = new Set<string>();
    for (const s of lacking) {
      const blobs = await collectBlobs(trees, s.snapshot.tree, visited, needed);
      for (const t of blobs.trees) needed.add(t);
    }
    for (const id of needed) overall.add(id);
    const pending = pendingOf(needed);
    const newest = mine(all).at(-1)!;
    const newestMissing = lacking.at(-1)?.snapshot.time;
    assets.push({
      asset,
      tier: newest.snapshot.tier,
      primarySnapshots: mine(all).length,
      replicated: had.length,
      missing: lacking.length,
      newestPrimary: newest.snapshot.time,
      newestReplicated: had.at(-1)?.snapshot.time,
      newestMissing,
      oldestMissing: lacking[0]?.snapshot.time,
      lagMs: newestMissing ? Math.max(0, now.getTime() - Date.parse(newestMissing)) : 0,
      pendingBytes: pending.bytes,
      pendingBlobs: pending.blobs,
    });
  }
  const total = pendingOf(overall);
  return { replica: replica.storage.location, now: now.toISOString(), assets, pendingBytes: total.bytes, pendingBlobs: total.blobs };
}
