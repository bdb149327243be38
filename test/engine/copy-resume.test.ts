/**
 * A copy killed at random points (a real CLI process, SIGKILL) and run again completes without
 * sending again any blob the destination had indexed, and the destination passes check with
 * --read-data. Against a local directory and against Ceph RGW (which must be running: these tests
 * fail, never skip, without it), plus a copy through a fault-injecting proxy in front of RGW.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { copy } from '../../src/engine/copy.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { readPackHeader } from '../../src/repo/pack.js';
import { initRepository, openRepository, type Repository } from '../../src/repo/repository.js';
import { openLocalStorage } from '../../src/storage/local.js';
import { openS3Storage } from '../../src/storage/s3.js';
import type { Storage } from '../../src/storage/storage.js';
import { finished, spawnCli } from '../helpers/cli.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { writeRandomFile } from '../helpers/files.js';
import { dataBlobsOf } from '../helpers/snapshot-files.js';
import { createRepo, FAST_KDF, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { createTestBucket, freshPrefix, removeTestBucket, requireRgw, RGW, rgwOptions } from '../storage/rgw.js';

const MiB = 1024 * 1024;
const REPLICA_PASSWORD = 'replica password';
const KILLS = 3;

/** Whether the destination has indexed data blobs of a source snapshot it does not have yet. */
async function partlyIndexed(source: Repository, replica: Repository, indexed: Set<string>): Promise<boolean> {
  const present = new Set((await listSnapshots(replica)).map((s) => s.snapshot.time));
  for (const s of await listSnapshots(source)) {
    if (present.has(s.snapshot.time)) continue;
    for (const b of await dataBlobsOf(source, s.id)) if (indexed.has(b)) return true;
  }
  return false;
}

type Ctx = { after(fn: () => Promise<void>): void };

interface Destination {
  url: string;
  open(): Storage;
  env: Record<string, string>;
  args: string[];
}

/**
 * Two snapshots: 16 MiB, then 6 MiB more (incompressible). At the destination (512 KiB packs) every
 * blob of about 1 MiB is a pack of its own, so the first snapshot alone spans more than the 8 packs
 * after which the packer writes an index file: a kill can land after part of a snapshot is indexed.
 */
async function primaryWithSeries(t: Ctx): Promise<{ dir: string; primary: string; source: Repository }> {
  const dir = await tempDir(t);
  const primary = path.join(dir, 'primary');
  const source = await createRepo(primary);
  const data = path.join(dir, 'data');
  await fs.mkdir(data);
  for (let i = 0; i < 4; i++) await writeRandomFile(path.join(data, `shard-${i}.bin`), 4 * MiB, `shard-${i}`);
  await backup(source, { asset: 'ckpt', paths: [data], tier: 1 });
  await writeRandomFile(path.join(data, 'shard-3.bin'), 6 * MiB, 'shard-3');
  await backup(source, { asset: 'ckpt', paths: [data], tier: 1 });
  return { dir, primary, source };
}

async function packsOf(storage: Storage): Promise<Map<string, number>> {
  const packs = new Map<string, number>();
  for await (const info of storage.list('data/')) packs.set(info.key, info.size);
  return packs;
}

async function indexedBlobs(repo: Repository): Promise<Set<string>> {
  const { index } = await loadIndex(repo);
  const ids = new Set<string>();
  index.forEach((id) => ids.add(Buffer.from(id).toString('hex')));
  return ids;
}

/** Runs `lifeboat copy --all`, killing it with SIGKILL once the destination holds `killAfterPacks` more packs (undefined: let it finish). */
async function runCopy(primary: string, dest: Destination, storage: Storage, killAfterPacks: number | undefined) {
  const passwordFile = path.join(path.dirname(primary), 'replica-password');
  await fs.writeFile(passwordFile, REPLICA_PASSWORD);
  const start = (await packsOf(storage)).size;
  const child = spawnCli(['copy', '-r', repoUrl(primary), '--to', dest.url, '--to-password-file', passwordFile, '--all', '--json', ...dest.args], { env: dest.env });
  const done = finished(child, 90_000);
  if (killAfterPacks !== undefined) {
    let exited = false;
    void done.then(() => (exited = true), () => (exited = true));
    while (!exited && (await packsOf(storage)).size - start < killAfterPacks) await sleep(15);
    child.kill('SIGKILL');
  }
  return done;
}

