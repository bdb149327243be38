/**
 * Listing snapshots and resolving what a user names: an id, a unique prefix, `latest`, `ASSET@latest`,
 * `ASSET@vN`. A snapshot object that cannot be read stays out of listings, but a "newest" pick is
 * refused while there is one (it may be the newest), unless the caller says to skip it.
 */
import type { ErrorCode } from '../base/errors.js';
import { byCodeUnit } from '../base/order.js';
import { IntegrityError, RepoError } from '../repo/errors.js';
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
  const read = await Promise.all((await listIds(repo.storage, 'snapshot')).map((id) => readSnapshot(repo, id)));
  const all: StoredSnapshot[] = [];
  for (const r of read) {
    if ('error' in r) onDamaged?.(r.id, r.error);
    else all.push(r);
  }
  return all.sort((a, b) => byCodeUnit(a.snapshot.time, b.snapshot.time) || byCodeUnit(a.id, b.id));
}

/** One snapshot object, or why it cannot be read (storage errors still throw). */
async function readSnapshot(repo: Repository, id: string): Promise<StoredSnapshot | DamagedSnapshot> {
  try {
    return { id, snapshot: decodeSnapshot(await loadObject(repo, 'snapshot', id), id) };
  } catch (err) {
    if (!(err instanceof RepoError)) throw err;
    return { id, error: err };
  }
}

export async function saveSnapshot(repo: Repository, snapshot: Snapshot): Promise<string> {
  return saveObject(repo, 'snapshot', Buffer.from(JSON.stringify(snapshot)));
}

export function latestOf(all: readonly StoredSnapshot[], asset?: string): StoredSnapshot | undefined {
  const matching = asset === undefined ? all : all.filter((s) => s.snapshot.asset === asset);
  return matching[matching.length - 1];
}

/** A snapshot object that cannot be read, and why. */
export interface DamagedSnapshot {
  id: string;
  error: RepoError;
}

/** listSnapshots, with the objects it left out as data (for a listing's JSON, and for every "newest" pick). */
export async function listSnapshotsAndDamage(repo: Repository): Promise<{ snapshots: StoredSnapshot[]; damaged: DamagedSnapshot[] }> {
  const damaged: DamagedSnapshot[] = [];
  const snapshots = await listSnapshots(repo, (id, error) => damaged.push({ id, error }));
  return { snapshots, damaged: damaged.sort((a, b) => byCodeUnit(a.id, b.id)) };
}

export interface ResolveOptions {
  /**
   * `latest`, `ASSET@latest` (and a runbook's latest or --as-of): take the newest readable snapshot
   * even while some snapshot objects cannot be read. Without it such a pick is refused.
   */
  skipDamaged?: boolean;
  /** Told when skipDamaged passed over snapshots that cannot be read. */
  onWarning?: (message: string) => void;
}

/** "2 snapshot object(s) in LOCATION cannot be read (3fa2b1c0d9e8, 9c1d2e3f4a5b)": the first few ids, and how many more. */
export function describeDamaged(ids: readonly string[], location: string): string {
  const shown = ids.slice(0, 3).map((id) => id.slice(0, 12)).join(', ') + (ids.length > 3 ? ` and ${ids.length - 3} more` : '');
  return `${ids.length} snapshot object(s) in ${location} cannot be read (${shown})`;
}

const labelOf = (s: StoredSnapshot) => `${s.id.slice(0, 12)} (${s.snapshot.asset}${s.snapshot.assetVersion === undefined ? '' : `@v${s.snapshot.assetVersion}`}, ${s.snapshot.time})`;

/** What to do about a refused "newest" pick, on a command that has --skip-damaged. */
export const SKIP_DAMAGED_REMEDY = 'name the snapshot by its id or ASSET@vN (see "lifeboat snapshots"), remove the unreadable objects with "lifeboat repair snapshots" ("lifeboat check" reports the damage, and a replica may still hold the snapshot), or pass --skip-damaged to take the newest readable one';

/**
 * A snapshot asked for cannot be told apart from the snapshot objects that cannot be read: a
 * "newest" pick (latest, ASSET@latest, --as-of), or an ASSET@vN that no readable snapshot
 * carries. Their asset, time and number are inside the damaged, encrypted bytes, so any of them
 * may be the one asked for: answering with the newest readable snapshot would restore an older
 * version and report success. Exit 13, as damage is what stands in the way.
 */
export class DamagedSnapshotsError extends IntegrityError {
  constructor(
    readonly spec: string,
    readonly damaged: readonly string[],
    /** What a newest pick would be without the damaged objects. */
    readonly newestReadable: StoredSnapshot | undefined,
    /** What is wrong, without what to do (a caller may name another remedy). */
    readonly reason: string,
    remedy: string,
  ) {
    super(`${reason}: ${remedy}`);
  }
}

