/**
 * What a repository spends on each tier: the stored (compressed, encrypted) bytes of the distinct
 * blobs the snapshots of each tier reference, from the tier every snapshot records. The other
 * half of the over-investment view: bytes found per tier beside bytes stored per tier.
 */
import { statsOf } from '../../engine/inspect.js';
import { listSnapshots } from '../../engine/snapshots.js';
import type { Repository } from '../../repo/repository.js';
import type { Snapshot } from '../../repo/snapshot.js';

export interface StoredByTier {
  /** Keyed "1", "2", "3", and "none" for snapshots written without a tier. */
  stored_bytes: Record<string, number>;
  snapshots: Record<string, number>;
}

export async function storedByTier(repo: Repository): Promise<StoredByTier> {
  const groups = new Map<string, Array<{ snapshot: Snapshot }>>();
  for (const s of await listSnapshots(repo)) {
    const key = s.snapshot.tier === undefined ? 'none' : String(s.snapshot.tier);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const result: StoredByTier = { stored_bytes: {}, snapshots: {} };
  // A blob two tiers share counts in both: each tier's figure is what it needs kept.
  for (const [key, snaps] of [...groups].sort()) {
    result.stored_bytes[key] = (await statsOf(repo, snaps)).storedBytes;
    result.snapshots[key] = snaps.length;
  }
  return result;
}
