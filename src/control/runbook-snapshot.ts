/**
 * Which snapshot of an asset a run restores: `latest` (the default), `vN`, an id or id prefix,
 * or the newest at or before a time (`--as-of`). A newest pick (latest, --as-of) is refused while
 * any snapshot object cannot be read, as for `restore ASSET@latest`: a recovery or drill that
 * restored an older model would report success. `skipDamaged` takes the newest readable one.
 */
import { LifeboatError } from '../base/errors.js';
import { latestOf, listSnapshotsAndDamage, newestUnlessDamaged, resolveSnapshot, SnapshotNotFoundError, type ResolveOptions, type StoredSnapshot } from '../engine/snapshots.js';
import type { Repository } from '../repo/repository.js';

export interface SnapshotChoice {
  /** latest, vN, ASSET@…, an id or a prefix; default latest. */
  snapshot?: string;
  /** ISO 8601 time: the newest snapshot taken at or before it. */
  asOf?: string;
  /** latest, --as-of: the newest readable snapshot even while some cannot be read. */
  skipDamaged?: boolean;
}

/** `onWarning`: told when skipDamaged passed over snapshots that cannot be read. */
export async function chooseSnapshot(repo: Repository, asset: string, choice: SnapshotChoice, onWarning?: (message: string) => void): Promise<StoredSnapshot> {
  const resolve: ResolveOptions = { skipDamaged: choice.skipDamaged, onWarning };
  const where = repo.storage.location;
  if (choice.asOf !== undefined) {
    const limit = Date.parse(choice.asOf);
    if (Number.isNaN(limit)) throw new LifeboatError('USAGE', `--as-of ${choice.asOf} is not a time: write e.g. 2025-03-01T12:00:00Z`);
    const { snapshots, damaged } = await listSnapshotsAndDamage(repo);
    const before = snapshots.filter((s) => s.snapshot.asset === asset && Date.parse(s.snapshot.time) <= limit);
    const found = newestUnlessDamaged(`${asset} as of ${choice.asOf}`, before[before.length - 1], damaged, where, resolve);
    if (!found) throw new SnapshotNotFoundError(`no snapshot of asset "${asset}" at or before ${choice.asOf} in ${where}`);
    return found;
  }
  const spec = choice.snapshot ?? 'latest';
  if (spec === 'latest') {
    const { snapshots, damaged } = await listSnapshotsAndDamage(repo);
    const found = newestUnlessDamaged(`${asset}@latest`, latestOf(snapshots, asset), damaged, where, resolve);
    if (!found) throw new SnapshotNotFoundError(`no snapshot of asset "${asset}" in ${where}: back it up first (lifeboat backup --asset ${asset} …)`);
    return found;
  }
  const found = await resolveSnapshot(repo, /^v\d+$/.test(spec) ? `${asset}@${spec}` : spec, resolve);
  if (found.snapshot.asset !== asset) throw new SnapshotNotFoundError(`snapshot ${found.id.slice(0, 12)} is of asset "${found.snapshot.asset}", not "${asset}"`);
  return found;
}
