/** Listing snapshots and resolving what a user names: an id, a unique prefix, `latest`, `ASSET@latest`. */
import { RepoError } from '../repo/errors.js';
import { listIds, loadObject, saveObject, type Repository } from '../repo/repository.js';
import { decodeSnapshot, type Snapshot } from '../repo/snapshot.js';

export interface StoredSnapshot {
  id: string;
  snapshot: Snapshot;
}

export class SnapshotNotFoundError extends RepoError {
  override readonly code = 'SNAPSHOT_NOT_FOUND';
}

/** All snapshots, oldest first. */
export async function listSnapshots(repo: Repository): Promise<StoredSnapshot[]> {
  const ids = await listIds(repo.storage, 'snapshot');
  const all = await Promise.all(ids.map(async (id) => ({ id, snapshot: decodeSnapshot(await loadObject(repo, 'snapshot', id), id) })));
  return all.sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id));
}

export async function saveSnapshot(repo: Repository, snapshot: Snapshot): Promise<string> {
  return saveObject(repo, 'snapshot', Buffer.from(JSON.stringify(snapshot)));
}

export function latestOf(all: readonly StoredSnapshot[], asset?: string): StoredSnapshot | undefined {
  const matching = asset === undefined ? all : all.filter((s) => s.snapshot.asset === asset);
  return matching[matching.length - 1];
}

export async function resolveSnapshot(repo: Repository, spec: string): Promise<StoredSnapshot> {
  const all = await listSnapshots(repo);
  if (spec === 'latest' || spec.endsWith('@latest')) {
    const asset = spec === 'latest' ? undefined : spec.slice(0, -'@latest'.length);
    const found = latestOf(all, asset);
    if (!found) throw new SnapshotNotFoundError(asset ? `no snapshot of asset "${asset}" in ${repo.storage.location}` : `no snapshots in ${repo.storage.location}`);
    return found;
  }
  if (!/^[0-9a-f]{1,64}$/.test(spec)) throw new SnapshotNotFoundError(`"${spec}" is not a snapshot id, id prefix, "latest" or "ASSET@latest"`);
  const matches = all.filter((s) => s.id.startsWith(spec));
  if (matches.length === 0) throw new SnapshotNotFoundError(`no snapshot ${spec} in ${repo.storage.location} (see "lifeboat snapshots")`);
  if (matches.length > 1) throw new SnapshotNotFoundError(`snapshot prefix ${spec} is ambiguous (${matches.length} snapshots): give more characters`);
  return matches[0];
}
