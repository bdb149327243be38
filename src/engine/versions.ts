/**
 * Asset version numbers: every snapshot of an asset gets the next number, ASSET@v1, ASSET@v2, ...,
 * when it is written, and a number is never given twice, also after forget (forgotten.ts). The
 * repository is the only truth: the number lives in the snapshot, the numbers of removed
 * snapshots in forget records, and the next one is computed from both at the moment of writing.
 */
import type { Repository } from '../repo/repository.js';
import type { Snapshot } from '../repo/snapshot.js';
import { listForgotten, type ForgottenVersion } from './forgotten.js';
import { listSnapshots, saveSnapshot, type StoredSnapshot } from './snapshots.js';

/** Pure: one more than the highest number of `asset` among the snapshots and the forgotten versions (1 for a new asset). */
export function nextAssetVersion(snapshots: readonly StoredSnapshot[], forgotten: readonly ForgottenVersion[], asset: string): number {
  let highest = 0;
  for (const s of snapshots) if (s.snapshot.asset === asset && s.snapshot.assetVersion !== undefined) highest = Math.max(highest, s.snapshot.assetVersion);
  for (const f of forgotten) if (f.asset === asset) highest = Math.max(highest, f.assetVersion);
  return highest + 1;
}

/**
 * Numbers and writes a snapshot: the last step of every backup. The number is taken from a listing
 * made right before the write, so only two backups of the same asset finishing at the same moment
 * could draw the same one; resolveSnapshot then refuses ASSET@vN as ambiguous rather than guess.
 */
export async function saveNumberedSnapshot(repo: Repository, snapshot: Snapshot): Promise<{ snapshotId: string; snapshot: Snapshot }> {
  const [all, forgotten] = await Promise.all([listSnapshots(repo), listForgotten(repo)]);
  const numbered: Snapshot = { ...snapshot, assetVersion: nextAssetVersion(all, forgotten, snapshot.asset) };
  return { snapshotId: await saveSnapshot(repo, numbered), snapshot: numbered };
}

/** "llama-ft@v3", or the short id for a snapshot made before numbers existed. */
export function versionLabel(s: StoredSnapshot): string {
  return s.snapshot.assetVersion === undefined ? s.id.slice(0, 12) : `${s.snapshot.asset}@v${s.snapshot.assetVersion}`;
}
