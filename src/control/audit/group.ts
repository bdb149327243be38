/**
 * Grouping files into assets, bottom up: a directory is closed once everything under it has been
 * seen, and becomes one asset (a model folder, an adapter, a dataset of shards and splits, an
 * mlruns folder, a DVC-tracked folder), or passes up the assets found in it. Pure functions over
 * the counts of `DirState`; the walkers (fs-walk.ts, s3-walk.ts) feed them.
 */
import type { AssetKind } from '../policy.js';
import type { Candidate, DirOutcome, DirState, FileFacts, Hints, ListedFile } from './candidate.js';
import { CONFIG_FORMATS, DATASET_FORMATS, WEIGHT_FORMATS, type FileFormat } from './sniff.js';

/** File names that say what a folder is. */
const MARKERS = new Set([
  'config.json',
  'adapter_config.json',
  'model.safetensors.index.json',
  'pytorch_model.bin.index.json',
  'model_index.json',
  'generation_config.json',
  'tokenizer.json',
  'trainer_state.json',
  'dataset_info.json',
  'dataset_dict.json',
  'state.json',
  'MLmodel',
  'meta.yaml',
  'dvc.yaml',
  'dvc.lock',
  '.lakefs_ref.yaml',
]);

/** Small files that travel with an asset without changing what it is. */
const METADATA = /^(readme|license|licence|notice|changelog)(\..*)?$|\.(md|txt|json|ya?ml|toml|dvc|gitattributes|gitignore|lock|py|model|tiktoken|vocab)$|^\.git(attributes|ignore)$/i;

/** At most this many loose files of one folder are kept by name; past it the folder is one asset. */
export const MAX_LISTED = 64;
/** Fewer images than this in a folder are illustrations, not a dataset. */
export const MIN_IMAGES = 16;

const HF_CACHE = /^(models|datasets)--[^/]+--[^/]+$/;
const SPLIT_NAME = /^(train|training|test|testing|valid|validation|val|dev|eval|evaluation|data|shards?|splits?|part[-_]?\d+|\d+|default|images|labels|annotations)$/i;
const SHARD = /^(.*)-(\d{3,6})-of-(\d{3,6})(\.[^.]+)$/;

export function addFile(dir: DirState, f: FileFacts): void {
  dir.files++;
  dir.bytes += f.size;
  if (MARKERS.has(f.name)) dir.markers.add(f.name);
  if (f.name.endsWith('.dvc') && f.name.length > 4) {
    dir.dvcTargets.add(f.name.slice(0, -4));
    dir.markers.add('.dvc');
  }
  if (f.database) {
    dir.loose.push(databaseCandidate(joinPath(dir.path, f.name), f.database, f.size));
    return;
  }
  if (!f.format || f.format === 'sqlite') {
    if (!METADATA.test(f.name)) dir.otherFiles++;
    return;
  }
  const count = dir.byFormat.get(f.format) ?? { files: 0, bytes: 0 };
  count.files++;
  count.bytes += f.size;
  dir.byFormat.set(f.format, count);
  if (WEIGHT_FORMATS.has(f.format) || (f.format !== 'image' && count.files <= MAX_LISTED)) dir.listed.push({ name: f.name, size: f.size, format: f.format });
}

function databaseCandidate(path: string, database: 'label-studio' | 'mlflow', size: number): Candidate {
  const kind: AssetKind = database === 'label-studio' ? 'annotations' : 'registry';
  return { path, kind, format: `${database}-sqlite`, bytes: size, files: 1, hints: { markers: [] } };
}

function sum<T>(items: T[], of: (t: T) => number): number {
  return items.reduce((n, t) => n + of(t), 0);
}

function countOf(dir: DirState, formats: ReadonlySet<FileFormat>): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const [format, c] of dir.byFormat) if (formats.has(format)) (files += c.files), (bytes += c.bytes);
  return { files, bytes };
}

/** The format that holds most bytes among `formats`. */
function dominant(dir: DirState, formats: ReadonlySet<FileFormat>): FileFormat | undefined {
  let best: FileFormat | undefined;
  for (const [format, c] of dir.byFormat) if (formats.has(format) && (!best || c.bytes > dir.byFormat.get(best)!.bytes)) best = format;
  return best;
}

