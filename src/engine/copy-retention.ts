/**
 * Immutability: a repository view whose packs, index files and snapshots are written with an
 * Object Lock retention date (`until`), and which, before it writes a snapshot, extends the
 * retention of every older pack and index file that snapshot needs to at least `until`. So a
 * 30-day lock protects the newest snapshot's data even when that data was written a year ago.
 *
 * It wraps storage, so every operation that writes through the repository (backup, copy) gets
 * the same rules without knowing about them. Keys, config and locks are never locked: keys must
 * stay removable and locks are deleted by their holders.
 */
import { systemClock } from '../base/clock.js';
import type { ErrorCode } from '../base/errors.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { open } from '../repo/crypto.js';
import { RepoError } from '../repo/errors.js';
import { decodeIndex } from '../repo/index-file.js';
import { objectKey, packKey, type Repository } from '../repo/repository.js';
import { decodeSnapshot } from '../repo/snapshot.js';
import type { PutOptions, Storage } from '../storage/storage.js';
import { makeLimit } from '../storage/limit.js';
import { addIndex, loadIndexMap, type IndexMap } from './index-map.js';
import { collectBlobs } from './reachable.js';
import { makeTreeReader } from './trees.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The storage cannot hold objects immutably (a local directory). */
export class RetentionUnsupportedError extends RepoError {
  override readonly code: ErrorCode = 'RETENTION_UNSUPPORTED';
}

export interface ProtectReport {
  snapshotId: string;
  until: Date;
  /** Packs / index files the snapshot needs that were written before this run and checked. */
  packsChecked: number;
  indexesChecked: number;
}

export interface RetentionOptions {
  /** The retention date of everything written (retentionUntil(days) for a period from now). */
  until: Date;
  /** Called after a snapshot's older objects were checked and extended, before the snapshot is written. */
  onProtect?: (report: ProtectReport) => void;
}

export function retentionUntil(days: number, now = new Date(systemClock.now())): Date {
  if (!(days > 0)) throw new RetentionUnsupportedError(`a retention period must be a positive number of days, not ${days}`);
  return new Date(now.getTime() + days * DAY_MS);
}

export function withRetention(repo: Repository, options: RetentionOptions): Repository {
  const inner = repo.storage;
  const extend = inner.extendRetention?.bind(inner);
  if (!extend) {
    throw new RetentionUnsupportedError(
      `${inner.location} cannot keep objects immutable (no Object Lock): use an S3 bucket created with Object Lock for --retain-days`,
    );
  }
  const { until } = options;
  const ours = new Set<string>(); // keys written by this view: they already carry `until`
  let state: Promise<IndexMap> | undefined;

  async function putRetained(key: string, data: Uint8Array, { ifAbsent, signal }: PutOptions): Promise<void> {
    await inner.put(key, data, { ifAbsent, retainUntil: until, signal });
    ours.add(key);
  }

  async function putSnapshot(key: string, data: Uint8Array, putOptions: PutOptions): Promise<void> {
    const snapshotId = key.slice('snapshots/'.length);
    const snapshot = decodeSnapshot(open(repo.key.data, 'snapshot', data, `snapshot ${snapshotId.slice(0, 12)}`), snapshotId);
    const lock = await (state ??= loadIndexMap(repo));
    const packs = new Set<string>();
    const { data: blobs, trees } = await collectBlobs(makeTreeReader(repo, lock.index, makeCodecSet(repo.config.zstdLevel)), snapshot.tree, new Set(), new Set());
    for (const id of [...blobs, ...trees]) {
      const where = lock.index.get(Buffer.from(id, 'hex'));
      if (where) packs.add(where.packId);
    }
    const indexes = new Set<string>();
    for (const p of packs) for (const i of lock.indexesOf.get(p) ?? []) indexes.add(i);
    const older = [...[...packs].map(packKey), ...[...indexes].map((i) => objectKey('index', i))].filter((k) => !ours.has(k));
    const limit = makeLimit(8);
    await Promise.all(older.map((k) => limit.run(() => extend!(k, until, putOptions.signal), putOptions.signal)));
    options.onProtect?.({ snapshotId, until, packsChecked: older.filter((k) => k.startsWith('data/')).length, indexesChecked: older.filter((k) => k.startsWith('index/')).length });
    await putRetained(key, data, putOptions);
  }

  const storage: Storage = {
    location: inner.location,
    async put(key, data, putOptions = {}) {
      if (key.startsWith('snapshots/')) return putSnapshot(key, data, putOptions);
      if (!key.startsWith('data/') && !key.startsWith('index/')) return inner.put(key, data, putOptions);
      await putRetained(key, data, putOptions);
      if (key.startsWith('index/') && state) noteIndex(await state, key.slice('index/'.length), data);
    },
    get: (key, range, into, signal) => inner.get(key, range, into, signal),
    head: (key, signal) => inner.head(key, signal),
    list: (prefix, signal) => inner.list(prefix, signal),
    delete: (key, signal) => inner.delete(key, signal),
    close: () => inner.close(),
    extendRetention: extend,
  };

  function noteIndex(lock: IndexMap, indexId: string, sealed: Uint8Array): void {
    const plain = open(repo.key.data, 'index', sealed, `index ${indexId.slice(0, 12)}`);
    addIndex(lock, indexId, decodeIndex(plain, indexId));
  }

  return { ...repo, storage };
}

