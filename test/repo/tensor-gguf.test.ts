import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Segment } from '../../src/repo/chunker/chunker.js';
import { GgufHeaderIncomplete, parseGgufHeader } from '../../src/repo/chunker/gguf.js';
import { makeTensorSplitter, planTensorFile } from '../../src/repo/chunker/tensor-splitter.js';
import { buildGguf, memoryReader, type GgufTensorSpec } from './tensor-fixtures.js';

const F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, BF16 = 30;

function spec(name: string, ggmlType: number, dims: number[], bytes: number): GgufTensorSpec {
  return { name, ggmlType, dims, data: new Uint8Array(bytes).fill(name.length) };
}

/** token_embd Q8_0, a norm F32, attention F16 + BF16, ffn Q4_0 larger than one piece. */
function tensors(): GgufTensorSpec[] {
  return [
    spec('token_embd.weight', Q8_0, [4096, 64], (4096 / 32) * 34 * 64),
    spec('blk.0.attn_norm.weight', F32, [4096], 4096 * 4),
    spec('blk.0.attn_q.weight', F16, [4096, 100], 4096 * 2 * 100),
    spec('blk.0.attn_k.weight', BF16, [4096, 10], 4096 * 2 * 10),
    spec('blk.0.ffn_up.weight', Q4_0, [4096, 2000], (4096 / 32) * 18 * 2000),
    spec('output_norm.weight', F32, [4096], 4096 * 4),
  ];
}

function assertCovers(segments: Segment[], size: number): void {
  let pos = 0;
  for (const s of segments) {
    assert.equal(s.offset, pos);
    assert.ok(s.length > 0);
    pos += s.length;
  }
  assert.equal(pos, size);
}

/** Where the fields of a tensor info are in a built file. */
function info(file: Uint8Array, name: string) {
  const at = Buffer.from(file).indexOf(Buffer.from(name));
  const nDims = at + name.length;
  const dims = Buffer.from(file).readUInt32LE(nDims);
  const type = nDims + 4 + 8 * dims;
  return { nameLength: at - 8, nDims, firstDim: nDims + 4, type, offset: type + 4 };
}

async function plan(file: Uint8Array, name = 'model.gguf') {
  const warnings: string[] = [];
  const segments = await makeTensorSplitter({ onWarning: (_f, w) => warnings.push(w) }).plan(memoryReader(file), name);
  return { segments, warnings };
}

test('a GGUF file is planned as header + metadata, then each tensor at its own boundaries', async () => {
  const file = buildGguf(tensors());
  const { segments, warnings } = await plan(file);
  assert.deepEqual(warnings, []);
  assert.ok(segments);
  assertCovers(segments, file.length);
  const layout = parseGgufHeader(file, file.length);
  assert.equal(layout.dataStart % 32, 0);
  assert.deepEqual(segments[0], { offset: 0, length: layout.dataStart, cut: 'cdc', label: 'gguf:header' });
  assert.deepEqual(segments.map((s) => s.label), [
    'gguf:header',
    'tensor:token_embd.weight#0',
    'tensor:blk.0.attn_norm.weight#0',
    'tensor:blk.0.attn_q.weight#0',
    'tensor:blk.0.attn_k.weight#0',
    'tensor:blk.0.ffn_up.weight#0',
    'tensor:blk.0.ffn_up.weight#1',
    'tensor:output_norm.weight#0',
  ]);
  assert.deepEqual(segments.map((s) => s.dtype), [undefined, 'other', 'fp32', 'fp16', 'bf16', 'other', 'other', 'fp32']);
});

test('alignment padding joins the tensor before it; general.alignment is honoured', async () => {
  const odd = [spec('a', F32, [3], 12), spec('b', F16, [5], 10), spec('c', F32, [2], 8)];
  for (const alignment of [32, 64, 1]) {
    const file = buildGguf(odd, alignment);
    const { segments } = await plan(file);
    assert.ok(segments, `alignment ${alignment}`);
    assertCovers(segments, file.length);
    const layout = parseGgufHeader(file, file.length);
    assert.equal(layout.dataStart % alignment, 0);
    assert.deepEqual(layout.tensors.map((t) => t.start - layout.dataStart), [0, Math.ceil(12 / alignment) * alignment, Math.ceil(12 / alignment) * alignment + Math.ceil(10 / alignment) * alignment]);
  }
});

test('metadata larger than the first read window is parsed by growing the window', async () => {
  const file = buildGguf([spec('a', F32, [4], 16)], 32, 3 * 1024 * 1024);
  const reader = memoryReader(file);
  const outcome = await planTensorFile(reader, 'm.gguf');
  assert.ok(outcome.segments);
  assertCovers(outcome.segments, file.length);
  assert.ok(outcome.segments[0].length > 3 * 1024 * 1024, 'the metadata is in the header segment');
  assert.ok(reader.bytesRead > 1 << 20 && reader.bytesRead < 8 * file.length, `read ${reader.bytesRead} bytes`);
});