/** Closes `dir` given the outcomes of its subdirectories. */
export function closeDir(dir: DirState, children: DirOutcome[]): DirOutcome {
  const bytes = dir.bytes + sum(children, (c) => c.bytes) + (dir.git?.bytes ?? 0);
  const files = dir.files + sum(children, (c) => c.files) + (dir.git?.files ?? 0);
  const base = { path: dir.path, name: dir.name, bytes, files };
  const whole = (kind: AssetKind, format: string, extra: Partial<Hints> = {}): Candidate => ({
    path: dir.path,
    kind,
    format,
    bytes,
    files,
    hints: { markers: [...dir.markers].sort(), dvcTracked: dir.dvcTracked || undefined, ...extra },
  });

  const folder = folderAsset(dir, children, whole);
  if (folder) return { ...base, ...folder };

  const found = [...children.flatMap((c) => c.assets), ...dir.loose, ...looseFiles(dir)];
  if (dir.git) {
    // The repository is what its other assets leave: data tracked by DVC or git-ignored checkpoints are assets of their own.
    const rest = { bytes: bytes - sum(found, (a) => a.bytes), files: files - sum(found, (a) => a.files) };
    found.push({ ...whole('code', 'git', { gitRemote: dir.git.remote }), ...rest });
  }
  return { ...base, assets: found };
}

type Whole = (kind: AssetKind, format: string, extra?: Partial<Hints>) => Candidate;

/** The folder as one asset, if it is one. */
function folderAsset(dir: DirState, children: DirOutcome[], whole: Whole): Pick<DirOutcome, 'assets' | 'dataset' | 'config'> | undefined {
  if (dir.partial) return undefined;
  const m = dir.markers;
  const childModels = children.some((c) => c.assets.some((a) => a.kind === 'model'));
  if (dir.name === 'mlruns') return { assets: [whole('registry', 'mlruns')] };
  // The Hugging Face hub cache: the bytes are in blobs/ under content hashes, snapshots/ holds only links to them.
  if (HF_CACHE.test(dir.name)) return { assets: [whole(dir.name.startsWith('models--') ? 'model' : 'dataset', 'hf-cache')] };
  if (m.has('adapter_config.json') && dir.listed.some((w) => WEIGHT_FORMATS.has(w.format))) return { assets: [whole('adapter', 'peft')] };
  const weights = dir.listed.filter((w) => WEIGHT_FORMATS.has(w.format));
  const indexed = m.has('model.safetensors.index.json') || m.has('pytorch_model.bin.index.json');
  if ((weights.length > 0 && (m.has('config.json') || indexed)) || (m.has('model_index.json') && (weights.length > 0 || childModels))) {
    return { assets: [whole('model', weightFormat(weights, indexed || shardGroups(weights).some((g) => g.length > 1)))] };
  }
  if (dir.dvcTracked && dir.files + sum(children, (c) => c.files) > 0) return { assets: [whole('dataset', datasetFormat(dir, children) ?? 'dvc')] };
  const dataset = datasetFolder(dir, children);
  if (dataset) return { assets: [whole('dataset', dataset.format)], dataset };
  if (isConfigFolder(dir, children)) return { assets: [whole('config', dominant(dir, CONFIG_FORMATS) ?? 'serving-config')], config: true };
  return undefined;
}

function weightFormat(weights: ListedFile[], sharded: boolean): string {
  const format = weights.length ? weights.reduce((a, b) => (b.size > a.size ? b : a)).format : 'safetensors';
  return sharded ? `${format}-sharded` : format;
}

/** Weight files grouped by shard set (`model-00001-of-00003.safetensors`); a file that is no shard is a group of one. */
function shardGroups(weights: ListedFile[]): ListedFile[][] {
  const groups = new Map<string, ListedFile[]>();
  for (const w of weights) {
    const s = SHARD.exec(w.name);
    const key = s ? `${s[1]}\0${s[3]}\0${s[4]}` : `\0${w.name}`;
    groups.set(key, [...(groups.get(key) ?? []), w]);
  }
  return [...groups.values()];
}