/**
 * Guards every "newest" pick: while any snapshot object cannot be read, `found` (the newest of the
 * readable ones) is refused with DamagedSnapshotsError, or with skipDamaged taken with a warning.
 */
export function newestUnlessDamaged(spec: string, found: StoredSnapshot | undefined, damaged: readonly DamagedSnapshot[], location: string, options: ResolveOptions = {}): StoredSnapshot | undefined {
  if (damaged.length === 0) return found;
  const ids = damaged.map((d) => d.id);
  if (!options.skipDamaged) {
    const readable = found ? `the newest readable one, ${labelOf(found)}` : 'the readable ones (none matches)';
    throw new DamagedSnapshotsError(spec, ids, found, `cannot tell which snapshot "${spec}" is: ${describeDamaged(ids, location)}, and any of them may be newer than ${readable}`, SKIP_DAMAGED_REMEDY);
  }
  if (found) options.onWarning?.(`"${spec}" is ${labelOf(found)}, the newest readable snapshot; ${describeDamaged(ids, location)} and were skipped (--skip-damaged): one of them may have been newer`);
  return found;
}

export async function resolveSnapshot(repo: Repository, spec: string, options: ResolveOptions = {}): Promise<StoredSnapshot> {
  if (spec === 'latest' || spec.endsWith('@latest')) {
    const { snapshots: all, damaged } = await listSnapshotsAndDamage(repo);
    const asset = spec === 'latest' ? undefined : spec.slice(0, -'@latest'.length);
    const found = newestUnlessDamaged(spec, latestOf(all, asset), damaged, repo.storage.location, options);
    if (!found) throw new SnapshotNotFoundError(asset ? `no snapshot of asset "${asset}" in ${repo.storage.location}` : `no snapshots in ${repo.storage.location}`);
    return found;
  }
  const version = /^(.+)@v(\d+)$/.exec(spec);
  if (version) {
    const { snapshots: all, damaged } = await listSnapshotsAndDamage(repo);
    return byVersion(repo, all, version[1], Number(version[2]), options.skipDamaged ? [] : damaged);
  }
  if (!/^[0-9a-f]{1,64}$/.test(spec)) throw new SnapshotNotFoundError(`"${spec}" is not a snapshot id, id prefix, "latest", "ASSET@latest" or "ASSET@vN"`);
  // An id is in the object's name: only the objects it matches are read (a repository may hold thousands).
  const matches = await Promise.all((await listIds(repo.storage, 'snapshot')).filter((id) => id.startsWith(spec)).map((id) => readSnapshot(repo, id)));
  const unreadable = matches.filter((m) => 'error' in m).length;
  // An unreadable object counts: the prefix may have been meant for it.
  if (matches.length > 1) throw new SnapshotNotFoundError(`snapshot prefix ${spec} is ambiguous (${matches.length} snapshots${unreadable ? `, ${unreadable} of them unreadable` : ''}): give more characters`);
  if (matches.length === 0) throw new SnapshotNotFoundError(`no snapshot ${spec} in ${repo.storage.location} (see "lifeboat snapshots")`);
  const [match] = matches;
  if ('error' in match) throw match.error;
  return match;
}

/** ASSET@vN: the snapshot with that number; a forgotten or never-given number is named as such. */
async function byVersion(repo: Repository, all: readonly StoredSnapshot[], asset: string, n: number, damaged: readonly DamagedSnapshot[]): Promise<StoredSnapshot> {
  const matches = all.filter((s) => s.snapshot.asset === asset && s.snapshot.assetVersion === n);
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new SnapshotNotFoundError(`${asset}@v${n} is ambiguous: snapshots ${matches.map((s) => s.id.slice(0, 12)).join(' and ')} both carry it (two backups finished at once); name one by its id`);
  const gone = (await listForgotten(repo)).find((f) => f.asset === asset && f.assetVersion === n);
  if (gone) throw new SnapshotNotFoundError(`${asset}@v${n} was forgotten on ${gone.forgotten} (snapshot ${gone.snapshot.slice(0, 12)}): it can no longer be restored from ${repo.storage.location}; a replica may still have it`);
  // The number is inside the snapshot: an unreadable object may carry it.
  if (damaged.length) {
    const ids = damaged.map((d) => d.id);
    throw new DamagedSnapshotsError(`${asset}@v${n}`, ids, undefined, `${asset} has no readable version v${n}, and ${describeDamaged(ids, repo.storage.location)} (one of them may carry it)`, '"lifeboat check" reports the damage, and a replica may still hold the version');
  }
  throw new SnapshotNotFoundError(`${asset} has no version v${n} in ${repo.storage.location} (see "lifeboat versions ${asset}")`);
}