const cases: [string, (f: Buffer) => void, RegExp][] = [
  ['version 1', (f) => f.writeUInt32LE(1, 4), /version 1 is not supported/],
  ['big-endian file', (f) => f.writeUInt32BE(3, 4), /big-endian/],
  ['absurd tensor count', (f) => f.writeBigUInt64LE(1n << 60n, 8), /absurd tensor count/],
  ['absurd metadata count', (f) => f.writeBigUInt64LE(1n << 40n, 16), /absurd metadata count/],
  ['unknown metadata value type', (f) => f.writeUInt32LE(77, f.indexOf(Buffer.from('general.architecture')) + 20), /unknown value type 77/],
  ['alignment not a power of two', (f) => f.writeUInt32LE(48, f.indexOf(Buffer.from('general.alignment')) + 17 + 4), /power of two/],
  ['duplicate tensor names', (f) => { const a = info(f, 'blk.0.attn_q.weight'); Buffer.from('blk.0.attn_k.weight').copy(f, a.nameLength + 8); }, /appears twice/],
  ['zero dimensions', (f) => f.writeUInt32LE(0, info(f, 'output_norm.weight').nDims), /0 dimensions/],
  ['too many dimensions', (f) => f.writeUInt32LE(9, info(f, 'output_norm.weight').nDims), /9 dimensions/],
  ['misaligned offset', (f) => f.writeBigUInt64LE(f.readBigUInt64LE(info(f, 'output_norm.weight').offset) + 4n, info(f, 'output_norm.weight').offset), /not a multiple of the alignment/],
  ['tensor past the end', (f) => f.writeBigUInt64LE(1n << 40n, info(f, 'output_norm.weight').offset), /past the end/],
  ['overlapping tensors', (f) => f.writeBigUInt64LE(0n, info(f, 'blk.0.attn_norm.weight').offset), /overlap/],
  ['row not a whole number of blocks', (f) => f.writeBigUInt64LE(33n, info(f, 'token_embd.weight').firstDim), /whole number of 32-element blocks/],
  ['shape larger than the file', (f) => f.writeBigUInt64LE(1n << 50n, info(f, 'blk.0.attn_norm.weight').firstDim), /past the end|more elements/],
];

for (const [what, mutate, message] of cases) {
  test(`malformed GGUF (${what}) falls back to FastCDC with a warning`, async () => {
    const file = Buffer.from(buildGguf(tensors()));
    mutate(file);
    const { segments, warnings } = await plan(file);
    assert.equal(segments, undefined);
    assert.equal(warnings.length, 1, `one warning for ${what}`);
    assert.match(warnings[0], message);
  });
}

test('a truncated GGUF file falls back with a warning wherever it is cut', async () => {
  const file = buildGguf(tensors());
  const layout = parseGgufHeader(file, file.length);
  for (const cut of [3, 8, 20, 40, 100, layout.dataStart - 40, layout.dataStart - 1, layout.dataStart + 10, file.length - 1]) {
    const { segments, warnings } = await plan(file.subarray(0, cut));
    assert.equal(segments, undefined, `cut at ${cut}`);
    if (cut >= 4) assert.match(warnings[0], /truncated|past the end/, `cut at ${cut}: ${warnings[0]}`);
  }
});

test('a file named .gguf without the magic is reported; GGUF magic is recognised under any name', async () => {
  const { segments, warnings } = await plan(Buffer.from('not a model at all'), 'model.gguf');
  assert.equal(segments, undefined);
  assert.match(warnings[0], /no "GGUF" magic/);
  const renamed = await plan(buildGguf(tensors()), 'model.bin');
  assert.ok(renamed.segments);
});

test('a tensor of a ggml type this version does not know runs to the next tensor', () => {
  const t = tensors();
  const file = Buffer.from(buildGguf(t));
  file.writeUInt32LE(99, info(file, 'blk.0.attn_q.weight').type);
  const layout = parseGgufHeader(file, file.length);
  const q = layout.tensors.find((x) => x.name === 'blk.0.attn_q.weight')!;
  const k = layout.tensors.find((x) => x.name === 'blk.0.attn_k.weight')!;
  assert.equal(q.dtype, 'other');
  assert.equal(q.start + q.length, k.start);
  assert.throws(() => parseGgufHeader(file.subarray(0, 30), file.length), GgufHeaderIncomplete, 'a prefix asks for more');
});
