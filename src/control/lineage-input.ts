/**
 * What a backup says it was made from, as a person or a pipeline writes it, resolved against the
 * repository into the lineage a snapshot records:
 *
 *   --lineage dataset=support-tickets@v7           a version of an asset here (any snapshot spec: ASSET@vN, ASSET@latest, an id)
 *   --lineage code=git:https://git.internal/ml/train.git@3f2a9c1
 *   --lineage eval=s3://bench/mmlu-2024.jsonl       anything else with "://": kept as written
 *   --param lr=2e-5 --metric eval_loss=1.23
 *   --lineage-file run.json                         lifeboat's form, or an MLflow run export
 *
 * A version that is not in the repository is refused: a lineage that points nowhere is worse than none.
 * So is ASSET@latest while a snapshot object cannot be read (it may be the newest): there is no
 * --skip-damaged here, as a lineage must record exactly what a model was made from.
 */
import { LifeboatError, UsageError } from '../base/errors.js';
import { DamagedSnapshotsError, resolveSnapshot } from '../engine/snapshots.js';
import type { Repository } from '../repo/repository.js';
import type { Lineage, LineageInput } from '../repo/snapshot.js';

export interface LineageRequest {
  refs: Array<{ role: string; ref: string }>;
  params: Record<string, string>;
  metrics: Record<string, number>;
  run?: Lineage['run'];
}

export function emptyLineageRequest(): LineageRequest {
  return { refs: [], params: {}, metrics: {} };
}

