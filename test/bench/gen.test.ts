// The project's own test-data generator: deterministic, valid safetensors, and realistic in the
// one statistic the storage work is tuned on (the share of bf16 values a full fine-tune
// checkpoint changes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateSeries } from '../../bench/gen/series.js';
import { countChangedElements, headerProblems, readHeader } from '../../bench/gen/safetensors-read.js';
import { parseBytes, parseCount } from '../../bench/gen/options.js';

const tiny = { params: 5e6, vocab: 4096, ftPartial: 1, ftFull: 2, lora: 1, merged: 1, datasetVersions: 2, datasetRecords: 2000, datasetShard: 500 };

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out.sort();
}

async function digestOf(dir: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const f of await filesUnder(dir)) {
    if (f.endsWith('series-manifest.json')) continue; // holds timings
    m.set(path.relative(dir, f), createHash('sha256').update(await readFile(f)).digest('hex'));
  }
  return m;
}

async function withDirs<T>(n: number, fn: (dirs: string[]) => Promise<T>): Promise<T> {
  const dirs = await Promise.all(Array.from({ length: n }, () => mkdtemp(path.join(tmpdir(), 'lifeboat-gen-'))));
  try {
    return await fn(dirs);
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

test('the same seed and options give byte-identical series; another seed does not', async () => {
  await withDirs(3, async ([a, b, c]) => {
    const ma = await generateSeries({ out: a, seed: 7, ...tiny });
    await generateSeries({ out: b, seed: 7, ...tiny });
    await generateSeries({ out: c, seed: 8, ...tiny, series: ['base'] });
    const da = await digestOf(a);
    const db = await digestOf(b);
    assert.deepEqual([...da.entries()], [...db.entries()]);
    assert.deepEqual(ma.versions.map((v) => v.name), ['base', 'ft-partial-1', 'ft-full-1', 'ft-full-2', 'lora-1', 'merged-1', 'dataset-v1', 'dataset-v2']);
    const dc = await digestOf(c);
    assert.notEqual(dc.get('base/model.safetensors'), da.get('base/model.safetensors'));
    for (const v of ma.versions) assert.ok(v.bytes > 0, `${v.name} is empty`);
  });
});

test('every safetensors file has a valid header, and sharded models have a consistent index', async () => {
  await withDirs(1, async ([dir]) => {
    await generateSeries({ out: dir, seed: 1, ...tiny, series: ['base', 'lora'], shardBytes: parseBytes('4MB') });
    const files = await filesUnder(dir);
    const shards = files.filter((f) => f.includes(`${path.sep}base${path.sep}`) && f.endsWith('.safetensors'));
    assert.ok(shards.length >= 2, `expected the 5M model to be sharded at 4 MB, got ${shards.length} file(s)`);
    let params = 0;
    for (const f of files.filter((x) => x.endsWith('.safetensors'))) {
      const h = await readHeader(f);
      assert.deepEqual(headerProblems(h), [], f);
      if (shards.includes(f)) for (const t of h.tensors.values()) params += t.shape.reduce((x, y) => x * y, 1);
    }
    assert.ok(params > 4e6 && params < 6e6, `base has ${params} parameters, asked for about 5M`);
    const index = JSON.parse(await readFile(path.join(dir, 'base', 'model.safetensors.index.json'), 'utf8')) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    assert.equal(index.metadata.total_size, params * 2);
    for (const [name, file] of Object.entries(index.weight_map)) {
      const h = await readHeader(path.join(dir, 'base', file));
      assert.ok(h.tensors.has(name), `${name} is not in ${file}`);
    }
    const adapter = await readHeader(path.join(dir, 'lora-1', 'adapter_model.safetensors'));
    assert.ok([...adapter.tensors.keys()].every((k) => /^base_model\.model\.model\.layers\.\d+\.self_attn\.[qv]_proj\.lora_[AB]\.weight$/.test(k)));
  });
});

test('a bf16 full fine-tune checkpoint changes about 1.5% of stored values; ft-partial leaves lower layers identical', async () => {
  await withDirs(1, async ([dir]) => {
    await generateSeries({ out: dir, seed: 3, ...tiny, params: 2e7, series: ['base', 'ft-partial', 'ft-full'] });
    const file = (v: string): string => path.join(dir, v, 'model.safetensors');
    const step = await countChangedElements(file('ft-full-1'), file('ft-full-2'));
    const fraction = step.changed / step.elements;
    assert.ok(fraction > 0.007 && fraction < 0.03, `ft-full-1 -> ft-full-2 changed ${(100 * fraction).toFixed(3)}% of bf16 values`);
    const partial = await countChangedElements(file('base'), file('ft-partial-1'));
    assert.ok(partial.changed > 0, 'ft-partial changed nothing');
    const h = await readHeader(file('base'));
    const [b0, e0] = h.tensors.get('model.layers.0.mlp.up_proj.weight')!.data_offsets;
    const a = await readFile(file('base'));
    const p = await readFile(file('ft-partial-1'));
    const hp = await readHeader(file('ft-partial-1'));
    const [bp] = hp.tensors.get('model.layers.0.mlp.up_proj.weight')!.data_offsets;
    assert.ok(a.subarray(h.dataStart + b0, h.dataStart + e0).equals(p.subarray(hp.dataStart + bp, hp.dataStart + bp + (e0 - b0))), 'layer 0 differs in ft-partial-1');
    const full = await readHeader(file('ft-full-2'));
    assert.equal(full.fileSize - full.dataStart, h.fileSize - h.dataStart, 'ft-full-2 holds a different amount of tensor data');
    assert.equal(full.metadata.global_step, '2000');
  });
});

test('dataset versions grow by about 10% and the parsers reject nonsense', async () => {
  await withDirs(1, async ([dir]) => {
    const m = await generateSeries({ out: dir, seed: 5, ...tiny, series: ['dataset'], datasetVersions: 3 });
    const [v1, v2, v3] = m.versions.map((v) => v.bytes);
    assert.ok(v2 / v1 > 1.05 && v2 / v1 < 1.15 && v3 > v2, `dataset sizes ${v1}, ${v2}, ${v3}`);
    const ls = JSON.parse(await readFile(path.join(dir, 'dataset-v2', 'label-studio-export.json'), 'utf8')) as Array<{ annotations: Array<{ result: unknown[] }> }>;
    assert.equal(ls.length, 1000);
    assert.equal(ls[0].annotations[0].result.length, 1);
  });
  assert.equal(parseCount('350M'), 350e6);
  assert.equal(parseBytes('1GiB'), 2 ** 30);
  assert.throws(() => parseCount('lots'), /not a count/);
});
