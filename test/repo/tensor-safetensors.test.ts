import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Segment } from '../../src/repo/chunker/chunker.js';
import { parseSafetensorsHeader } from '../../src/repo/chunker/safetensors.js';
import { MAX_TENSOR_HEADER, TensorHeaderError } from '../../src/repo/chunker/tensor-layout.js';
import { PIECE_SIZE } from '../../src/repo/chunker/tensor-plan.js';
import { makeTensorSplitter, planTensorFile } from '../../src/repo/chunker/tensor-splitter.js';
import { buildSafetensors, buildSafetensorsRaw, memoryReader, realisticWeights, rng, type TestTensor } from './tensor-fixtures.js';

function assertCovers(segments: Segment[], size: number): void {
  let pos = 0;
  for (const s of segments) {
    assert.equal(s.offset, pos, 'segments are contiguous and in order');
    assert.ok(s.length > 0, 'no empty segment');
    if (s.cut === 'fixed') assert.ok(s.pieceSize && s.pieceSize > 0);
    pos += s.length;
  }
  assert.equal(pos, size, 'segments cover the file exactly');
}

function tensor(name: string, dtype: string, shape: number[], fill = 1): TestTensor {
  const size = { BF16: 2, F16: 2, F32: 4, I8: 1, U8: 1 }[dtype] ?? 1;
  return { name, dtype, shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * size).fill(fill) };
}

/** A small Llama-like layer: big matrices, tiny norms, one tensor larger than a piece. */
function model(): TestTensor[] {
  return [
    { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [1200, 1024], data: realisticWeights(rng(1), 'bf16', 1200 * 1024) },
    tensor('model.layers.0.input_layernorm.weight', 'BF16', [1024], 2),
    tensor('model.layers.0.post_attention_layernorm.weight', 'BF16', [1024], 3),
    tensor('model.layers.0.self_attn.q_proj.weight', 'BF16', [512, 1024], 4),
    tensor('model.layers.0.self_attn.q_proj.bias', 'F32', [1024], 5),
    tensor('model.norm.weight', 'F32', [1024], 6),
  ];
}

async function plan(file: Uint8Array, name = 'model.safetensors') {
  const warnings: string[] = [];
  const splitter = makeTensorSplitter({ onWarning: (_f, w) => warnings.push(w) });
  const segments = await splitter.plan(memoryReader(file), name);
  return { segments, warnings };
}

test('a safetensors file is planned as header, tensor pieces and grouped tiny tensors', async () => {
  const file = buildSafetensors(model());
  const { segments, warnings } = await plan(file);
  assert.deepEqual(warnings, []);
  assert.ok(segments);
  assertCovers(segments, file.length);
  const headerLength = 8 + Number(Buffer.from(file).readBigUInt64LE(0));
  assert.deepEqual(segments[0], { offset: 0, length: headerLength, cut: 'cdc', label: 'safetensors:header' });
  const labels = segments.map((s) => s.label);
  assert.deepEqual(labels, [
    'safetensors:header',
    'tensor:model.embed_tokens.weight#0', // 2,457,600 bytes: one piece
    'tensor:model.layers.0.input_layernorm.weight+1', // two consecutive 2 KiB bf16 norms share a blob
    'tensor:model.layers.0.self_attn.q_proj.weight#0',
    'tensor:model.layers.0.self_attn.q_proj.bias+1', // f32 bias + f32 norm
  ]);
  assert.deepEqual(segments.map((s) => s.dtype), [undefined, 'bf16', 'bf16', 'bf16', 'fp32']);
  assert.ok(segments.slice(1).every((s) => s.cut === 'fixed' && s.pieceSize === s.length && s.length <= PIECE_SIZE));
});

test('a tensor larger than a piece is cut into 4 MiB pieces labelled by index', async () => {
  const big = tensor('lm_head.weight', 'BF16', [2500, 2000]); // 10,000,000 bytes
  const file = buildSafetensors([tensor('a.norm', 'F32', [8]), big]);
  const { segments } = await plan(file);
  assert.ok(segments);
  assertCovers(segments, file.length);
  const pieces = segments.filter((s) => s.label?.startsWith('tensor:lm_head.weight#'));
  assert.deepEqual(pieces.map((s) => s.label), ['tensor:lm_head.weight#0', 'tensor:lm_head.weight#1', 'tensor:lm_head.weight#2']);
  assert.deepEqual(pieces.map((s) => s.length), [PIECE_SIZE, PIECE_SIZE, 10_000_000 - 2 * PIECE_SIZE]);
  assert.equal(PIECE_SIZE, 4 * 1024 * 1024);
});

