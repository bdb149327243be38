/**
 * Backup and restore of a checkpoint series on S3 through a fault-injecting proxy in front of RGW
 * (which must be running: these tests fail, never skip, without it). Uploads and downloads dropped
 * mid-body, 503 SlowDown, responses lost after the server acted, and connection resets: both
 * complete with exactly the right bytes, and check --read-data, reading the bucket directly,
 * passes afterwards. (The storage-level faults are in test/storage/s3-faults.test.ts, copy through
 * faults in copy-resume.test.ts.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultSplitters } from '../../src/repo/chunker/default-splitters.js';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { restore } from '../../src/engine/restore.js';
import { initRepository, openRepository, type Repository } from '../../src/repo/repository.js';
import { openS3Storage } from '../../src/storage/s3.js';
import type { Storage } from '../../src/storage/storage.js';
import { everyNth, firstN, startFaultProxy, type Fault, type FaultPlan, type FaultProxy, type RequestInfo } from '../helpers/fault-proxy.js';
import { sha256, sha256File, writeRandomFile } from '../helpers/files.js';
import { FAST_KDF, TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { buildSafetensors, perturb, realisticWeights, rng, type TestTensor } from '../repo/tensor-fixtures.js';
import { createTestBucket, freshPrefix, removeTestBucket, requireRgw, RGW, rgwOptions } from '../storage/rgw.js';

const MiB = 1024 * 1024;
/** Quick retries and a short stall timeout, so that the faults cost little test time. */
const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200, idleTimeoutMs: 1500, minBytesPerSecond: 20 * MiB, maxAttempts: 10 };
/** Packs of 8 MiB, uploaded in parts of 5 MiB: both single and multipart uploads meet the faults. */
const STORAGE = { partSize: 5 * MiB, multipartThreshold: 6 * MiB, retry: FAST_RETRY };

type Ctx = { after(fn: () => Promise<void>): void };

const isPackPut = (r: RequestInfo) => r.method === 'PUT' && Number(r.headers['content-length'] ?? 0) > 100_000;
/** A GET of more than 1 MiB of a pack: restore's data reads (trees and small blobs are read in smaller ranges). */
function isPackRead(r: RequestInfo): boolean {
  const range = /^bytes=(\d+)-(\d+)$/.exec(r.headers.range ?? '');
  return r.method === 'GET' && range !== null && Number(range[2]) - Number(range[1]) >= MiB;
}

/** The first plan that has a fault for a request decides (later plans do not count that request). */
function anyOf(...plans: FaultPlan[]): FaultPlan {
  return (request) => plans.reduce<Fault | undefined>((fault, plan) => fault ?? plan(request), undefined);
}

/** A checkpoint (two bf16 tensors of 6 MiB, a norm) and a fine-tune changing ~2% of its values. */
function checkpoints(): [Uint8Array, Uint8Array] {
  const next = rng(7);
  const base: TestTensor[] = [
    { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'BF16', shape: [1536, 2048], data: realisticWeights(next, 'bf16', 1536 * 2048) },
    { name: 'model.layers.0.mlp.down_proj.weight', dtype: 'BF16', shape: [2048, 1536], data: realisticWeights(next, 'bf16', 2048 * 1536) },
    { name: 'model.norm.weight', dtype: 'F32', shape: [2048], data: realisticWeights(next, 'fp32', 2048) },
  ];
  const tuned = base.map((t) => ({ ...t, data: perturb(next, t.data, t.dtype === 'F32' ? 4 : 2, 0.02) }));
  return [buildSafetensors(base, { step: '0' }), buildSafetensors(tuned, { step: '100' })];
}

interface Series {
  src: string;
  /** Per snapshot (base, fine-tune), the SHA-256 of each file it holds. */
  expected: Array<Record<string, string>>;
}

/** Backs up the base and the fine-tune (each with an incompressible 9 MiB shard) into `repo`. */
async function backupSeries(repo: Repository, dir: string): Promise<{ series: Series; snapshots: string[] }> {
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  const series: Series = { src, expected: [] };
  const snapshots: string[] = [];
  for (const [i, model] of checkpoints().entries()) {
    await fs.writeFile(path.join(src, 'model.safetensors'), model);
    await writeRandomFile(path.join(src, 'optimizer.bin'), 9 * MiB, `optimizer-${i}`);
    series.expected.push({ 'model.safetensors': sha256(model), 'optimizer.bin': await sha256File(path.join(src, 'optimizer.bin')) });
    snapshots.push((await backup(repo, { asset: 'llm', paths: [src], tier: 1, splitters: defaultSplitters() })).snapshotId);
  }
  return { series, snapshots };
}

