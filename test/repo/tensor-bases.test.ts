import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { baseFor, piecesByLabel } from '../../src/repo/chunker/tensor-bases.js';
import { planTensorFile } from '../../src/repo/chunker/tensor-splitter.js';
import { buildSafetensors, memoryReader, perturb, realisticWeights, rng, type TestTensor } from './tensor-fixtures.js';

const id = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Content list as the engine stores it: one blob per segment (CDC header kept whole here), zero runs as numbers. */
function store(file: Uint8Array, segments: { offset: number; length: number }[], blobs: Map<string, Uint8Array>): (string | number)[] {
  return segments.map((s) => {
    const bytes = file.subarray(s.offset, s.offset + s.length);
    if (bytes.every((b) => b === 0)) return s.length;
    blobs.set(id(bytes), bytes);
    return id(bytes);
  });
}

test('the parent piece with the same label, dtype and length is found as the delta base', async () => {
  const next = rng(5);
  const big = realisticWeights(next, 'bf16', 3 * 1024 * 1024); // 6 MiB: two pieces
  const parentTensors: TestTensor[] = [
    { name: 'w', dtype: 'BF16', shape: [3 * 1024 * 1024], data: big },
    { name: 'zeros', dtype: 'BF16', shape: [70_000], data: new Uint8Array(140_000) },
    { name: 'n', dtype: 'F32', shape: [256], data: realisticWeights(next, 'fp32', 256) },
  ];
  const parentFile = buildSafetensors(parentTensors, { step: '1' });
  const childFile = buildSafetensors(parentTensors.map((t) => ({ ...t, data: t.name === 'w' ? perturb(next, t.data, 2, 0.01) : t.data })), { step: '2, a longer header' });
  const blobs = new Map<string, Uint8Array>();
  const parentPlan = (await planTensorFile(memoryReader(parentFile), 'm.safetensors')).segments!;
  const content = store(parentFile, parentPlan, blobs);
  const pieces = piecesByLabel(parentPlan, content, (h) => blobs.get(h)!.length);
  assert.deepEqual([...pieces.keys()].sort(), ['tensor:n#0', 'tensor:w#0', 'tensor:w#1'], 'zero pieces and the header have no entry');

  const childPlan = (await planTensorFile(memoryReader(childFile), 'm.safetensors')).segments!;
  for (const s of childPlan.filter((x) => x.label?.startsWith('tensor:w#'))) {
    const base = baseFor(s, pieces);
    assert.ok(base, s.label);
    assert.equal(base.dtype, 'bf16');
    // The base is the same piece of the parent, at a different file offset (the header grew).
    assert.notEqual(base.offset, s.offset);
    const i = Number(s.label!.split('#')[1]);
    assert.ok(Buffer.from(blobs.get(base.id)!).equals(big.subarray(i * 4 * 1024 * 1024, i * 4 * 1024 * 1024 + s.length)), s.label);
  }
  assert.equal(baseFor({ ...childPlan[1], dtype: 'fp16' }, pieces), undefined, 'another dtype is no base');
  assert.equal(baseFor({ ...childPlan[1], length: childPlan[1].length - 2 }, pieces), undefined, 'another length is no base');
  assert.equal(baseFor(childPlan[0], pieces), undefined, 'the header has no base');
});
