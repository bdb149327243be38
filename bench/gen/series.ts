// generateSeries: the whole history an AI team backs up, one directory per version, in the
// order they would be backed up: base, partial fine-tunes, full fine-tunes, LoRA adapters
// each followed by its merged model, dataset versions. Deterministic for (seed, options).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeDatasetVersion, type DatasetOptions } from './dataset.js';
import { writeLoraDir } from './lora-dir.js';
import { writeModelDir, type ModelDirOptions } from './model-dir.js';
import { defaults, type SeriesKind, type SeriesOptions } from './options.js';
import { solveShape, type ModelShape } from './shape.js';

export interface VersionRecord {
  /** directory name under out, e.g. "ft-full-2" */
  name: string;
  kind: SeriesKind;
  k: number;
  bytes: number;
  seconds: number;
}

export interface SeriesManifest {
  generator: 'lifeboat bench/gen v1';
  options: Omit<SeriesOptions, 'log' | 'out'>;
  shape: ModelShape;
  versions: VersionRecord[];
  totalBytes: number;
  seconds: number;
}

interface PlannedVersion {
  name: string;
  kind: SeriesKind;
  k: number;
  write: (dir: string) => Promise<number>;
}

function plan(o: SeriesOptions, shape: ModelShape): PlannedVersion[] {
  const has = (k: SeriesKind): boolean => o.series.includes(k);
  const loraOpts = { seed: o.seed, rank: o.loraRank, alpha: o.loraAlpha, dtype: o.loraDtype };
  const model: ModelDirOptions = { seed: o.seed, dtype: o.dtype, ftStep: o.ftStep, partialLayers: o.partialLayers, lora: loraOpts, shardBytes: o.shardBytes };
  const data: DatasetOptions = { seed: o.seed, records: o.datasetRecords, growth: o.datasetGrowth, editFraction: o.datasetEdit, shardRecords: o.datasetShard, labelStudioTasks: 1000 };
  const out: PlannedVersion[] = [];
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
  if (has('base')) out.push({ name: 'base', kind: 'base', k: 0, write: (d) => writeModelDir(d, shape, model, { kind: 'base' }) });
  if (has('ft-partial')) for (const k of range(o.ftPartial)) out.push({ name: `ft-partial-${k}`, kind: 'ft-partial', k, write: (d) => writeModelDir(d, shape, model, { kind: 'ft-partial', k }) });
  if (has('ft-full')) for (const k of range(o.ftFull)) out.push({ name: `ft-full-${k}`, kind: 'ft-full', k, write: (d) => writeModelDir(d, shape, model, { kind: 'ft-full', k }) });
  for (const k of range(Math.max(o.lora, o.merged))) {
    if (has('lora') && k <= o.lora) out.push({ name: `lora-${k}`, kind: 'lora', k, write: (d) => writeLoraDir(d, shape, loraOpts, k) });
    if (has('merged') && k <= o.merged) out.push({ name: `merged-${k}`, kind: 'merged', k, write: (d) => writeModelDir(d, shape, model, { kind: 'merged', k }) });
  }
  if (has('dataset')) for (const k of range(o.datasetVersions)) out.push({ name: `dataset-v${k}`, kind: 'dataset', k, write: (d) => writeDatasetVersion(d, data, k, o.datasetVersions) });
  return out;
}

/** Writes the series under options.out (created if missing) and series-manifest.json; returns the manifest. */
export async function generateSeries(options: Partial<SeriesOptions> & { out: string }): Promise<SeriesManifest> {
  const o: SeriesOptions = { ...defaults(options.out), ...options };
  const shape = solveShape(o.params, o.vocab);
  const log = o.log ?? (() => {});
  const t0 = performance.now();
  await mkdir(o.out, { recursive: true });
  log(`model ${(shape.params / 1e6).toFixed(1)}M params: hidden ${shape.hidden}, ${shape.layers} layers, intermediate ${shape.intermediate}, heads ${shape.heads}/${shape.kvHeads} kv, vocab ${shape.vocab}, ${o.dtype}, seed ${o.seed}`);
  const versions: VersionRecord[] = [];
  for (const v of plan(o, shape)) {
    const ts = performance.now();
    const bytes = await v.write(path.join(o.out, v.name));
    const seconds = (performance.now() - ts) / 1000;
    versions.push({ name: v.name, kind: v.kind, k: v.k, bytes, seconds: +seconds.toFixed(3) });
    log(`${v.name.padEnd(14)} ${(bytes / 1e6).toFixed(1).padStart(9)} MB ${seconds.toFixed(2).padStart(7)} s ${(bytes / 1e6 / seconds).toFixed(0).padStart(6)} MB/s`);
  }
  const { log: _log, out: _out, ...recorded } = o;
  const manifest: SeriesManifest = {
    generator: 'lifeboat bench/gen v1',
    options: recorded,
    shape,
    versions,
    totalBytes: versions.reduce((s, v) => s + v.bytes, 0),
    seconds: +((performance.now() - t0) / 1000).toFixed(3),
  };
  await writeFile(path.join(o.out, 'series-manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  log(`total ${(manifest.totalBytes / 1e9).toFixed(3)} GB in ${manifest.seconds.toFixed(1)} s`);
  return manifest;
}
