/**
 * Copy (replication) to a repository with its own key: exactly the blobs the destination lacks
 * move, every one verified; the snapshot comes last; what is there is skipped; the replica holds
 * only ciphertext; replication lag says how far behind a replica is.
 */
import { manualClock } from '../../src/base/clock.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { copy } from '../../src/engine/copy.js';
import { replicationLag } from '../../src/engine/replication.js';
import { restore } from '../../src/engine/restore.js';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { IntegrityError } from '../../src/repo/errors.js';
import { loadIndex } from '../../src/repo/index-store.js';
import { objectKey, packKey, type Repository } from '../../src/repo/repository.js';
import type { Storage } from '../../src/storage/storage.js';
import { pseudoRandom, sha256File, writeRandomFile } from '../helpers/files.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { dataBlobsOf } from '../helpers/snapshot-files.js';
import { flipByte, overwriteObject } from '../helpers/test-backend.js';
import { createRepo, reopenRepo, repoUrl, TEST_PASSWORD } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;
const REPLICA_PASSWORD = 'a different password for the second site';

function replicaRepo(dir: string): Promise<Repository> {
  return createRepo(dir, { packSize: 4 * MiB }, REPLICA_PASSWORD);
}

/** A model directory, then the same with one file changed and one added: two snapshots of asset "llm" (tier 1). */
async function twoVersions(dir: string, repo: Repository) {
  const src = path.join(dir, 'model');
  await fs.mkdir(path.join(src, 'shards'), { recursive: true });
  await writeRandomFile(path.join(src, 'shards/a.bin'), 4 * MiB, 'a');
  await writeRandomFile(path.join(src, 'shards/b.bin'), 3 * MiB, 'b');
  await fs.writeFile(path.join(src, 'config.json'), JSON.stringify({ layers: 32, note: 'x'.repeat(5000) }));
  const v1 = await backup(repo, { asset: 'llm', paths: [src], tier: 1 });
  await writeRandomFile(path.join(src, 'shards/b.bin'), 3 * MiB, 'b2');
  await writeRandomFile(path.join(src, 'adapter.bin'), 1 * MiB, 'c');
  const v2 = await backup(repo, { asset: 'llm', paths: [src], tier: 1 });
  return { src, v1, v2 };
}

async function storedBlobs(repo: Repository): Promise<Set<string>> {
  const { index } = await loadIndex(repo);
  const ids = new Set<string>();
  index.forEach((id) => ids.add(Buffer.from(id).toString('hex')));
  return ids;
}

test('copy moves exactly the blobs the destination lacks, under its own key, and the snapshot restores there', async (t) => {
  const dir = await tempDir(t);
  const source = await createRepo(path.join(dir, 'primary'));
  const { src, v1, v2 } = await twoVersions(dir, source);
  const replica = await replicaRepo(path.join(dir, 'replica'));

  const first = await copy(source, replica, { ids: [v1.snapshotId] });
  assert.equal(first.copied, 1);
  const afterFirst = await storedBlobs(replica);
  const v1Data = await dataBlobsOf(source, v1.snapshotId);
  for (const b of v1Data) assert.ok(afterFirst.has(b), `data blob ${b.slice(0, 8)} of v1 is at the replica`);

  // The second copy sends v2's new blobs only: not one blob the replica already had.
  const second = await copy(source, replica, { asset: 'llm' });
  assert.equal(second.copied, 1);
  assert.equal(second.present, 1, 'v1 is recognised as already there');
  const afterSecond = await storedBlobs(replica);
  const v2Data = await dataBlobsOf(source, v2.snapshotId);
  const newData = [...v2Data].filter((b) => !afterFirst.has(b));
  assert.ok(newData.length >= 2, 'v2 changed and added data');
  assert.equal(afterSecond.size - afterFirst.size, second.blobs, 'every blob sent is new at the replica');
  const { index: sourceIndex } = await loadIndex(source);
  const sentStored = [...afterSecond].filter((b) => !afterFirst.has(b)).reduce((n, b) => n + sourceIndex.get(Buffer.from(b, 'hex'))!.storedLength, 0);
  assert.equal(second.bytesRead, sentStored, 'bytes read are exactly the stored bytes of the blobs the replica lacked');

  // Only the replica's own password opens it, and what it holds restores bit for bit.
  await assert.rejects(reopenRepo(path.join(dir, 'replica'), TEST_PASSWORD), /wrong password/);
  const reopened = await reopenRepo(path.join(dir, 'replica'), REPLICA_PASSWORD);
  assert.notEqual(reopened.key.data.toString('hex'), source.key.data.toString('hex'), 'the replica has its own master key');
  const snaps = await listSnapshots(reopened);
  assert.deepEqual(snaps.map((s) => [s.snapshot.asset, s.snapshot.time, s.snapshot.tree]), [v1, v2].map((v) => ['llm', v.snapshot.time, v.snapshot.tree]));
  assert.equal(snaps[1].snapshot.parent, snaps[0].id, 'the copied parent link points at the parent\'s copy');
  const target = path.join(dir, 'restored');
  await restore(reopened, { snapshot: 'latest', target });
  for (const f of ['shards/a.bin', 'shards/b.bin', 'adapter.bin', 'config.json']) {
    assert.equal(await sha256File(path.join(target, f)), await sha256File(path.join(src, f)), f);
  }
  const report = await check(reopened, { readData: 1 });
  assert.ok(report.ok, JSON.stringify(report.errors));
  assert.equal(report.snapshots, 2);

  const third = await copy(source, reopened, { all: true });
  assert.deepEqual([third.copied, third.present, third.blobs, third.packs], [0, 2, 0, 0], 'a repeated copy sends nothing');
});

