// Options of a generated series, their defaults, and parsing of counts and sizes ("350M", "2GB").
import { isDtype, type Dtype } from './dtype.js';

export const SERIES_KINDS = ['base', 'ft-partial', 'ft-full', 'lora', 'merged', 'dataset'] as const;
export type SeriesKind = (typeof SERIES_KINDS)[number];

export interface SeriesOptions {
  out: string;
  /** approximate parameter count */
  params: number;
  dtype: Dtype;
  seed: number;
  vocab: number;
  shardBytes: number;
  series: SeriesKind[];
  ftPartial: number;
  ftFull: number;
  lora: number;
  merged: number;
  datasetVersions: number;
  /** std of the absolute fp32 master-weight drift per checkpoint (Adam-like steps) */
  ftStep: number;
  partialLayers: number;
  loraRank: number;
  loraAlpha: number;
  loraDtype: Dtype;
  datasetRecords: number;
  datasetGrowth: number;
  datasetEdit: number;
  datasetShard: number;
  /** progress lines on stderr */
  log?: (line: string) => void;
}

export class GenOptionError extends Error {
  readonly code = 'GEN_BAD_OPTION';
}

export function defaults(out: string): SeriesOptions {
  return {
    out,
    params: 1e9,
    dtype: 'bf16',
    seed: 42,
    vocab: 32000,
    shardBytes: 2e9,
    series: [...SERIES_KINDS],
    ftPartial: 3,
    ftFull: 3,
    lora: 3,
    merged: 3,
    datasetVersions: 3,
    ftStep: 4e-7,
    partialLayers: 2,
    loraRank: 16,
    loraAlpha: 32,
    loraDtype: 'fp32',
    datasetRecords: 100_000,
    datasetGrowth: 0.1,
    datasetEdit: 0.01,
    datasetShard: 20_000,
  };
}

/** "5M", "350M", "1B", "1.5e9" -> a count. */
export function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([kmbg]?)$/i.exec(s.trim());
  if (!m) throw new GenOptionError(`"${s}" is not a count: use e.g. 5M, 350M, 1B or 1.5e9`);
  const mult: Record<string, number> = { '': 1, k: 1e3, m: 1e6, b: 1e9, g: 1e9 };
  return Math.round(parseFloat(m[1]) * mult[m[2].toLowerCase()]);
}

/** "2GB" (decimal), "1GiB" (binary), "500MB", "4096" -> bytes. */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?$/i.exec(s.trim());
  if (!m) throw new GenOptionError(`"${s}" is not a size: use e.g. 2GB, 500MB or 1GiB`);
  const exp: Record<string, number> = { '': 0, k: 1, m: 2, g: 3, t: 4 };
  return Math.round(parseFloat(m[1]) * (m[3] ? 1024 : 1000) ** exp[m[2].toLowerCase()]);
}

export function parseDtype(s: string): Dtype {
  if (!isDtype(s)) throw new GenOptionError(`dtype "${s}" is not one of bf16, fp16, fp32`);
  return s;
}

export function parseSeries(s: string): SeriesKind[] {
  const kinds = s.split(',').map((x) => x.trim()).filter(Boolean);
  for (const k of kinds) if (!(SERIES_KINDS as readonly string[]).includes(k)) throw new GenOptionError(`series "${k}" is not one of ${SERIES_KINDS.join(', ')}`);
  return kinds as SeriesKind[];
}