function keyValue(text: string, flag: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new UsageError(`${flag} takes key=value, got "${text}"`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function metricValue(key: string, value: unknown, where: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (typeof value === 'boolean' || value === '' || !Number.isFinite(n)) throw new UsageError(`${where}: metric ${key} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

/** Adds the command line's --lineage, --param and --metric to a request. */
export function addFlags(request: LineageRequest, flags: { lineage?: string[]; param?: string[]; metric?: string[] }): LineageRequest {
  for (const l of flags.lineage ?? []) {
    const [role, ref] = keyValue(l, '--lineage');
    request.refs.push({ role, ref });
  }
  for (const p of flags.param ?? []) {
    const [k, v] = keyValue(p, '--param');
    request.params[k] = v;
  }
  for (const m of flags.metric ?? []) {
    const [k, v] = keyValue(m, '--metric');
    request.metrics[k] = metricValue(k, v, '--metric');
  }
  return request;
}

type Pairs = Array<{ key: string; value: unknown; step?: number; timestamp?: number }> | Record<string, unknown> | undefined;

/** MLflow writes params, metrics and tags as lists of {key, value} (REST, `mlflow runs describe`) or maps (the Python API). */
function pairs(value: Pairs): Array<{ key: string; value: unknown; step?: number; timestamp?: number }> {
  if (!value) return [];
  return Array.isArray(value) ? value : Object.entries(value).map(([key, v]) => ({ key, value: v }));
}

/**
 * Reads a lineage file: lifeboat's form `{ lineage: { role: ref } | [{ role, ref }], params, metrics, run }`,
 * or an MLflow run (`{ run: { info, data, inputs } }` or the run itself): its params, its metrics
 * (the last step of each), its git commit and repository (tags mlflow.source.git.*), tags
 * `lifeboat.lineage.ROLE` naming versions here, and its dataset inputs, as uri inputs.
 */
export function parseLineageFile(text: string, file: string): LineageRequest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not JSON (${(err as Error).message}): give lifeboat's lineage form or an MLflow run export`);
  }
  const request = emptyLineageRequest();
  const run = (doc.run ?? doc) as { info?: Record<string, unknown>; data?: { params?: Pairs; metrics?: Pairs; tags?: Pairs }; inputs?: { dataset_inputs?: Array<{ dataset?: Record<string, string> }> } };
  if (run.info && run.data) {
    for (const p of pairs(run.data.params)) request.params[p.key] = String(p.value);
    const latest = new Map<string, { value: unknown; step: number; timestamp: number }>();
    for (const m of pairs(run.data.metrics)) {
      const seen = latest.get(m.key);
      const step = m.step ?? 0;
      const timestamp = m.timestamp ?? 0;
      if (!seen || step > seen.step || (step === seen.step && timestamp >= seen.timestamp)) latest.set(m.key, { value: m.value, step, timestamp });
    }
    for (const [k, m] of latest) request.metrics[k] = metricValue(k, m.value, file);
    const tags = new Map(pairs(run.data.tags).map((t) => [t.key, String(t.value)]));
    const commit = tags.get('mlflow.source.git.commit');
    const repoUrl = tags.get('mlflow.source.git.repoURL') ?? tags.get('mlflow.gitRepoURL');
    if (commit && repoUrl) request.refs.push({ role: 'code', ref: `git:${repoUrl}@${commit}` });
    for (const [k, v] of tags) if (k.startsWith('lifeboat.lineage.')) request.refs.push({ role: k.slice('lifeboat.lineage.'.length), ref: v });
    for (const d of run.inputs?.dataset_inputs ?? []) {
      if (d.dataset?.name) request.refs.push({ role: 'mlflow-dataset', ref: `mlflow-dataset://${d.dataset.name}${d.dataset.digest ? `@${d.dataset.digest}` : ''}` });
    }
    const info = run.info as Record<string, string | number | undefined>;
    const time = (ms: unknown) => (typeof ms === 'number' || (typeof ms === 'string' && /^\d+$/.test(ms)) ? new Date(Number(ms)).toISOString() : undefined);
    request.run = { source: 'mlflow', id: String(info.run_id ?? info.run_uuid ?? ''), name: info.run_name as string | undefined, experiment: info.experiment_id === undefined ? undefined : String(info.experiment_id), status: info.status as string | undefined, start: time(info.start_time), end: time(info.end_time) };
    return request;
  }
  const lineage = doc.lineage as Record<string, string> | Array<{ role: string; ref: string }> | undefined;
  if (Array.isArray(lineage)) request.refs.push(...lineage.map((l) => ({ role: String(l.role), ref: String(l.ref) })));
  else if (lineage) for (const [role, ref] of Object.entries(lineage)) request.refs.push({ role, ref: String(ref) });
  for (const [k, v] of Object.entries((doc.params ?? {}) as Record<string, unknown>)) request.params[k] = String(v);
  for (const [k, v] of Object.entries((doc.metrics ?? {}) as Record<string, unknown>)) request.metrics[k] = metricValue(k, v, file);
  if (doc.run && typeof doc.run === 'object') request.run = { source: 'file', ...(doc.run as object) } as Lineage['run'];
  if (request.refs.length === 0 && Object.keys(request.params).length === 0 && Object.keys(request.metrics).length === 0) {
    throw new UsageError(`${file} names no lineage, params or metrics: write { "lineage": { "dataset": "ASSET@vN" }, "params": {...}, "metrics": {...} } or give an MLflow run export`);
  }
  return request;
}

/** Resolves every reference: versions against the repository (a missing one is refused), git and URIs as written. */
export async function resolveLineage(repo: Repository, request: LineageRequest): Promise<Lineage | undefined> {
  if (request.refs.length === 0 && Object.keys(request.params).length === 0 && Object.keys(request.metrics).length === 0 && !request.run) return undefined;
  const inputs: LineageInput[] = [];
  for (const { role, ref } of request.refs) {
    if (ref.startsWith('git:')) {
      const at = ref.lastIndexOf('@');
      const url = ref.slice(4, at);
      const commit = ref.slice(at + 1);
      if (at <= 4 || !/^[0-9a-f]{4,64}$/i.test(commit)) throw new UsageError(`--lineage ${role}=${ref}: write code as git:URL@COMMIT (a commit id in hex)`);
      inputs.push({ role, kind: 'git', url, commit: commit.toLowerCase() });
    } else if (ref.includes('://')) {
      inputs.push({ role, kind: 'uri', uri: ref });
    } else {
      const found = await resolveSnapshot(repo, ref).catch((err: LifeboatError) => {
        if (err instanceof DamagedSnapshotsError) throw new DamagedSnapshotsError(err.spec, err.damaged, err.newestReadable, `the ${role} ${ref} named by --lineage: ${err.reason}`, ref.endsWith('@latest') ? 'name its version (ASSET@vN) or snapshot id instead' : '"lifeboat check" reports the damage');
        throw new LifeboatError('LINEAGE', `the ${role} ${ref} named by --lineage is not in ${repo.storage.location}: ${err.message}. Back it up first (its version must exist before a model can name it)`, { cause: err });
      });
      if (found.snapshot.assetVersion === undefined) throw new LifeboatError('LINEAGE', `the ${role} ${ref} is a snapshot made before version numbers: back ${found.snapshot.asset} up again and name its version`);
      inputs.push({ role, kind: 'version', asset: found.snapshot.asset, assetVersion: found.snapshot.assetVersion, snapshot: found.id, tree: found.snapshot.tree });
    }
  }
  return { inputs, params: request.params, metrics: request.metrics, ...(request.run ? { run: request.run } : {}) };
}
