/**
 * Job records: what the DR plane did, kept in the repository as sealed objects `jobs/<id>`
 * (docs/format.md, section 14), so that the second site and a rebuilt catalog know the history
 * too. A record is written once, when its job has ended; a job that never ended left nothing but
 * what it wrote on the way (packs), which is always safe.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '../base/errors.js';
import { FormatError } from '../repo/errors.js';
import { listIds, loadObject, parseJson, saveObject, type Repository } from '../repo/repository.js';

export const JOB_RECORD_VERSION = 1;

export type JobKind = 'backup' | 'replicate' | 'verify' | 'retention' | 'prune' | 'drill';
export type JobResult = 'ok' | 'failed' | 'interrupted';

export interface JobRecord {
  version: number;
  /** A random id given when the job started (the object's own id is the hash of its bytes). */
  job: string;
  kind: JobKind;
  /** The asset, for per-asset jobs; absent for repository-wide ones. */
  asset?: string;
  host: string;
  startedAt: string;
  finishedAt: string;
  result: JobResult;
  error?: { code: ErrorCode; message: string };
  /** What the job did, by kind: snapshot id and bytes of a backup, packs read by a verification, ... */
  details: Record<string, unknown>;
}

/** How a job ended, before it is made a record (id, host and times added). */
export type JobOutcome = Pick<JobRecord, 'result' | 'details'> & { error?: JobRecord['error'] };

export function newJobId(): string {
  return randomUUID();
}

/** A job that has ended, as its record. */
export function finishedJob(kind: JobKind, outcome: JobOutcome, run: { host: string; startedAt: string; finishedAt: string; asset?: string }): JobRecord {
  return { version: JOB_RECORD_VERSION, job: newJobId(), kind, ...(run.asset ? { asset: run.asset } : {}), host: run.host, startedAt: run.startedAt, finishedAt: run.finishedAt, ...outcome };
}

export async function saveJobRecord(repo: Repository, record: JobRecord): Promise<string> {
  return saveObject(repo, 'job', Buffer.from(JSON.stringify(record)));
}

export async function loadJobRecord(repo: Repository, id: string): Promise<JobRecord> {
  const record = parseJson<JobRecord>(await loadObject(repo, 'job', id), `job record ${id.slice(0, 12)}`);
  if (typeof record.version !== 'number' || record.version > JOB_RECORD_VERSION) {
    throw new FormatError(`job record ${id.slice(0, 12)} has version ${record.version}, newer than this lifeboat supports: upgrade lifeboat`);
  }
  return record;
}

export function listJobIds(repo: Repository): Promise<string[]> {
  return listIds(repo.storage, 'job');
}

/** The newest record matching `match`, by finish time. */
export function newestRecord(records: Iterable<JobRecord>, match: (r: JobRecord) => boolean): JobRecord | undefined {
  let best: JobRecord | undefined;
  for (const r of records) if (match(r) && (!best || r.finishedAt > best.finishedAt)) best = r;
  return best;
}
