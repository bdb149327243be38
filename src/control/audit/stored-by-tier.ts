/**
 * What a repository spends on each tier: the stored (compressed, encrypted) bytes of the distinct
 * blobs the snapshots of each tier reference, from the tier every snapshot records. The other
 * half of the over-investment view: bytes found per tier beside bytes stored per tier.
 */
import { groupedStats } from '../../engine/inspect.js';
import { listSnapshots } from '../../engine/snapshots.js';
import type { Repository } from '../../repo/repository.js';
import type { Snapshot } from '../../repo/snapshot.js';

export interface StoredByTier {
  /** Keyed "1", "2", "3", and "none" for snapshots written without a tier. */
  stored_bytes: Record<string, number>;
  snapshots: Record<string, number>;
}

export async function storedByTier(repo: Repository): Promise<StoredByTier> {
  const snaps = await listSnapshots(repo);
  const tierOf = (s: { snapshot: Snapshot }) => (s.snapshot.tier === undefined ? 'none' : String(s.snapshot.tier));
  // One walk; a blob two tiers share counts in both: each tier's figure is what it needs kept.
  const { groups } = await groupedStats(repo, snaps, tierOf);
  const result: StoredByTier = { stored_bytes: {}, snapshots: {} };
  for (const key of [...groups.keys()].sort()) {
    result.stored_bytes[key] = groups.get(key)!.storedBytes;
    result.snapshots[key] = snaps.filter((s) => tierOf(s) === key).length;
  }
  return result;
}