test('selection: by id, by asset, by tier; nothing without a selection', async (t) => {
  const dir = await tempDir(t);
  const source = await createRepo(path.join(dir, 'primary'));
  const data = path.join(dir, 'data');
  await fs.mkdir(data);
  await fs.writeFile(path.join(data, 'f'), pseudoRandom(100_000, 'f'));
  const t1 = await backup(source, { asset: 'weights', paths: [data], tier: 1 });
  const t2 = await backup(source, { asset: 'prompts', paths: [data], tier: 2 });
  await backup(source, { asset: 'dashboards', paths: [data], tier: 3 });
  const replica = await replicaRepo(path.join(dir, 'replica'));

  assert.equal((await copy(source, replica, {})).snapshots.length, 0, 'no selection copies nothing');
  const byTier = await copy(source, replica, { tier: 2 });
  assert.deepEqual(byTier.snapshots.map((s) => [s.sourceId, s.status]), [[t2.snapshotId, 'copied']]);
  const byAsset = await copy(source, replica, { asset: 'weights', tier: 1 });
  assert.deepEqual(byAsset.snapshots.map((s) => [s.sourceId, s.status]), [[t1.snapshotId, 'copied']]);
  const all = await copy(source, replica, { all: true });
  assert.deepEqual(all.snapshots.map((s) => s.status).sort(), ['copied', 'present', 'present']);
  assert.equal(all.blobs, 0, 'the same data was already there under another asset');
});

test('a blob that fails verification at the source is not copied, and no snapshot is written', async (t) => {
  const dir = await tempDir(t);
  const source = await createRepo(path.join(dir, 'primary'));
  const data = path.join(dir, 'data');
  await fs.mkdir(data);
  await fs.writeFile(path.join(data, 'f'), pseudoRandom(2 * MiB, 'f'));
  await backup(source, { asset: 'm', paths: [data] });
  const { index } = await loadIndex(source);
  const [pack] = index.packs();
  await flipByte(source.storage, packKey(pack), 100); // inside the first blob

  const replica = await replicaRepo(path.join(dir, 'replica'));
  await assert.rejects(copy(source, replica, { all: true }), (err: unknown) => err instanceof IntegrityError && /source pack|authentication/.test((err as Error).message));
  assert.equal((await listSnapshots(replica)).length, 0);
});

test('a snapshot damaged at the destination counts as absent: copy writes it again and warns', async (t) => {
  const dir = await tempDir(t);
  const source = await createRepo(path.join(dir, 'primary'));
  const data = path.join(dir, 'data');
  await fs.mkdir(data);
  await fs.writeFile(path.join(data, 'f'), pseudoRandom(300_000, 'f'));
  await backup(source, { asset: 'm', paths: [data] });
  const replica = await replicaRepo(path.join(dir, 'replica'));
  const [first] = (await copy(source, replica, { all: true })).snapshots;
  await overwriteObject(replica.storage, objectKey('snapshot', first.destinationId), Buffer.from('ransom note'));

  const warnings: string[] = [];
  const again = await copy(source, replica, { all: true, onWarning: (m) => warnings.push(m) });
  assert.deepEqual([again.copied, again.blobs], [1, 0], 'the snapshot is written again; its data was there');
  assert.match(warnings.join('\n'), /destination snapshot .* cannot be read/);
  assert.equal((await check(replica)).snapshots, 1);
});

