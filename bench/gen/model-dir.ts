// One model version as a Hugging Face directory: config.json, generation_config.json,
// tokenizer.json (identical in every version, as in real checkpoints), model weights sharded
// greedily in state-dict order above `shardBytes` with model.safetensors.index.json (as
// save_pretrained does), and trainer_state.json for training checkpoints.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DTYPES } from './dtype.js';
import { writeSafetensors, type Entry } from './safetensors.js';
import { hfConfig, tensorsOf, type ModelShape } from './shape.js';
import { tokenizerJson } from './tokenizer.js';
import { fillerFactory, type ModelVersion, type ValueOptions } from './values.js';

export interface ModelDirOptions extends ValueOptions {
  shardBytes: number;
}

function shardsOf(entries: Entry[], shardBytes: number): Entry[][] {
  const shards: Entry[][] = [[]];
  let current = 0;
  for (const e of entries) {
    const bytes = e.spec.numel * DTYPES[e.dtype].bytes;
    if (current > 0 && current + bytes > shardBytes) {
      shards.push([]);
      current = 0;
    }
    shards[shards.length - 1].push(e);
    current += bytes;
  }
  return shards;
}

function metadataOf(v: ModelVersion): Record<string, string> {
  switch (v.kind) {
    case 'base':
      return { format: 'pt' };
    case 'merged':
      return { format: 'pt', merged_adapter: `lora-${v.k}` };
    default:
      return { format: 'pt', global_step: String(1000 * v.k), finetune: v.kind === 'ft-full' ? 'full' : 'partial' };
  }
}

function trainerState(v: { k: number }, seed: number): string {
  const log = Array.from({ length: 10 * v.k }, (_, i) => ({
    step: (i + 1) * 100,
    loss: +(2.2 * Math.exp(-(i + 1) / 60) + 0.9 + (((i * 7919 + seed) % 97) - 48) / 2000).toFixed(4),
    learning_rate: 2e-5 * Math.min(1, (i + 1) / 10),
    epoch: +(((i + 1) * 100) / 3000).toFixed(4),
  }));
  return JSON.stringify({ global_step: 1000 * v.k, epoch: (1000 * v.k) / 3000, log_history: log, best_metric: null }, null, 2) + '\n';
}

/** Writes the directory; returns its total size in bytes. */
export async function writeModelDir(dir: string, shape: ModelShape, o: ModelDirOptions, v: ModelVersion): Promise<number> {
  await mkdir(dir, { recursive: true });
  const small: Array<[string, string]> = [
    ['config.json', JSON.stringify(hfConfig(shape, DTYPES[o.dtype].torch), null, 2) + '\n'],
    ['generation_config.json', JSON.stringify({ bos_token_id: 1, eos_token_id: 2, do_sample: true, temperature: 0.6, top_p: 0.9 }, null, 2) + '\n'],
    ['tokenizer.json', tokenizerJson(shape.vocab, o.seed)],
  ];
  if (v.kind === 'ft-full' || v.kind === 'ft-partial') small.push(['trainer_state.json', trainerState(v, o.seed)]);
  let bytes = 0;
  for (const [name, text] of small) {
    await writeFile(path.join(dir, name), text);
    bytes += Buffer.byteLength(text);
  }
  const entries: Entry[] = tensorsOf(shape).map((spec) => ({ spec, dtype: o.dtype }));
  const shards = shardsOf(entries, o.shardBytes);
  const fill = fillerFactory(o, shape, v);
  const meta = metadataOf(v);
  if (shards.length === 1) return bytes + (await writeSafetensors(path.join(dir, 'model.safetensors'), entries, meta, fill));
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (let i = 0; i < shards.length; i++) {
    const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    bytes += await writeSafetensors(path.join(dir, file), shards[i], meta, fill);
    for (const e of shards[i]) {
      weightMap[e.spec.name] = file;
      totalSize += e.spec.numel * DTYPES[e.dtype].bytes;
    }
  }
  const sortedMap = Object.fromEntries(Object.keys(weightMap).sort().map((k) => [k, weightMap[k]]));
  const index = JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sortedMap }, null, 2) + '\n';
  await writeFile(path.join(dir, 'model.safetensors.index.json'), index);
  return bytes + Buffer.byteLength(index);
}
