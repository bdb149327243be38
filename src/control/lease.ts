/**
 * Leases: "exactly one host at a time" for repository-wide jobs (verification, retention, prune,
 * drills) and for assets several hosts could back up, without a coordinator of our own — only the
 * storage layer's atomic create-if-absent (S3 conditional PUT, a hard link locally).
 *
 * A lease NAME is a sequence of sealed objects `leases/NAME/<seq>` (docs/format.md, section 14).
 * The newest one says who holds it until when. To take a free or expired lease, a host creates
 * the next sequence number with create-if-absent: of several racing hosts exactly one succeeds.
 * The holder renews the same way, at a third of the period; if its renewal's number was taken, or
 * it cannot renew before the lease expires, the lease is lost and its signal aborts the job.
 * Expiry is judged with a margin for clock skew between hosts.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../base/clock.js';
import { LifeboatError } from '../base/errors.js';
import { open, seal } from '../repo/crypto.js';
import type { Repository } from '../repo/repository.js';
import { AlreadyExistsError, NotFoundError } from '../storage/errors.js';

export interface LeaseInfo {
  name: string;
  seq: number;
  /** Host name and a random id of the process holding it. */
  host: string;
  holder: string;
  acquiredAt: string;
  expiresAt: string;
}

export interface Lease {
  readonly info: LeaseInfo;
  /** Aborted (reason: LEASE_LOST) when the lease could not be kept. */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

export interface LeaseOptions {
  clock: Clock;
  host: string;
  /** How long a lease lasts without renewal. */
  ttlMs: number;
  /** The clock skew allowed between hosts (default: a quarter of the period, at most 5 s). */
  skewMs?: number;
  onWarning?: (message: string) => void;
  /** Who holds it: one id per process by default (tests give several "processes" their own). */
  holder?: string;
}

const PREFIX = 'leases/';
const key = (name: string, seq: number) => `${PREFIX}${name}/${String(seq).padStart(12, '0')}`;

/** This process's holder id: one per process, so a restarted serve never mistakes an old lease for its own. */
const PROCESS_HOLDER = randomBytes(8).toString('hex');

/** The newest record of a lease, or undefined when none was ever taken (or it was released). */
export async function readLease(repo: Repository, name: string): Promise<LeaseInfo | undefined> {
  let newest: string | undefined;
  for await (const o of repo.storage.list(`${PREFIX}${name}/`)) if (!newest || o.key > newest) newest = o.key;
  if (!newest) return undefined;
  try {
    return JSON.parse(open(repo.key.data, 'lease', await repo.storage.get(newest), `lease ${name}`).toString('utf8')) as LeaseInfo;
  } catch (err) {
    if (err instanceof NotFoundError) return readLease(repo, name); // released meanwhile
    throw err;
  }
}

/** The lease taken, or, when another holder has it, the earliest time it can be taken: its expiry plus the skew margin. */
export type LeaseAttempt = { lease: Lease } | { lease?: undefined; freeAt: number };

/** Takes the lease if it is free or expired. */
export async function tryAcquireLease(repo: Repository, name: string, options: LeaseOptions): Promise<LeaseAttempt> {
  const current = await readLease(repo, name);
  const now = options.clock.now();
  if (current && current.holder !== (options.holder ?? PROCESS_HOLDER)) {
    const freeAt = Date.parse(current.expiresAt) + skewOf(options);
    if (freeAt > now) return { freeAt };
  }
  const info = await writeNext(repo, name, (current?.seq ?? 0) + 1, options, now);
  // Another host won the race to this sequence number: its lease runs a full period from about now.
  if (!info) return { freeAt: now + options.ttlMs };
  if (current) await removeOlder(repo, name, info.seq);
  return { lease: holdLease(repo, info, options) };
}

async function writeNext(repo: Repository, name: string, seq: number, options: LeaseOptions, now: number, acquiredAt?: string): Promise<LeaseInfo | undefined> {
  // The holder gives up at expiresAt; others wait a skew longer: a dead holder's lease passes on within one period of its last renewal.
  const expiresAt = new Date(now + options.ttlMs - skewOf(options)).toISOString();
  const info: LeaseInfo = { name, seq, host: options.host, holder: options.holder ?? PROCESS_HOLDER, acquiredAt: acquiredAt ?? new Date(now).toISOString(), expiresAt };
  try {
    await repo.storage.put(key(name, seq), seal(repo.key.data, 'lease', Buffer.from(JSON.stringify(info))), { ifAbsent: true });
    return info;
  } catch (err) {
    if (err instanceof AlreadyExistsError) return undefined;
    throw err;
  }
}

function skewOf(options: LeaseOptions): number {
  return options.skewMs ?? Math.min(5000, Math.floor(options.ttlMs / 4));
}

async function removeOlder(repo: Repository, name: string, keep: number): Promise<void> {
  for await (const o of repo.storage.list(`${PREFIX}${name}/`)) {
    if (o.key < key(name, keep)) await repo.storage.delete(o.key).catch(() => {});
  }
}

function holdLease(repo: Repository, first: LeaseInfo, options: LeaseOptions): Lease {
  const controller = new AbortController();
  let info = first;
  let released = false;
  const lose = (why: string) => {
    if (!controller.signal.aborted) controller.abort(new LifeboatError('LEASE_HELD', `lease ${info.name} lost: ${why}; the job stops so that no other host runs it at the same time`));
  };
  const every = Math.max(1, Math.floor(options.ttlMs / 3));
  const renewing = (async () => {
    while (!released && !controller.signal.aborted) {
      try {
        await options.clock.sleep(every, controller.signal);
      } catch {
        return;
      }
      if (released) return;
      const now = options.clock.now();
      if (now >= Date.parse(info.expiresAt)) return lose(`it expired at ${info.expiresAt} before it could be renewed`);
      try {
        const next = await writeNext(repo, info.name, info.seq + 1, options, now, info.acquiredAt);
        if (!next) return lose(`another host took it over (sequence ${info.seq + 1})`);
        const old = info;
        info = next;
        await repo.storage.delete(key(old.name, old.seq)).catch(() => {});
      } catch (err) {
        options.onWarning?.(`lease ${info.name}: renewal failed (${(err as Error).message}); trying again`);
      }
    }
  })();
  return {
    get info() {
      return info;
    },
    signal: controller.signal,
    async release() {
      released = true;
      controller.abort(new LifeboatError('ABORTED', 'lease released'));
      await renewing;
      await repo.storage.delete(key(info.name, info.seq)).catch(() => {});
    },
  };
}
