// node dist/bench/gen/cli.js --out DIR [--params 1B] [--dtype bf16] [--seed 42] [--series base,ft-full] ...
import { parseArgs } from 'node:util';
import { defaults, GenOptionError, parseBytes, parseCount, parseDtype, parseSeries, SERIES_KINDS, type SeriesOptions } from './options.js';
import { generateSeries } from './series.js';

const HELP = `usage: node dist/bench/gen/cli.js --out DIR [options]

Writes a deterministic, realistic series of a Llama-like model in safetensors plus a dataset:
base, ft-partial-k, ft-full-k, lora-k, merged-k, dataset-vk (one directory each) and
series-manifest.json. The default (1B bf16) is about 20 GB.

  --params N            approximate parameters: 5M, 350M, 1B ...          (default 1B)
  --dtype D             bf16 | fp16 | fp32                                 (default bf16)
  --seed S              integer seed                                       (default 42)
  --series LIST         comma list of ${SERIES_KINDS.join(',')} (default all)
  --shard-size SIZE     shard model files above SIZE, e.g. 2GB, 500MB      (default 2GB)
  --ft-partial K  --ft-full K  --lora K  --merged K  --dataset-versions K  (default 3 each)
  --ft-step X           std of the fp32 master-weight drift per checkpoint (default 4e-7)
  --partial-layers N    top layers trained by ft-partial                   (default 2)
  --lora-rank R  --lora-alpha A  --lora-dtype D                            (default 16, 32, fp32)
  --dataset-records N   records in dataset-v1                              (default 100000)
  --dataset-growth F  --dataset-edit F  --dataset-shard N                  (default 0.1, 0.01, 20000)
  --quiet               no progress lines
`;

function toOptions(argv: string[]): SeriesOptions | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' }, quiet: { type: 'boolean', short: 'q' },
      out: { type: 'string' }, params: { type: 'string' }, dtype: { type: 'string' }, seed: { type: 'string' },
      series: { type: 'string' }, 'shard-size': { type: 'string' }, vocab: { type: 'string' },
      'ft-partial': { type: 'string' }, 'ft-full': { type: 'string' }, lora: { type: 'string' }, merged: { type: 'string' },
      'dataset-versions': { type: 'string' }, 'ft-step': { type: 'string' }, 'partial-layers': { type: 'string' },
      'lora-rank': { type: 'string' }, 'lora-alpha': { type: 'string' }, 'lora-dtype': { type: 'string' },
      'dataset-records': { type: 'string' }, 'dataset-growth': { type: 'string' }, 'dataset-edit': { type: 'string' },
      'dataset-shard': { type: 'string' },
    },
  });
  if (values.help) return null;
  if (!values.out) throw new GenOptionError('--out DIR is required (see --help)');
  const o = defaults(values.out);
  const num = (name: string, v: string | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new GenOptionError(`--${name} "${v}" is not a non-negative number`);
    return x;
  };
  return {
    ...o,
    params: values.params ? parseCount(values.params) : o.params,
    dtype: values.dtype ? parseDtype(values.dtype) : o.dtype,
    seed: num('seed', values.seed, o.seed) >>> 0,
    vocab: num('vocab', values.vocab, o.vocab),
    series: values.series ? parseSeries(values.series) : o.series,
    shardBytes: values['shard-size'] ? parseBytes(values['shard-size']) : o.shardBytes,
    ftPartial: num('ft-partial', values['ft-partial'], o.ftPartial),
    ftFull: num('ft-full', values['ft-full'], o.ftFull),
    lora: num('lora', values.lora, o.lora),
    merged: num('merged', values.merged, o.merged),
    datasetVersions: num('dataset-versions', values['dataset-versions'], o.datasetVersions),
    ftStep: num('ft-step', values['ft-step'], o.ftStep),
    partialLayers: num('partial-layers', values['partial-layers'], o.partialLayers),
    loraRank: num('lora-rank', values['lora-rank'], o.loraRank),
    loraAlpha: num('lora-alpha', values['lora-alpha'], o.loraAlpha),
    loraDtype: values['lora-dtype'] ? parseDtype(values['lora-dtype']) : o.loraDtype,
    datasetRecords: num('dataset-records', values['dataset-records'], o.datasetRecords),
    datasetGrowth: num('dataset-growth', values['dataset-growth'], o.datasetGrowth),
    datasetEdit: num('dataset-edit', values['dataset-edit'], o.datasetEdit),
    datasetShard: num('dataset-shard', values['dataset-shard'], o.datasetShard) || 1,
    log: values.quiet ? undefined : (line) => process.stderr.write(line + '\n'),
  };
}

async function main(): Promise<number> {
  try {
    const o = toOptions(process.argv.slice(2));
    if (!o) {
      process.stdout.write(HELP);
      return 0;
    }
    await generateSeries(o);
    return 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    process.stderr.write(`gen: ${err.message}\n`);
    return err instanceof GenOptionError || err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  }
}

process.exitCode = await main();
