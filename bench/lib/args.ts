// Options of `npm run bench` (node dist/bench/run.js).
import { parseArgs } from 'node:util';
import { GenOptionError, parseBytes, parseCount, parseDtype, parseSeries, type SeriesKind } from './../gen/options.js';
import type { Dtype } from '../gen/dtype.js';

export const HELP = `usage: npm run bench -- [options]      (or: node dist/bench/run.js [options])

Generates a model series with bench/gen, then backs it up and restores it with Lifeboat, restic
and borg in one run; prints a table with Lifeboat's ratios and writes the results as JSON.

  --params N               model size: 350M, 1B (default 1B: ~2.2 GB base, ~20 GB series)
  --dtype D                bf16 | fp16 | fp32 (default bf16)
  --seed S                 generator seed (default 42)
  --series LIST            series kinds to generate (default all: base,ft-partial,ft-full,lora,merged,dataset)
  --repeats N              base backups/restores per tool, median reported (default 3)
  --tools LIST             lifeboat,restic,borg (default all three)
  --mode M                 all | series | sparse | s3 (default all; s3: base backup/restore to a
                           Ceph RGW by Lifeboat and restic, and lifeboat copy of the series to a
                           second bucket; the server from S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY)
  --restic-compression C   restic --compression (default auto)
  --borg-compression C     borg --compression (default zstd,3)
  --sparse-size SIZE       sparse mode file size (default 64GB)
  --work DIR               work directory (default a new /tmp/lifeboat-bench-*)
  --series-dir DIR         use an already generated series (it is never deleted)
  --results FILE           results JSON (default /tmp/lifeboat-bench-<params>-<dtype>-<time>.json)
  --lifeboat CMD           how to run Lifeboat (default "node <checkout>/bin/lifeboat.js")
  --no-install             do not apt-get install missing restic/borg/time
  --keep                   keep the work directory (series and results) at the end
`;

export interface BenchArgs {
  params: number;
  paramsLabel: string;
  dtype: Dtype;
  seed: number;
  series?: SeriesKind[];
  repeats: number;
  tools: string[];
  mode: 'all' | 'series' | 'sparse' | 's3';
  resticCompression: string;
  borgCompression: string;
  sparseBytes: number;
  work?: string;
  seriesDir?: string;
  results?: string;
  lifeboat?: string[];
  install: boolean;
  keep: boolean;
}

export function parseBenchArgs(argv: string[]): BenchArgs | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      params: { type: 'string', default: '1B' },
      dtype: { type: 'string', default: 'bf16' },
      seed: { type: 'string', default: '42' },
      series: { type: 'string' },
      repeats: { type: 'string', default: '3' },
      tools: { type: 'string', default: 'lifeboat,restic,borg' },
      mode: { type: 'string', default: 'all' },
      'restic-compression': { type: 'string', default: 'auto' },
      'borg-compression': { type: 'string', default: 'zstd,3' },
      'sparse-size': { type: 'string', default: '64GB' },
      work: { type: 'string' },
      'series-dir': { type: 'string' },
      results: { type: 'string' },
      lifeboat: { type: 'string' },
      'no-install': { type: 'boolean' },
      keep: { type: 'boolean' },
    },
  });
  if (values.help) return null;
  const repeats = Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) throw new GenOptionError(`--repeats "${values.repeats}" is not a positive integer`);
  const mode = values.mode as BenchArgs['mode'];
  if (!['all', 'series', 'sparse', 's3'].includes(mode)) throw new GenOptionError(`--mode "${values.mode}" is not one of all, series, sparse, s3`);
  const tools = values.tools.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of tools) if (!['lifeboat', 'restic', 'borg'].includes(t)) throw new GenOptionError(`--tools: "${t}" is not one of lifeboat, restic, borg`);
  return {
    params: parseCount(values.params),
    paramsLabel: values.params,
    dtype: parseDtype(values.dtype),
    seed: Number(values.seed) >>> 0,
    series: values.series ? parseSeries(values.series) : undefined,
    repeats,
    tools,
    mode,
    resticCompression: values['restic-compression'],
    borgCompression: values['borg-compression'],
    sparseBytes: parseBytes(values['sparse-size']),
    work: values.work,
    seriesDir: values['series-dir'],
    results: values.results,
    lifeboat: values.lifeboat ? values.lifeboat.split(' ').filter(Boolean) : undefined,
    install: !values['no-install'],
    keep: !!values.keep,
  };
}
