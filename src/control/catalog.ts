/**
 * The catalog: a local SQLite file that caches what the repository says — its snapshots and job
 * records, decoded — so that `status` and `serve` do not fetch and decrypt hundreds of objects
 * each time. It is only a cache: every sync lists the repository's ids, loads the new objects and
 * drops the ones that are gone; `lifeboat catalog rebuild` deletes it and loads everything again.
 * Objects are content-addressed, so a cached row never goes stale, it can only disappear.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RepoError } from '../repo/errors.js';
import { listIds, type Repository } from '../repo/repository.js';
import { decodeSnapshot } from '../repo/snapshot.js';
import { loadObject } from '../repo/repository.js';
import type { StoredSnapshot } from '../engine/snapshots.js';
import { listJobIds, loadJobRecord, type JobRecord } from './jobs.js';

export const CATALOG_SCHEMA_VERSION = 1;

export interface CatalogView {
  snapshots: StoredSnapshot[];
  jobs: Array<{ id: string; record: JobRecord }>;
}

export interface Catalog {
  readonly file: string;
  /** Brings the cached view of `repo` up to date and returns it (snapshots oldest first). */
  sync(repo: Repository, onDamaged?: (what: string, err: Error) => void): Promise<CatalogView>;
  close(): void;
}

type Kind = 'snapshot' | 'job';

export function openCatalog(file: string): Catalog {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== CATALOG_SCHEMA_VERSION) {
    // A cache of another schema is dropped, not migrated: the repository has everything.
    db.exec('DROP TABLE IF EXISTS objects');
    db.exec('CREATE TABLE objects (repo TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (repo, kind, id)) WITHOUT ROWID');
    db.pragma(`user_version = ${CATALOG_SCHEMA_VERSION}`);
  }
  const select = db.prepare<[string, Kind], { id: string; json: string }>('SELECT id, json FROM objects WHERE repo = ? AND kind = ?');
  const insert = db.prepare<[string, Kind, string, string]>('INSERT OR REPLACE INTO objects (repo, kind, id, json) VALUES (?, ?, ?, ?)');
  const remove = db.prepare<[string, Kind, string]>('DELETE FROM objects WHERE repo = ? AND kind = ? AND id = ?');

  /** The objects of one kind: cached rows for ids still listed, new ids loaded; rows of gone ids deleted. */
  async function syncKind<T>(repo: Repository, kind: Kind, ids: string[], load: (id: string) => Promise<T>, onDamaged?: (what: string, err: Error) => void): Promise<Map<string, T>> {
    const repoId = repo.config.id;
    const cached = new Map(select.all(repoId, kind).map((r) => [r.id, r.json]));
    const listed = new Set(ids);
    const out = new Map<string, T>();
    const fresh: Array<[string, T]> = [];
    await Promise.all(
      ids.map(async (id) => {
        const json = cached.get(id);
        if (json !== undefined) return void out.set(id, JSON.parse(json) as T);
        try {
          const value = await load(id);
          out.set(id, value);
          fresh.push([id, value]);
        } catch (err) {
          if (!(err instanceof RepoError)) throw err;
          onDamaged?.(`${kind} ${id.slice(0, 12)}`, err);
        }
      }),
    );
    db.transaction(() => {
      for (const [id, value] of fresh) insert.run(repoId, kind, id, JSON.stringify(value));
      for (const id of cached.keys()) if (!listed.has(id)) remove.run(repoId, kind, id);
    })();
    return out;
  }

  return {
    file,
    async sync(repo, onDamaged) {
      const [snapshotIds, jobIds] = await Promise.all([listIds(repo.storage, 'snapshot'), listJobIds(repo)]);
      const [snapshots, jobs] = await Promise.all([
        syncKind(repo, 'snapshot', snapshotIds, async (id) => decodeSnapshot(await loadObject(repo, 'snapshot', id), id), onDamaged),
        syncKind(repo, 'job', jobIds, (id) => loadJobRecord(repo, id), onDamaged),
      ]);
      const stored = [...snapshots].map(([id, snapshot]) => ({ id, snapshot }));
      stored.sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id));
      const records = [...jobs].map(([id, record]) => ({ id, record }));
      records.sort((a, b) => a.record.finishedAt.localeCompare(b.record.finishedAt) || a.id.localeCompare(b.id));
      return { snapshots: stored, jobs: records };
    },
    close: () => db.close(),
  };
}

/** Where the catalog lives: LIFEBOAT_CATALOG, else catalog.sqlite in the cache directory. */
export function catalogFile(env: NodeJS.ProcessEnv, cacheRoot: string): string {
  return env.LIFEBOAT_CATALOG ? path.resolve(env.LIFEBOAT_CATALOG) : path.join(cacheRoot, 'catalog.sqlite');
}

/** Deletes the catalog file (and SQLite's companions): the next sync loads everything from the repository. */
export function deleteCatalog(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}
