/**
 * Forget records (`forgotten/<id>`): which asset versions forget removed. A version number is
 * given once (ASSET@vN, docs/format.md §9): the next number of an asset is one more than the
 * highest its snapshots and these records know, so removing the newest snapshot does not free
 * its number. Forget writes the record before it deletes a snapshot; prune never deletes one.
 */
import { hostName, isoNow, systemClock, type Clock } from '../base/clock.js';
import { FormatError } from '../repo/errors.js';
import { listIds, loadObject, parseJson, saveObject, type Repository } from '../repo/repository.js';
import type { StoredSnapshot } from './snapshots.js';

export const FORGET_RECORD_VERSION = 1;

export interface ForgottenVersion {
  snapshot: string;
  asset: string;
  assetVersion: number;
  /** When the snapshot was made, and its root tree. */
  time: string;
  tree: string;
  /** When forget removed it. */
  forgotten: string;
}

interface ForgetRecord {
  version: number;
  time: string;
  hostname: string;
  snapshots: Array<Omit<ForgottenVersion, 'forgotten'>>;
}

/** Writes one record naming the numbered snapshots of `removed` (none: nothing is written). Call it before deleting them. */
export async function recordForgotten(repo: Repository, removed: readonly StoredSnapshot[], clock: Clock = systemClock): Promise<string | undefined> {
  const snapshots = removed
    .filter((s) => s.snapshot.assetVersion !== undefined)
    .map((s) => ({ snapshot: s.id, asset: s.snapshot.asset, assetVersion: s.snapshot.assetVersion!, time: s.snapshot.time, tree: s.snapshot.tree }));
  if (snapshots.length === 0) return undefined;
  const record: ForgetRecord = { version: FORGET_RECORD_VERSION, time: isoNow(clock), hostname: hostName(), snapshots };
  return saveObject(repo, 'forgotten', Buffer.from(JSON.stringify(record)));
}

/**
 * Every forgotten version the records name. A record that cannot be read fails the listing: a
 * number it holds could otherwise be given again.
 */
export async function listForgotten(repo: Repository): Promise<ForgottenVersion[]> {
  const ids = await listIds(repo.storage, 'forgotten');
  const records = await Promise.all(
    ids.map(async (id) => {
      const record = parseJson<ForgetRecord>(await loadObject(repo, 'forgotten', id), `forget record ${id.slice(0, 12)}`);
      if (typeof record.version !== 'number' || record.version > FORGET_RECORD_VERSION) {
        throw new FormatError(`forget record ${id.slice(0, 12)} has version ${record.version}, newer than this lifeboat supports: upgrade lifeboat`);
      }
      return record.snapshots.map((s) => ({ ...s, forgotten: record.time }));
    }),
  );
  return records.flat();
}