function resumeSpec(name: string, destination: (t: Ctx) => Promise<Destination>) {
  it(`${name}: killed at up to ${KILLS} random points, the copy resumes without re-sending indexed blobs and the replica checks clean`, async (t) => {
    const { primary, source } = await primaryWithSeries(t);
    const dest = await destination(t);
    const storage = dest.open();
    t.after(() => storage.close());
    await initRepository(storage, REPLICA_PASSWORD, { kdf: FAST_KDF, config: { packSize: 512 * 1024 } });
    const { index } = await loadIndex(source);
    const totalBlobs = index.size;

    const killedAt: number[] = [];
    const resentViolations: string[] = [];
    let finalResult: { bytesRead: number; copied: number; present: number } | undefined;
    let indexedBeforeFinal = 0;
    let partialStarts = 0;
    for (let round = 0; round <= KILLS; round++) {
      const replica = await openRepository(storage, REPLICA_PASSWORD);
      const indexedBefore = await indexedBlobs(replica);
      const packsBefore = await packsOf(storage);
      if (await partlyIndexed(source, replica, indexedBefore)) partialStarts++;
      if (round === KILLS) indexedBeforeFinal = indexedBefore.size;
      // The first kill comes after the first index file (8 packs), so the next run starts inside a partly indexed snapshot.
      const killAfter = round === KILLS ? undefined : round === 0 ? 9 + Math.floor(Math.random() * 3) : 1 + Math.floor(Math.random() * 6);
      const run = await runCopy(primary, dest, storage, killAfter);
      if (run.signal === 'SIGKILL') killedAt.push(killAfter!);
      else if (round === 0) assert.fail(`the first run finished before it could be killed: ${run.stderr}`);
      else assert.equal(run.code, 0, `round ${round}: ${run.stderr}`);
      if (round === KILLS) finalResult = JSON.parse(run.stdout);
      // Every pack this run wrote holds only blobs that were not indexed at the destination before it.
      let blobBytesWritten = 0;
      for (const [key] of await packsOf(storage)) {
        if (packsBefore.has(key)) continue;
        const packId = key.slice(key.lastIndexOf('/') + 1);
        for (const e of readPackHeader(replica.key.data, await storage.get(key), packId)) {
          const id = e.id.toString('hex');
          blobBytesWritten += e.storedLength;
          if (indexedBefore.has(id)) resentViolations.push(`round ${round} re-sent blob ${id.slice(0, 12)} in pack ${packId.slice(0, 12)}`);
        }
      }
      if (round === KILLS) {
        // Byte for byte: the last run wrote exactly the blobs the destination lacked (a re-sealed blob keeps its stored size).
        let lacking = 0;
        index.forEach((id, blob) => (lacking += indexedBefore.has(Buffer.from(id).toString('hex')) ? 0 : blob.storedLength));
        assert.equal(blobBytesWritten, lacking);
        assert.equal(finalResult!.bytesRead, lacking);
      }
    }
    assert.deepEqual(resentViolations, []);
    assert.ok(killedAt.length >= 1, 'at least one run was killed mid-copy');
    assert.ok(partialStarts >= 1, 'at least one run started inside a snapshot whose blobs were partly indexed');
    t.diagnostic(`killed after ${killedAt.join(', ')} new pack(s); ${indexedBeforeFinal} blob(s) indexed before the last run`);
    let sourceStored = 0;
    index.forEach((_, blob) => (sourceStored += blob.storedLength));
    if (indexedBeforeFinal > 0) assert.ok(finalResult!.bytesRead < sourceStored, `the last run read ${finalResult!.bytesRead} of ${sourceStored} bytes: what was indexed was skipped`);

    const replica = await openRepository(storage, REPLICA_PASSWORD);
    assert.equal((await indexedBlobs(replica)).size, totalBlobs, 'every blob of the primary is indexed at the replica');
    const keys = (await listSnapshots(replica)).map((s) => `${s.snapshot.asset}@${s.snapshot.time}/${s.snapshot.tree}`);
    assert.deepEqual(keys, (await listSnapshots(source)).map((s) => `${s.snapshot.asset}@${s.snapshot.time}/${s.snapshot.tree}`));
    const report = await check(replica, { readData: 1 });
    assert.ok(report.ok, JSON.stringify({ errors: report.errors, damaged: report.damagedBlobs }));
  });
}

describe('copy resumes after being killed', () => {
  let bucket: string;
  before(async () => {
    await requireRgw();
    bucket = await createTestBucket('copy');
  });
  after(async () => {
    if (bucket) await removeTestBucket(bucket);
  });

  resumeSpec('local destination', async (t) => {
    const dir = path.join(await tempDir(t), 'replica');
    return { url: dir, open: () => openLocalStorage(dir), env: {}, args: [] };
  });

  resumeSpec('S3 destination (RGW)', async () => {
    const url = `s3://${bucket}/${freshPrefix()}`;
    return {
      url,
      open: () => openS3Storage(url, rgwOptions(), {}),
      // The destination's endpoint by flag (a second site's S3 need not be the source's).
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: RGW.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: RGW.credentials.secretAccessKey },
      args: ['--to-endpoint', RGW.endpoint, '--to-region', RGW.region],
    };
  });

  it('copies correctly to S3 through dropped uploads and 503 SlowDown', async (t) => {
    const { source } = await primaryWithSeries(t);
    const target = new URL(RGW.endpoint);
    const proxy: FaultProxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
    const url = `s3://${bucket}/${freshPrefix()}`;
    const faulty = openS3Storage(url, rgwOptions({ endpoint: proxy.url, retry: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 10 } }), {});
    const direct = openS3Storage(url, rgwOptions(), {});
    try {
      const replica = await initRepository(faulty, REPLICA_PASSWORD, { kdf: FAST_KDF, config: { packSize: 2 * MiB } });
      // Every third pack upload dropped mid-body, every fourth other request answered 503 SlowDown.
      let puts = 0;
      let others = 0;
      proxy.setPlan((r) => {
        if (r.method === 'PUT' && Number(r.headers['content-length'] ?? 0) > 100_000) return ++puts % 3 === 1 ? { kind: 'drop-request', afterBytes: 50_000 } : undefined;
        return ++others % 4 === 0 ? { kind: 'respond', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' } : undefined;
      });
      const result = await copy(source, replica, { all: true });
      assert.equal(result.copied, 2);
      assert.ok((proxy.stats.injected['drop-request'] ?? 0) > 0 && (proxy.stats.injected.respond ?? 0) > 0, JSON.stringify(proxy.stats.injected));
      proxy.setPlan(undefined);
      const report = await check(await openRepository(direct, REPLICA_PASSWORD), { readData: 1 });
      assert.ok(report.ok, JSON.stringify(report.errors));
      assert.equal(report.snapshots, 2);
    } finally {
      await proxy.close();
      await faulty.close();
      await direct.close();
    }
  });
});
