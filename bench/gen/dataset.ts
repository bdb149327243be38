// Versions of an annotated text dataset: JSONL shards of records with an annotation each, a
// Label Studio JSON export of the annotated tasks, and dataset_info.json. Version v+1 appends
// `growth` x records and re-annotates about `editFraction` of the existing ones, so most bytes
// repeat between versions but at shifting offsets — the case content-defined chunking is for.
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hash32, nextU32, rngFor } from './rng.js';
import { makeWords, type Words } from './words.js';

export interface DatasetOptions {
  seed: number;
  records: number;
  growth: number;
  editFraction: number;
  shardRecords: number;
  labelStudioTasks: number;
}

const LABELS = ['positive', 'negative', 'neutral', 'mixed'];
const SOURCES = ['web', 'books', 'forum', 'support-tickets', 'wiki', 'news'];
const EPOCH = Date.UTC(2024, 0, 1) / 1000;

export function recordCounts(o: DatasetOptions, versions: number): number[] {
  const counts = [o.records];
  for (let v = 2; v <= versions; v++) counts.push(Math.round(counts[counts.length - 1] * (1 + o.growth)));
  return counts;
}

interface RecordBody {
  text: string;
  source: string;
  created: number;
}

function recordBody(seed: number, words: Words, id: number): RecordBody {
  const rng = rngFor(seed, `record/${id}`);
  const n = 30 + (nextU32(rng) % 170);
  const out: string[] = [];
  let capital = true;
  for (let i = 0; i < n; i++) {
    let w = words.list[words.zipf[nextU32(rng) >>> 16]];
    if (capital) w = w[0].toUpperCase() + w.slice(1);
    const r = nextU32(rng) % 16;
    capital = r === 0;
    out.push(r === 0 ? `${w}.` : r === 1 ? `${w},` : w);
  }
  return { text: `${out.join(' ')}.`, source: SOURCES[nextU32(rng) % SOURCES.length], created: EPOCH + (nextU32(rng) % 31_536_000) };
}

interface Annotation {
  label: string;
  quality: number;
  annotator: string;
  revision: number;
}

function annotationOf(seed: number, id: number, revision: number): Annotation {
  const rng = rngFor(seed, `annotation/${id}/${revision}`);
  return {
    label: LABELS[nextU32(rng) % LABELS.length],
    quality: Math.round((nextU32(rng) / 4294967296) * 100) / 100,
    annotator: `annotator-${String(nextU32(rng) % 25).padStart(2, '0')}`,
    revision,
  };
}

/** How many times record `id` was re-annotated up to and including `version`. */
function revisionOf(o: DatasetOptions, counts: number[], id: number, version: number): number {
  let rev = 0;
  const threshold = o.editFraction * 4294967296;
  for (let u = 2; u <= version; u++) if (id < counts[u - 2] && hash32(o.seed, `edit/${u}/${id}`) < threshold) rev++;
  return rev;
}

function recordLine(o: DatasetOptions, words: Words, counts: number[], id: number, version: number): string {
  const body = recordBody(o.seed, words, id);
  return JSON.stringify({
    id: `rec-${String(id).padStart(9, '0')}`,
    text: body.text,
    source: body.source,
    created: new Date(body.created * 1000).toISOString(),
    lang: 'en',
    annotation: annotationOf(o.seed, id, revisionOf(o, counts, id, version)),
  });
}

function labelStudioTask(o: DatasetOptions, words: Words, counts: number[], id: number, version: number): unknown {
  const body = recordBody(o.seed, words, id);
  const rev = revisionOf(o, counts, id, version);
  const a = annotationOf(o.seed, id, rev);
  const created = new Date((body.created + 3600) * 1000).toISOString();
  return {
    id: id + 1,
    data: { text: body.text, source: body.source },
    annotations: [{
      id: 10_000 + id,
      completed_by: 1 + (hash32(o.seed, `user/${id}/${rev}`) % 12),
      result: [{ id: `r-${id}`, from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: [a.label] }, origin: 'manual' }],
      was_cancelled: false,
      ground_truth: false,
      created_at: created,
      updated_at: new Date((body.created + 3600 + 86_400 * rev) * 1000).toISOString(),
      lead_time: 2 + (hash32(o.seed, `lead/${id}/${rev}`) % 900) / 10,
    }],
    predictions: [],
    meta: {},
    project: 1,
  };
}

/** Writes dataset version `version` (1-based) into dir; returns its size in bytes. */
export async function writeDatasetVersion(dir: string, o: DatasetOptions, version: number, versions: number): Promise<number> {
  await mkdir(path.join(dir, 'data'), { recursive: true });
  const words = makeWords(o.seed, 8000);
  const counts = recordCounts(o, versions);
  const total = counts[version - 1];
  const shards = Math.ceil(total / o.shardRecords);
  let bytes = 0;
  for (let s = 0; s < shards; s++) {
    const file = path.join(dir, 'data', `train-${String(s).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.jsonl`);
    const fh = await open(file, 'w');
    try {
      let lines: string[] = [];
      const flush = async (): Promise<void> => {
        const text = lines.join('');
        lines = [];
        await fh.write(text);
        bytes += Buffer.byteLength(text);
      };
      for (let id = s * o.shardRecords; id < Math.min(total, (s + 1) * o.shardRecords); id++) {
        lines.push(recordLine(o, words, counts, id, version) + '\n');
        if (lines.length === 2000) await flush();
      }
      await flush();
    } finally {
      await fh.close();
    }
  }
  const tasks = Array.from({ length: Math.min(o.labelStudioTasks, total) }, (_, id) => labelStudioTask(o, words, counts, id, version));
  const exportJson = JSON.stringify(tasks, null, 2) + '\n';
  await writeFile(path.join(dir, 'label-studio-export.json'), exportJson);
  const info = JSON.stringify({ dataset_name: 'support-sentiment', version: `v${version}`, num_records: total, num_shards: shards, features: ['id', 'text', 'source', 'created', 'lang', 'annotation'] }, null, 2) + '\n';
  await writeFile(path.join(dir, 'dataset_info.json'), info);
  return bytes + Buffer.byteLength(exportJson) + Buffer.byteLength(info);
}
