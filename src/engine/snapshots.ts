/** Listing snapshots and resolving what a user names: an id, a unique prefix, `latest`, `ASSET@latest`, `ASSET@vN`. */
import type { ErrorCode } from '../base/errors.js';
import { RepoError } from '../repo/errors.js';
import { listIds, loadObject, saveObject, type Repository } from '../repo/repository.js';
import { decodeSnapshot, type Snapshot } from '../repo/snapshot.js';
import { listForgotten } from './forgotten.js';

export interface StoredSnapshot {
  id: string;
  snapshot: Snapshot;
}

export class SnapshotNotFoundError extends RepoError {
  override readonly code: ErrorCode = 'SNAPSHOT_NOT_FOUND';
}

/**
 * All readable snapshots, oldest first. A snapshot object that is damaged or cannot be decoded
 * is left out and passed to `onDamaged` (check reports it): one bad object must not stop the
 * backups and restores of every other snapshot. Storage errors still throw.
 */
export async function listSnapshots(repo: Repository, onDamaged?: (id: string, err: RepoError) => void): Promise<StoredSnapshot[]> {
  const ids = await listIds(repo.storage, 'snapshot');
  const loaded = await Promise.all(
    ids.map(async (id): Promise<StoredSnapshot | undefined> => {
      try {
        return { id, snapshot: decodeSnapshot(await loadObject(repo, 'snapshot', id), id) };
      } catch (err) {
        if (!(err instanceof RepoError)) throw err;
        onDamaged?.(id, err);
        return undefined;
      }
    }),
  );
  const all = loaded.filter((s): s is StoredSnapshot => s !== undefined);
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
  const damaged = new Map<string, RepoError>();
  const all = await listSnapshots(repo, (id, err) => damaged.set(id, err));
  if (spec === 'latest' || spec.endsWith('@latest')) {
    const asset = spec === 'latest' ? undefined : spec.slice(0, -'@latest'.length);
    const found = latestOf(all, asset);
    if (!found) throw new SnapshotNotFoundError(asset ? `no snapshot of asset "${asset}" in ${repo.storage.location}` : `no snapshots in ${repo.storage.location}`);
    return found;
  }
  const version = /^(.+)@v(\d+)$/.exec(spec);
  if (version) return byVersion(repo, all, version[1], Number(version[2]));
  if (!/^[0-9a-f]{1,64}$/.test(spec)) throw new SnapshotNotFoundError(`"${spec}" is not a snapshot id, id prefix, "latest", "ASSET@latest" or "ASSET@vN"`);
  const matches = all.filter((s) => s.id.startsWith(spec));
  const damagedMatches = [...damaged].filter(([id]) => id.startsWith(spec));
  if (matches.length === 0 && damagedMatches.length === 1) throw damagedMatches[0][1];
  if (matches.length === 0) throw new SnapshotNotFoundError(`no snapshot ${spec} in ${repo.storage.location} (see "lifeboat snapshots")`);
  if (matches.length > 1) throw new SnapshotNotFoundError(`snapshot prefix ${spec} is ambiguous (${matches.length} snapshots): give more characters`);
  return matches[0];
}

/** ASSET@vN: the snapshot with that number; a forgotten or never-given number is named as such. */
async function byVersion(repo: Repository, all: readonly StoredSnapshot[], asset: string, n: number): Promise<StoredSnapshot> {
  const matches = all.filter((s) => s.snapshot.asset === asset && s.snapshot.assetVersion === n);
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new SnapshotNotFoundError(`${asset}@v${n} is ambiguous: snapshots ${matches.map((s) => s.id.slice(0, 12)).join(' and ')} both carry it (two backups finished at once); name one by its id`);
  const gone = (await listForgotten(repo)).find((f) => f.asset === asset && f.assetVersion === n);
  if (gone) throw new SnapshotNotFoundError(`${asset}@v${n} was forgotten on ${gone.forgotten} (snapshot ${gone.snapshot.slice(0, 12)}): it can no longer be restored from ${repo.storage.location}; a replica may still have it`);
  throw new SnapshotNotFoundError(`${asset} has no version v${n} in ${repo.storage.location} (see "lifeboat versions ${asset}")`);
}
