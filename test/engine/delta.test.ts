/**
 * Checkpoint series: a full fine-tune changes a few values of every tensor. Lifeboat stores each
 * new checkpoint's tensor pieces as XOR deltas against the same pieces of the parent snapshot,
 * restores them bit-exact, bounds the chains, and keeps the bases that deltas need through copy,
 * forget and prune.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { defaultSplitters } from '../../src/repo/chunker/default-splitters.js';
import { backup } from '../../src/engine/backup.js';
import { check } from '../../src/engine/check.js';
import { copy } from '../../src/engine/copy.js';
import { forget } from '../../src/engine/forget.js';
import { stats } from '../../src/engine/inspect.js';
import { prune } from '../../src/engine/prune.js';
import { restore } from '../../src/engine/restore.js';
import { buildSafetensors, perturb, realisticWeights, rng, type TestTensor } from '../repo/tensor-fixtures.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A base checkpoint (two 6 MiB bf16 tensors and a norm) and `n` fine-tunes, each changing ~2% of the values of the last. */
function checkpointSeries(n: number): Uint8Array[] {
  const next = rng(11);
  let tensors: TestTensor[] = [
    { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'BF16', shape: [1536, 2048], data: realisticWeights(next, 'bf16', 1536 * 2048) },
    { name: 'model.layers.0.mlp.down_proj.weight', dtype: 'BF16', shape: [2048, 1536], data: realisticWeights(next, 'bf16', 2048 * 1536) },
    { name: 'model.norm.weight', dtype: 'F32', shape: [2048], data: realisticWeights(next, 'fp32', 2048) },
  ];
  const files = [buildSafetensors(tensors, { step: '0' })];
  for (let k = 1; k <= n; k++) {
    tensors = tensors.map((t) => ({ ...t, data: perturb(next, t.data, t.dtype === 'F32' ? 4 : 2, 0.02) }));
    files.push(buildSafetensors(tensors, { step: String(k) }));
  }
  return files;
}

async function backupSeries(repoDir: string, srcDir: string, files: Uint8Array[], maxDeltaDepth?: number) {
  const repo = await createRepo(repoDir, { maxDeltaDepth });
  const results = [];
  for (const file of files) {
    await fs.writeFile(path.join(srcDir, 'model.safetensors'), file);
    results.push(await backup(repo, { asset: 'llm', paths: [srcDir], splitters: defaultSplitters() }));
  }
  return { repo, results };
}

test('each fine-tune after the first checkpoint is stored as small XOR deltas and restores bit-exact', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  const files = checkpointSeries(3);
  const { repo, results } = await backupSeries(path.join(dir, 'repo'), src, files);

  const raw = files[1].length;
  for (const r of results.slice(1)) {
    assert.ok(r.snapshot.summary.newStoredBytes < raw * 0.25, `a fine-tune stores ${r.snapshot.summary.newStoredBytes} of ${raw} bytes`);
  }
  const s = await stats(repo);
  assert.ok(s.byCodec['xor-delta']?.blobs >= 6, `xor-delta blobs: ${JSON.stringify(s.byCodec)}`);

  for (const [k, r] of results.entries()) {
    const out = path.join(dir, `out-${k}`);
    const restored = await restore(repo, { snapshot: r.snapshotId, target: out });
    assert.deepEqual(restored.failed, []);
    assert.equal(sha(await fs.readFile(path.join(out, 'model.safetensors'))), sha(files[k]), `checkpoint ${k}`);
  }
  assert.equal((await check(repo, { readData: 1 })).ok, true);
});

test('a delta chain never grows past maxDeltaDepth: the piece is stored in full again', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  const files = checkpointSeries(3);
  const { repo, results } = await backupSeries(path.join(dir, 'repo'), src, files, 1);
  // Depth limit 1: checkpoint 1 deltas against 0, checkpoint 2 is full again, 3 deltas against 2.
  const stored = results.map((r) => r.snapshot.summary.newStoredBytes);
  assert.ok(stored[2] > stored[1] * 3, `the chain restarted at checkpoint 2: ${stored.join(', ')}`);
  assert.ok(stored[3] < stored[2] / 3, `checkpoint 3 deltas against 2: ${stored.join(', ')}`);
  const out = path.join(dir, 'out');
  await restore(repo, { snapshot: results[3].snapshotId, target: out });
  assert.equal(sha(await fs.readFile(path.join(out, 'model.safetensors'))), sha(files[3]));
});

test('forget + prune keep the bases a kept delta needs; copy moves bases with their deltas', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  const files = checkpointSeries(2);
  const { repo } = await backupSeries(path.join(dir, 'repo'), src, files);

  const forgotten = await forget(repo, { keepLast: 1 });
  assert.equal(forgotten.removed.length, 2);
  await prune(repo);
  const out = path.join(dir, 'out');
  const restored = await restore(repo, { snapshot: 'llm@latest', target: out });
  assert.deepEqual(restored.failed, []);
  assert.equal(sha(await fs.readFile(path.join(out, 'model.safetensors'))), sha(files[2]));
  assert.equal((await check(repo, { readData: 1 })).ok, true, 'nothing a delta needs was pruned');

  const replica = await createRepo(path.join(dir, 'replica'));
  const copied = await copy(repo, replica, { all: true });
  assert.equal(copied.copied, 1);
  const replicaOut = path.join(dir, 'replica-out');
  await restore(replica, { snapshot: 'llm@latest', target: replicaOut });
  assert.equal(sha(await fs.readFile(path.join(replicaOut, 'model.safetensors'))), sha(files[2]));
  assert.equal((await check(replica, { readData: 1 })).ok, true);
});