test('an unchanged tensor yields byte-identical pieces when the header and other tensors change', async () => {
  const a = model();
  const b = model().map((t) => (t.name.includes('q_proj.weight') ? tensor(t.name, 'BF16', [512, 1024], 9) : t));
  b.push(tensor('model.extra.weight', 'BF16', [64]));
  const fileA = buildSafetensors(a, { format: 'pt', step: '100' });
  const fileB = buildSafetensors(b, { format: 'pt', step: '200', note: 'the header grew' });
  const piecesOf = async (file: Uint8Array) => {
    const { segments } = await plan(file);
    return new Map(segments!.map((s) => [s.label, Buffer.from(file.subarray(s.offset, s.offset + s.length)).toString('hex')]));
  };
  const [pa, pb] = [await piecesOf(fileA), await piecesOf(fileB)];
  assert.notEqual(pa.get('safetensors:header'), pb.get('safetensors:header'));
  assert.equal(pa.get('tensor:model.embed_tokens.weight#0'), pb.get('tensor:model.embed_tokens.weight#0'));
  assert.notEqual(pa.get('tensor:model.layers.0.self_attn.q_proj.weight#0'), pb.get('tensor:model.layers.0.self_attn.q_proj.weight#0'));
});

test('each shard of a sharded model is planned on its own; index.json is left to FastCDC silently', async () => {
  const tensors = model();
  const shard1 = buildSafetensors(tensors.slice(0, 3));
  const shard2 = buildSafetensors(tensors.slice(3));
  const p1 = await plan(shard1, 'model-00001-of-00002.safetensors');
  const p2 = await plan(shard2, 'model-00002-of-00002.safetensors');
  assertCovers(p1.segments!, shard1.length);
  assertCovers(p2.segments!, shard2.length);
  assert.ok(p2.segments!.some((s) => s.label === 'tensor:model.layers.0.self_attn.q_proj.weight#0'));
  const index = Buffer.from(JSON.stringify({ metadata: { total_size: 1 }, weight_map: { 'a.weight': 'model-00001-of-00002.safetensors' } }));
  assert.deepEqual(await plan(index, 'model.safetensors.index.json'), { segments: undefined, warnings: [] });
});

test('files that are not tensor files are not planned and cause no warning', async () => {
  for (const [name, content] of [
    ['config.json', Buffer.from('{"hidden_size": 1024}')],
    ['data.bin', Buffer.from(realisticWeights(rng(2), 'bf16', 1000))],
    ['empty', new Uint8Array(0)],
    ['tiny', new Uint8Array([1, 2, 3])],
  ] as const) {
    assert.deepEqual(await plan(content, name), { segments: undefined, warnings: [] }, name);
  }
});

test('a safetensors file under another name is recognised by its header', async () => {
  const file = buildSafetensors(model());
  const { segments, warnings } = await plan(file, 'weights.bin');
  assert.ok(segments);
  assertCovers(segments, file.length);
  assert.deepEqual(warnings, []);
  // ...but one that only looks like it falls back without a warning.
  const damaged = buildSafetensorsRaw('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,99]}}', [new Uint8Array(16)]);
  assert.deepEqual(await plan(damaged, 'weights.bin'), { segments: undefined, warnings: [] });
});

test('unknown dtypes are planned as "other"; bytes no tensor claims become their own segments', async () => {
  const json = JSON.stringify({
    a: { dtype: 'F4_E2M1', shape: [100], data_offsets: [0, 50] },
    b: { dtype: 'F32', shape: [25_000], data_offsets: [200_000, 300_000] },
  });
  const file = buildSafetensorsRaw(json, [new Uint8Array(300_000 + 100_000)]);
  const { segments, warnings } = await plan(file);
  assert.deepEqual(warnings, []);
  assert.ok(segments);
  assertCovers(segments, file.length);
  assert.equal(segments.find((s) => s.label === 'tensor:a#0')?.dtype, 'other');
  assert.equal(segments.filter((s) => s.label === undefined && s.cut === 'cdc').length, 2, 'the hole and the trailing bytes');
});

