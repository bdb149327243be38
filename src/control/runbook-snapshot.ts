/**
 * Which snapshot of an asset a run restores: `latest` (the default), `vN`, an id or id prefix,
 * or the newest at or before a time (`--as-of`).
 */
import { LifeboatError } from '../base/errors.js';
import { latestOf, listSnapshots, resolveSnapshot, SnapshotNotFoundError, type StoredSnapshot } from '../engine/snapshots.js';
import type { Repository } from '../repo/repository.js';

export interface SnapshotChoice {
  /** latest, vN, ASSET@…, an id or a prefix; default latest. */
  snapshot?: string;
  /** ISO 8601 time: the newest snapshot taken at or before it. */
  asOf?: string;
}

export async function chooseSnapshot(repo: Repository, asset: string, choice: SnapshotChoice): Promise<StoredSnapshot> {
  const where = repo.storage.location;
  if (choice.asOf !== undefined) {
    const limit = Date.parse(choice.asOf);
    if (Number.isNaN(limit)) throw new LifeboatError('USAGE', `--as-of ${choice.asOf} is not a time: write e.g. 2025-03-01T12:00:00Z`);
    const before = (await listSnapshots(repo)).filter((s) => s.snapshot.asset === asset && Date.parse(s.snapshot.time) <= limit);
    const found = before[before.length - 1];
    if (!found) throw new SnapshotNotFoundError(`no snapshot of asset "${asset}" at or before ${choice.asOf} in ${where}`);
    return found;
  }
  const spec = choice.snapshot ?? 'latest';
  if (spec === 'latest') {
    const found = latestOf(await listSnapshots(repo), asset);
    if (!found) throw new SnapshotNotFoundError(`no snapshot of asset "${asset}" in ${where}: back it up first (lifeboat backup --asset ${asset} …)`);
    return found;
  }
  const found = await resolveSnapshot(repo, /^v\d+$/.test(spec) ? `${asset}@${spec}` : spec);
  if (found.snapshot.asset !== asset) throw new SnapshotNotFoundError(`snapshot ${found.id.slice(0, 12)} is of asset "${found.snapshot.asset}", not "${asset}"`);
  return found;
}