test('the replica sees only ciphertext: no 64-byte window of a test file appears in any object', async (t) => {
  const dir = await tempDir(t);
  const source = await createRepo(path.join(dir, 'primary'));
  const data = path.join(dir, 'data');
  await fs.mkdir(data);
  const files = {
    'weights-secret-name.bin': pseudoRandom(3 * MiB, 'incompressible'), // stored raw: only encryption hides it
    'annotations.jsonl': Buffer.from(Array.from({ length: 20000 }, (_, i) => JSON.stringify({ id: i, label: `cat-${i % 7}` })).join('\n')),
  };
  for (const [name, bytes] of Object.entries(files)) await fs.writeFile(path.join(data, name), bytes);
  await backup(source, { asset: 'secret', paths: [data] });
  const replica = await replicaRepo(path.join(dir, 'replica'));
  await copy(source, replica, { all: true });

  const objects = await allObjects(replica.storage);
  assert.ok(objects.length >= 5, 'config, key, pack(s), index, snapshot');
  const windows = windowSet(Object.values(files));
  for (const { key, bytes } of objects) {
    const hit = findWindow(bytes, windows, Object.values(files));
    assert.equal(hit, undefined, `object ${key} contains 64 plaintext bytes at offset ${hit}`);
    assert.ok(!bytes.includes('weights-secret-name'), `object ${key} contains a file name`);
  }
  // The scan itself finds plaintext where there is some.
  assert.equal(findWindow(Buffer.concat([Buffer.from('xyz'), files['annotations.jsonl'].subarray(5000, 5064)]), windows, Object.values(files)), 3);
});

test('replication lag per asset: age of the newest snapshot the replica lacks, and bytes still to copy', async (t) => {
  const dir = await tempDir(t);
  const source = await createRepo(path.join(dir, 'primary'));
  const { v1, v2 } = await twoVersions(dir, source);
  const replica = await replicaRepo(path.join(dir, 'replica'));
  await copy(source, replica, { ids: [v1.snapshotId] });

  const now = new Date(Date.parse(v2.snapshot.time) + 3_600_000);
  const behind = await replicationLag(source, replica, { clock: manualClock(now) });
  assert.equal(behind.assets.length, 1);
  const llm = behind.assets[0];
  assert.deepEqual([llm.asset, llm.tier, llm.primarySnapshots, llm.replicated, llm.missing], ['llm', 1, 2, 1, 1]);
  assert.equal(llm.lagMs, 3_600_000);
  assert.equal(llm.newestReplicated, v1.snapshot.time);
  const { index } = await loadIndex(source);
  const have = await storedBlobs(replica);
  const v2Blobs = [...(await dataBlobsOf(source, v2.snapshotId))].filter((b) => !have.has(b));
  const v2DataBytes = v2Blobs.reduce((n, b) => n + index.get(Buffer.from(b, 'hex'))!.storedLength, 0);
  assert.ok(llm.pendingBytes >= v2DataBytes && llm.pendingBytes < v2DataBytes + 64 * 1024, `pending ${llm.pendingBytes} = new data ${v2DataBytes} + new trees`);
  assert.equal(behind.pendingBytes, llm.pendingBytes);

  const result = await copy(source, replica, { all: true });
  assert.equal(result.bytesRead, llm.pendingBytes, 'the copy sent what the lag said was pending');
  const synced = await replicationLag(source, replica, { clock: manualClock(now) });
  assert.deepEqual([synced.assets[0].missing, synced.assets[0].lagMs, synced.pendingBytes], [0, 0, 0]);
});