const malformed: [string, Uint8Array, RegExp][] = [
  ['header length past the end', (() => { const b = Buffer.from(buildSafetensors(model().slice(1, 2))); b.writeBigUInt64LE(BigInt(b.length)); return b; })(), /runs past the end/],
  ['header length absurd (10 GB)', (() => { const b = Buffer.alloc(64); b.writeBigUInt64LE(10_000_000_000n); b[8] = 0x7b; return b; })(), /exceeds the 100000000-byte limit/],
  ['header length zero', (() => { const b = Buffer.alloc(64); return b; })(), /too small/],
  ['file shorter than the length field', new Uint8Array([1, 0, 0]), /too short/],
  ['not JSON', buildSafetensorsRaw('{"a": ', [new Uint8Array(8)]), /not valid UTF-8 JSON/],
  ['invalid UTF-8', (() => { const b = buildSafetensorsRaw('{"ab": 1}', []); b[10] = 0xff; return b; })(), /not valid UTF-8 JSON/],
  ['JSON array', buildSafetensorsRaw('{}', []).fill(0x5b, 8, 9), /does not start|not a JSON object/],
  ['tensor entry not an object', buildSafetensorsRaw('{"a": 3}', []), /is not an object/],
  ['missing dtype', buildSafetensorsRaw('{"a": {"shape": [1], "data_offsets": [0, 4]}}', [new Uint8Array(4)]), /no dtype/],
  ['invalid dtype', buildSafetensorsRaw('{"a": {"dtype": "f32; rm -rf", "shape": [1], "data_offsets": [0, 4]}}', [new Uint8Array(4)]), /invalid dtype/],
  ['offsets out of range', buildSafetensorsRaw('{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}', [new Uint8Array(8)]), /past the 8-byte data region/],
  ['offsets reversed', buildSafetensorsRaw('{"a": {"dtype": "U8", "shape": [4], "data_offsets": [8, 4]}}', [new Uint8Array(8)]), /invalid data_offsets/],
  ['negative offset', buildSafetensorsRaw('{"a": {"dtype": "U8", "shape": [4], "data_offsets": [-4, 0]}}', [new Uint8Array(8)]), /invalid data_offsets/],
  ['fractional offset', buildSafetensorsRaw('{"a": {"dtype": "U8", "shape": [4], "data_offsets": [0.5, 4.5]}}', [new Uint8Array(8)]), /invalid data_offsets/],
  ['overlapping tensors', buildSafetensorsRaw('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}', [new Uint8Array(12)]), /overlap/],
  ['shape and size disagree', buildSafetensorsRaw('{"a": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 8]}}', [new Uint8Array(8)]), /needs 6 bytes, data_offsets give 8/],
  ['absurd shape', buildSafetensorsRaw('{"a": {"dtype": "U8", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}', [new Uint8Array(8)]), /more elements than any file/],
  ['negative dimension', buildSafetensorsRaw('{"a": {"dtype": "U8", "shape": [-8], "data_offsets": [0, 8]}}', [new Uint8Array(8)]), /not a non-negative integer/],
  ['metadata not an object', buildSafetensorsRaw('{"__metadata__": [1]}', []), /"__metadata__" is not an object/],
];

for (const [what, file, message] of malformed) {
  test(`malformed safetensors (${what}) falls back to FastCDC with a warning`, async () => {
    const { segments, warnings } = await plan(file);
    assert.equal(segments, undefined);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], message);
    assert.match(warnings[0], /backed up with content-defined chunking instead/);
  });
}

test('a header claiming 10 GB is rejected after reading a few bytes, not 10 GB', async () => {
  const b = Buffer.alloc(1 << 20);
  b.writeBigUInt64LE(10_000_000_000n);
  b[8] = 0x7b;
  const reader = memoryReader(b);
  const outcome = await planTensorFile(reader, 'big.safetensors');
  assert.equal(outcome.segments, undefined);
  assert.match(outcome.warning!, /exceeds/);
  assert.ok(reader.bytesRead <= 64, `read ${reader.bytesRead} bytes`);
  assert.equal(MAX_TENSOR_HEADER, 100_000_000);
});

test('without onWarning, the splitter throws the TensorHeaderError for a malformed file (and only then)', async () => {
  const splitter = makeTensorSplitter();
  const damaged = buildSafetensorsRaw('{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 99]}}', [new Uint8Array(16)]);
  await assert.rejects(splitter.plan(memoryReader(damaged), 'a.safetensors'), (e) => e instanceof TensorHeaderError && e.code === 'TENSOR_HEADER' && /past the 16-byte data region/.test(e.message));
  assert.equal(await splitter.plan(memoryReader(Buffer.from('{}')), 'config.json'), undefined);
  assert.ok(await splitter.plan(memoryReader(buildSafetensors(model())), 'a.safetensors'));
});

test('the pure header parser throws only TensorHeaderError', () => {
  assert.throws(() => parseSafetensorsHeader(Buffer.from('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), 8, 9), TensorHeaderError);
  const ok = parseSafetensorsHeader(Buffer.from('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), 8, 12);
  assert.deepEqual(ok.tensors, [{ name: 'a', dtype: 'fp32', start: 8, length: 4 }]);
});