/** Restores every snapshot into `dir` and asserts each file's bytes. */
async function assertRestores(repo: Repository, dir: string, snapshots: string[], series: Series): Promise<void> {
  for (const [i, snapshot] of snapshots.entries()) {
    const target = path.join(dir, `restored-${i}`);
    const result = await restore(repo, { snapshot, target });
    assert.deepEqual(result.failed, []);
    for (const [name, digest] of Object.entries(series.expected[i])) {
      assert.equal(await sha256File(path.join(target, name)), digest, `${name} of snapshot ${i}`);
    }
  }
}

async function assertChecksClean(storage: Storage, snapshots: number): Promise<void> {
  const report = await check(await openRepository(storage, TEST_PASSWORD), { readData: 1 });
  assert.ok(report.ok, JSON.stringify(report.errors));
  assert.equal(report.snapshots, snapshots);
  assert.ok(report.packsRead > 0);
}

function assertInjected(proxy: FaultProxy, kinds: string[]): void {
  for (const kind of kinds) assert.ok((proxy.stats.injected[kind] ?? 0) > 0, `the proxy injected no ${kind}: ${JSON.stringify(proxy.stats.injected)}`);
}

describe('backup and restore on S3 through a faulty network', () => {
  let bucket: string;
  let proxy: FaultProxy;
  const target = new URL(RGW.endpoint);
  before(async () => {
    await requireRgw();
    bucket = await createTestBucket('engine-faults');
    proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  });
  after(async () => {
    await proxy?.close();
    if (bucket) await removeTestBucket(bucket);
  });

  /** The same repository prefix through the proxy and directly. */
  function storages(t: Ctx): { faulty: Storage; direct: Storage } {
    const url = `s3://${bucket}/${freshPrefix()}`;
    const faulty = openS3Storage(url, rgwOptions({ endpoint: proxy.url, ...STORAGE }), {});
    const direct = openS3Storage(url, rgwOptions(STORAGE), {});
    t.after(async () => {
      proxy.setPlan(undefined);
      await faulty.close();
      await direct.close();
    });
    return { faulty, direct };
  }

  it('backup completes through dropped uploads, 503 SlowDown, lost responses and resets', async (t) => {
    const dir = await tempDir(t);
    const { faulty, direct } = storages(t);
    const repo = await initRepository(faulty, TEST_PASSWORD, { kdf: FAST_KDF, config: { packSize: 8 * MiB } });
    proxy.setPlan(
      anyOf(
        everyNth(3, { kind: 'drop-request', afterBytes: 1 * MiB }, isPackPut),
        // The server stored the object (a lock, a pack, an index, a snapshot): only its answer is lost.
        firstN(2, { kind: 'stall', afterBytes: 0 }, (r) => r.method === 'PUT'),
        everyNth(4, { kind: 'respond', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }),
        everyNth(7, { kind: 'reset' }),
      ),
    );
    const { series, snapshots } = await backupSeries(repo, dir);
    assertInjected(proxy, ['drop-request', 'stall', 'respond', 'reset']);
    proxy.setPlan(undefined);

    await assertChecksClean(direct, 2);
    await assertRestores(await openRepository(direct, TEST_PASSWORD), dir, snapshots, series);
  });

  it('restore gives back exact bytes through dropped downloads, 503 SlowDown, stalls and resets', async (t) => {
    const dir = await tempDir(t);
    const { faulty, direct } = storages(t);
    const { series, snapshots } = await backupSeries(await initRepository(direct, TEST_PASSWORD, { kdf: FAST_KDF, config: { packSize: 8 * MiB } }), dir);

    proxy.setPlan(
      anyOf(
        // Pack reads broken off after part of their body: restore resumes them where they stopped.
        everyNth(2, { kind: 'drop-response', afterBytes: 300_000 }, isPackRead),
        firstN(2, { kind: 'stall', afterBytes: 100_000 }, isPackRead),
        everyNth(4, { kind: 'respond', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }),
        everyNth(5, { kind: 'reset' }),
      ),
    );
    await assertRestores(await openRepository(faulty, TEST_PASSWORD), dir, snapshots, series);
    assertInjected(proxy, ['drop-response', 'stall', 'respond', 'reset']);
    proxy.setPlan(undefined);

    await assertChecksClean(direct, 2);
  });
});
