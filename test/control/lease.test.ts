/**
 * Leases in the repository, on create-if-absent only (run on both backends): of hosts racing for
 * a lease exactly one gets it; the holder keeps it by renewing; a dead holder's lease passes on
 * within one period of its last renewal; a holder that cannot renew in time loses it and its
 * signal says so; a released lease is free at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import { manualClock, systemClock } from '../../src/base/clock.js';
import { readLease, tryAcquireLease } from '../../src/control/lease.js';
import type { Storage } from '../../src/storage/storage.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const TTL = 8000;

/** Moves the manual clock on, then gives the lease's storage writes real time to land. */
async function tick(clock: ReturnType<typeof manualClock>, ms: number): Promise<void> {
  await clock.advance(ms);
  await new Promise((r) => setTimeout(r, 100));
}

test('of racing hosts exactly one takes a lease; others get it only when it is released', async (t) => {
  const repo = await createRepo(path.join(await tempDir(t), 'repo'));
  const hosts = ['a', 'b', 'c', 'd', 'e', 'f'];
  const leases = await Promise.all(hosts.map(async (host) => (await tryAcquireLease(repo, 'job-verify', { clock: systemClock, host, holder: `process-on-${host}`, ttlMs: TTL })).lease));
  const winners = leases.filter((l) => l !== undefined);
  assert.equal(winners.length, 1, 'exactly one winner');
  const late = await tryAcquireLease(repo, 'job-verify', { clock: systemClock, host: 'g', holder: 'process-on-g', ttlMs: TTL });
  assert.equal(late.lease, undefined, 'held: a latecomer does not get it');
  assert.equal(late.lease === undefined ? late.freeAt : undefined, Date.parse(winners[0]!.info.expiresAt) + TTL / 4, 'and is told when it can ask again: the expiry plus the skew margin');
  const info = await readLease(repo, 'job-verify');
  assert.equal(info?.host, winners[0]!.info.host);
  await winners[0]!.release();
  assert.equal(await readLease(repo, 'job-verify'), undefined, 'released: no lease left behind');
});

test('a holder keeps its lease by renewing it, and its record never promises more than one period', async (t) => {
  const repo = await createRepo(path.join(await tempDir(t), 'repo'));
  const clock = manualClock('2026-05-01T00:00:00Z');
  const { lease: holder } = await tryAcquireLease(repo, 'job-prune', { clock, host: 'a', ttlMs: TTL });
  assert.ok(holder);
  for (let i = 0; i < 6; i++) await tick(clock, TTL / 3); // two periods, renewed all along
  assert.equal(holder.signal.aborted, false, 'kept by renewing');
  const renewed = await readLease(repo, 'job-prune');
  assert.ok(renewed && renewed.seq >= 6, `each renewal is a new sequence number (at ${renewed?.seq})`);
  assert.ok(Date.parse(renewed.expiresAt) - clock.now() < TTL, 'a lease left by a dead holder runs out within one period');
  const objects: string[] = [];
  for await (const o of repo.storage.list('leases/job-prune/')) objects.push(o.key);
  assert.equal(objects.length, 1, 'older sequence numbers are removed');
  await holder.release();
});

test('a holder that cannot renew before its lease runs out loses it, and its signal aborts the job', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const clock = manualClock('2026-05-01T00:00:00Z');
  let failing = false;
  const storage: Storage = { ...repo.storage, put: (key, data, o) => (failing && key.startsWith('leases/') ? Promise.reject(new Error('connection reset')) : repo.storage.put(key, data, o)) };
  const warnings: string[] = [];
  const { lease } = await tryAcquireLease({ ...repo, storage }, 'job-retention', { clock, host: 'a', ttlMs: TTL, onWarning: (m) => warnings.push(m) });
  assert.ok(lease);
  failing = true;
  for (let i = 0; i < 4 && !lease.signal.aborted; i++) await tick(clock, TTL / 3);
  assert.equal(lease.signal.aborted, true);
  assert.match(String((lease.signal.reason as Error).message), /lease job-retention lost: it expired at .* before it could be renewed/);
  assert.ok(warnings.some((w) => /renewal failed \(connection reset\); trying again/.test(w)), warnings.join('\n'));
  failing = false;
  await lease.release();
});

test('a lease whose holder stopped renewing is taken over by another process after it expires', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  // The other holder's lease, written as it would be (another process: another holder id).
  const { seal } = await import('../../src/repo/crypto.js');
  const now = Date.now();
  const theirs = { name: 'job-verify', seq: 7, host: 'dead-host', holder: 'another-process', acquiredAt: new Date(now - 60_000).toISOString(), expiresAt: new Date(now + 1500).toISOString() };
  await repo.storage.put('leases/job-verify/000000000007', seal(repo.key.data, 'lease', Buffer.from(JSON.stringify(theirs))), { ifAbsent: true });
  const held = await tryAcquireLease(repo, 'job-verify', { clock: systemClock, host: 'b', ttlMs: TTL, skewMs: 500 });
  assert.equal(held.lease, undefined, 'held: not taken');
  assert.equal(held.lease === undefined ? held.freeAt : undefined, now + 1500 + 500, 'free at its expiry plus the skew');
  await new Promise((r) => setTimeout(r, 2100));
  const { lease: mine } = await tryAcquireLease(repo, 'job-verify', { clock: systemClock, host: 'b', ttlMs: TTL, skewMs: 500 });
  assert.ok(mine, 'expired plus the skew: taken over');
  assert.equal(mine.info.seq, 8);
  assert.equal((await readLease(repo, 'job-verify'))?.host, 'b');
  await mine.release();
});