/** Dataset material all the way down: dataset files, small metadata, no weights or other files. */
function datasetFolder(dir: DirState, children: DirOutcome[]): DirOutcome['dataset'] | undefined {
  if (dir.otherFiles > 0 || dir.loose.length > 0 || dir.git || dir.listed.some((w) => WEIGHT_FORMATS.has(w.format))) return undefined;
  if (countOf(dir, CONFIG_FORMATS).files > 0) return undefined;
  const nonEmpty = children.filter((c) => c.files > 0);
  if (nonEmpty.some((c) => !c.dataset)) return undefined;
  const own = countOf(dir, DATASET_FORMATS);
  const images = dir.byFormat.get('image')?.files ?? 0;
  const ownData = own.files - images > 0 || images >= MIN_IMAGES;
  if (nonEmpty.length === 0) {
    if (!ownData) return undefined;
    return { format: datasetFormat(dir, [])!, images: images > 0 && own.files === images, leaf: true };
  }
  // Subfolders become one dataset with this one when they are its splits or shards, or image class folders.
  const splits = nonEmpty.every((c) => SPLIT_NAME.test(c.name));
  const classes = nonEmpty.length >= 2 && nonEmpty.every((c) => c.dataset!.images && c.dataset!.leaf);
  const described = dir.markers.has('dataset_info.json') || dir.markers.has('dataset_dict.json') || dir.markers.has('.lakefs_ref.yaml');
  if (!(ownData || splits || classes || described)) return undefined;
  return { format: datasetFormat(dir, nonEmpty)!, images: nonEmpty.every((c) => c.dataset!.images), leaf: false };
}

function datasetFormat(dir: DirState, children: DirOutcome[]): string | undefined {
  const own = dominant(dir, DATASET_FORMATS);
  const format = own ?? children.find((c) => c.dataset)?.dataset?.format;
  return format === 'image' ? 'images' : format;
}

function isConfigFolder(dir: DirState, children: DirOutcome[]): boolean {
  if (dir.otherFiles > 0 || dir.loose.length > 0 || dir.git) return false;
  if (dir.listed.some((w) => !CONFIG_FORMATS.has(w.format)) || countOf(dir, DATASET_FORMATS).files > 0) return false;
  const nonEmpty = children.filter((c) => c.files > 0);
  return nonEmpty.every((c) => c.config) && (countOf(dir, CONFIG_FORMATS).files > 0 || nonEmpty.length > 0);
}

/** Assets that are single files (or one shard set) in a folder that is not itself an asset. */
function looseFiles(dir: DirState): Candidate[] {
  const one = (name: string, kind: AssetKind, format: string, size: number, files = 1): Candidate => ({ path: joinPath(dir.path, name), kind, format, bytes: size, files, hints: { markers: [] } });
  const weights = dir.listed.filter((w) => WEIGHT_FORMATS.has(w.format));
  const out: Candidate[] = [];
  for (const group of shardGroups(weights)) {
    if (group.length === 1) out.push(one(group[0].name, 'model', group[0].format, group[0].size));
    else if (group.length === weights.length) out.push({ ...one('', 'model', `${group[0].format}-sharded`, sum(group, (w) => w.size), group.length), path: dir.path });
    else out.push(one(group[0].name.replace(/-\d{3,6}-of-/, '-*-of-'), 'model', `${group[0].format}-sharded`, sum(group, (w) => w.size), group.length));
  }
  const others = (formats: ReadonlySet<FileFormat>, kind: AssetKind) => {
    const listed = dir.listed.filter((w) => formats.has(w.format));
    const total = countOf(dir, formats);
    // Past MAX_LISTED the names were not kept: the folder stands for them.
    if (total.files > listed.length) out.push({ ...one('', kind, dominant(dir, formats)!, total.bytes, total.files), path: dir.path });
    else for (const f of listed) out.push(one(f.name, kind, f.format, f.size));
  };
  others(new Set([...DATASET_FORMATS].filter((f) => f !== 'image')), 'dataset');
  others(CONFIG_FORMATS, 'config');
  return out;
}

/** `dir/name` for a directory path or an s3:// URL. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