test('CLI: copy --init with its own password, replicas and snapshots --replicas, init --copy-chunker-params-from', async (t) => {
  const dir = await tempDir(t);
  const source = await createRepo(path.join(dir, 'primary'));
  const primary = repoUrl(path.join(dir, 'primary'));
  const { v1 } = await twoVersions(dir, source);
  const replica = repoUrl(path.join(dir, 'replica'));
  const toPassword = path.join(dir, 'to-password');
  await fs.writeFile(toPassword, `${REPLICA_PASSWORD}\n`);

  const usage = await runCli(['copy', '-r', primary, '--to', replica]);
  assert.equal(usage.code, 2, 'copy without a selection is a usage error');
  assert.match(usage.stderr, /say what to copy/);

  const { result, json } = await runCliJson<{ copied: number; snapshots: Array<{ sourceId: string }> }>(['copy', '-r', primary, '--to', replica, '--to-password-file', toPassword, '--init', v1.snapshotId.slice(0, 10)]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual([json.copied, json.snapshots[0].sourceId], [1, v1.snapshotId]);
  const opened = await reopenRepo(path.join(dir, 'replica'), REPLICA_PASSWORD);
  assert.deepEqual(opened.config.chunker, source.config.chunker, 'copy --init shares the chunker parameters (seed included)');

  const lag = await runCliJson<{ assets: Array<{ asset: string; missing: number; pendingBytes: number }> }>(['replicas', '-r', primary, '--to', replica], { env: { LIFEBOAT_TO_PASSWORD: REPLICA_PASSWORD } });
  assert.equal(lag.result.code, 0, lag.result.stderr);
  assert.equal(lag.json.assets[0].missing, 1);
  assert.ok(lag.json.assets[0].pendingBytes > MiB);
  const listed = await runCli(['snapshots', '-r', primary, '--replicas', replica, '--to-password-file', toPassword]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /llm\s+1\s+1\/2\s/);

  const third = repoUrl(path.join(dir, 'third'));
  const init = await runCliJson<{ id: string }>(['init', '-r', third, '--copy-chunker-params-from', primary], { env: { LIFEBOAT_FROM_PASSWORD: TEST_PASSWORD } });
  assert.equal(init.result.code, 0, init.result.stderr);
  assert.deepEqual((await reopenRepo(path.join(dir, 'third'))).config.chunker, source.config.chunker);
});

async function allObjects(storage: Storage): Promise<Array<{ key: string; bytes: Buffer }>> {
  const out: Array<{ key: string; bytes: Buffer }> = [];
  for await (const info of storage.list('')) out.push({ key: info.key, bytes: await storage.get(info.key) });
  return out;
}

/** Rolling hashes (two 32-bit polynomials) of every 64-byte window. */
const W = 64;
function rollingHashes(bytes: Uint8Array, visit: (h1: number, h2: number, at: number) => void): void {
  const [B1, B2] = [257, 65599];
  let pow1 = 1;
  let pow2 = 1;
  for (let i = 0; i < W - 1; i++) {
    pow1 = Math.imul(pow1, B1) >>> 0;
    pow2 = Math.imul(pow2, B2) >>> 0;
  }
  let h1 = 0;
  let h2 = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (i >= W) {
      h1 = (h1 - Math.imul(bytes[i - W], pow1)) >>> 0;
      h2 = (h2 - Math.imul(bytes[i - W], pow2)) >>> 0;
    }
    h1 = (Math.imul(h1, B1) + bytes[i]) >>> 0;
    h2 = (Math.imul(h2, B2) + bytes[i]) >>> 0;
    if (i >= W - 1) visit(h1, h2, i - W + 1);
  }
}

/** Every window's hash pair in an open-addressing table of typed arrays (a Set of millions of numbers is slow). */
interface WindowSet {
  has(h1: number, h2: number): boolean;
}

function windowSet(plaintexts: Uint8Array[]): WindowSet {
  const count = plaintexts.reduce((n, p) => n + p.length, 0);
  const size = 1 << Math.ceil(Math.log2(count * 2 + 2));
  const mask = size - 1;
  const a = new Uint32Array(size);
  const b = new Uint32Array(size);
  const used = new Uint8Array(size);
  const find = (h1: number, h2: number, insert: boolean) => {
    for (let slot = (h1 ^ Math.imul(h2, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      if (!used[slot]) {
        if (insert) [used[slot], a[slot], b[slot]] = [1, h1, h2];
        return false;
      }
      if (a[slot] === h1 && b[slot] === h2) return true;
    }
  };
  for (const p of plaintexts) rollingHashes(p, (h1, h2) => void find(h1, h2, true));
  return { has: (h1, h2) => find(h1, h2, false) };
}

/** Offset in `bytes` of a 64-byte window equal to one of a plaintext's, or undefined (hash hits are confirmed byte for byte). */
function findWindow(bytes: Buffer, windows: WindowSet, plaintexts: Buffer[]): number | undefined {
  let found: number | undefined;
  rollingHashes(bytes, (h1, h2, at) => {
    if (found !== undefined || !windows.has(h1, h2)) return;
    const window = bytes.subarray(at, at + W);
    if (plaintexts.some((p) => p.includes(window))) found = at;
  });
  return found;
}
