/**
 * `repair snapshots`: removes the snapshot objects that cannot be read, so that `latest` and
 * `ASSET@latest` resolve again (while one is left, a newest pick is refused: snapshots.ts).
 * Their bytes fail authentication or do not decode, so nothing readable is lost (a replica may
 * still hold the snapshot intact). Objects of a newer format version are intact and stay (a newer
 * lifeboat reads them), and so do objects under Object Lock retention.
 */
import { NewerFormatError } from '../repo/errors.js';
import type { Repository } from '../repo/repository.js';
import { forgetSnapshots } from './forget.js';
import type { OperationOptions } from './operation.js';
import { listSnapshotsAndDamage } from './snapshots.js';

export interface RepairSnapshotsOptions extends OperationOptions {
  dryRun?: boolean;
}

export interface RepairSnapshotsResult {
  /** Readable snapshot objects: untouched. */
  readable: number;
  /** Unreadable objects removed (with dryRun: that would be), and why each cannot be read. */
  removed: Array<{ id: string; problem: string }>;
  /** Unreadable objects storage keeps under Object Lock until the given time. */
  locked: Array<{ id: string; until: string }>;
  /** Objects of a newer format version: intact, left in place. */
  newer: Array<{ id: string; problem: string }>;
  dryRun: boolean;
}

export async function repairSnapshots(repo: Repository, options: RepairSnapshotsOptions = {}): Promise<RepairSnapshotsResult> {
  const { snapshots, damaged } = await listSnapshotsAndDamage(repo);
  const newer = damaged.filter((d) => d.error instanceof NewerFormatError);
  const unreadable = damaged.filter((d) => !(d.error instanceof NewerFormatError));
  const problem = new Map(unreadable.map((d) => [d.id, d.error.message]));
  // forget's removal: under an exclusive lock, what Object Lock keeps reported rather than failed.
  const gone = unreadable.length === 0 ? { removed: [], locked: [] } : await forgetSnapshots(repo, [...problem.keys()], options);
  return {
    readable: snapshots.length,
    removed: gone.removed.map((id) => ({ id, problem: problem.get(id)! })),
    locked: gone.locked,
    newer: newer.map((d) => ({ id: d.id, problem: d.error.message })),
    dryRun: !!options.dryRun,
  };
}
