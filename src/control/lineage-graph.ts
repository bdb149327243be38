/**
 * `lifeboat lineage ASSET@vN` and `restore --with-lineage`: the graph a version was made from
 * (model <- dataset versions <- code commits, with params and metrics), with whether each version
 * is still restorable here (its snapshot present and every blob it needs indexed), and the restore
 * of a model together with exactly the versions it names, each verified, into subfolders:
 *
 *   DIR/ASSET@vN/                 the version asked for
 *   DIR/lineage/ROLE/ASSET@vN/    each version its lineage names (e.g. lineage/dataset/support-tickets@v7/)
 *   DIR/lineage.json              the graph, as `lineage --json` prints it
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { LifeboatError } from '../base/errors.js';
import { collectBlobs } from '../engine/reachable.js';
import { restore, type RestoreResult } from '../engine/restore.js';
import { listSnapshots, resolveSnapshot, type ResolveOptions, type StoredSnapshot } from '../engine/snapshots.js';
import { listForgotten, type ForgottenVersion } from '../engine/forgotten.js';
import { makeTreeReader } from '../engine/trees.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { loadIndex } from '../repo/index-store.js';
import type { Repository } from '../repo/repository.js';
import type { Lineage } from '../repo/snapshot.js';
import { inputSnapshot, type VersionInput } from './lineage.js';

export interface LineageNode {
  snapshot: string;
  asset: string;
  version?: number;
  time: string;
  kind?: string;
  restorable: boolean;
  params: Record<string, string>;
  metrics: Record<string, number>;
  run?: Lineage['run'];
  inputs: LineageEdge[];
}

export type LineageEdge =
  | { role: string; kind: 'version'; asset: string; version: number; snapshot: string | null; restorable: boolean; forgotten?: string; node?: LineageNode }
  | { role: string; kind: 'git'; url: string; commit: string }
  | { role: string; kind: 'uri'; uri: string };

/** Whether every blob a snapshot needs is indexed (trees read, data checked against the index). */
type Restorable = (s: StoredSnapshot) => Promise<boolean>;

async function restorableCheck(repo: Repository): Promise<Restorable> {
  const { index } = await loadIndex(repo);
  const trees = makeTreeReader(repo, index, makeCodecSet(repo.config.zstdLevel));
  return async (s) => {
    try {
      const { data } = await collectBlobs(trees, s.snapshot.tree, new Set(), new Set());
      return data.every((id) => index.has(Buffer.from(id, 'hex')));
    } catch {
      return false; // a tree that cannot be read: not restorable
    }
  };
}

export async function lineageGraph(repo: Repository, spec: string, options: ResolveOptions = {}): Promise<LineageNode> {
  const [root, all, forgotten, restorable] = await Promise.all([resolveSnapshot(repo, spec, options), listSnapshots(repo), listForgotten(repo), restorableCheck(repo)]);
  return nodeOf(root, all, forgotten, restorable, new Set());
}

/**
 * The graph of the newest version of `asset` that records lineage, from snapshots already listed
 * (serve's cached view, so that a page never waits on the repository): there `restorable` says
 * only that the snapshot is in the repository, as the index is not read; `lifeboat lineage`
 * checks every blob. Undefined when no version of the asset records lineage.
 */
export async function newestLineage(all: readonly StoredSnapshot[], asset: string): Promise<LineageNode | undefined> {
  const withLineage = all.filter((s) => s.snapshot.asset === asset && (s.snapshot.lineage?.inputs.length ?? 0) > 0);
  const newest = withLineage.sort((a, b) => b.snapshot.time.localeCompare(a.snapshot.time))[0];
  return newest ? nodeOf(newest, all, [], async () => true, new Set()) : undefined;
}

async function nodeOf(s: StoredSnapshot, all: readonly StoredSnapshot[], forgotten: readonly ForgottenVersion[], restorable: Restorable, seen: Set<string>): Promise<LineageNode> {
  seen.add(s.id);
  const lineage = s.snapshot.lineage;
  const inputs: LineageEdge[] = [];
  for (const input of lineage?.inputs ?? []) {
    if (input.kind !== 'version') {
      inputs.push(input);
      continue;
    }
    const found = inputSnapshot(all, input);
    const gone = found ? undefined : forgotten.find((f) => f.asset === input.asset && f.assetVersion === input.assetVersion);
    inputs.push({
      role: input.role,
      kind: 'version',
      asset: input.asset,
      version: input.assetVersion,
      snapshot: found?.id ?? null,
      restorable: found ? await restorable(found) : false,
      ...(gone ? { forgotten: gone.forgotten } : {}),
      ...(found && !seen.has(found.id) ? { node: await nodeOf(found, all, forgotten, restorable, seen) } : {}),
    });
  }
  return {
    snapshot: s.id,
    asset: s.snapshot.asset,
    version: s.snapshot.assetVersion,
    time: s.snapshot.time,
    kind: s.snapshot.kind,
    restorable: await restorable(s),
    params: lineage?.params ?? {},
    metrics: lineage?.metrics ?? {},
    ...(lineage?.run ? { run: lineage.run } : {}),
    inputs,
  };
}

export interface LineageRestore {
  snapshotId: string;
  target: string;
  restored: Array<{ role: string | null; asset: string; version?: number; snapshot: string; path: string; files: number; bytes: number; failed: RestoreResult['failed'] }>;
  failed: Array<{ path: string; error: string }>;
}

const dirName = (s: StoredSnapshot) => (s.snapshot.assetVersion === undefined ? `${s.snapshot.asset}@${s.id.slice(0, 12)}` : `${s.snapshot.asset}@v${s.snapshot.assetVersion}`);

/** Restores a version and exactly the versions its lineage names (not their inputs in turn), each verified. */
export async function restoreWithLineage(repo: Repository, spec: string, target: string, options: { workers?: number; skipDamaged?: boolean; onWarning?: (m: string) => void } = {}): Promise<LineageRestore> {
  const root = await resolveSnapshot(repo, spec, { skipDamaged: options.skipDamaged, onWarning: options.onWarning });
  const all = await listSnapshots(repo);
  const wanted: Array<{ role: string | null; snapshot: StoredSnapshot; dir: string }> = [{ role: null, snapshot: root, dir: path.join(target, dirName(root)) }];
  for (const input of (root.snapshot.lineage?.inputs ?? []).filter((i): i is VersionInput => i.kind === 'version')) {
    const found = inputSnapshot(all, input);
    if (!found) throw new LifeboatError('LINEAGE', `${dirName(root)} names ${input.role} ${input.asset}@v${input.assetVersion}, which is not in ${repo.storage.location} (forgotten, or not copied to this replica): nothing was restored`);
    wanted.push({ role: input.role, snapshot: found, dir: path.join(target, 'lineage', input.role, dirName(found)) });
  }
  const result: LineageRestore = { snapshotId: root.id, target: path.resolve(target), restored: [], failed: [] };
  for (const w of wanted) {
    const r = await restore(repo, { snapshot: w.snapshot.id, target: w.dir, workers: options.workers, onWarning: options.onWarning });
    result.restored.push({ role: w.role, asset: w.snapshot.snapshot.asset, version: w.snapshot.snapshot.assetVersion, snapshot: w.snapshot.id, path: path.resolve(w.dir), files: r.files.length, bytes: r.bytes, failed: r.failed });
    result.failed.push(...r.failed.map((f) => ({ path: f.path, error: f.error })));
  }
  await fs.writeFile(path.join(target, 'lineage.json'), JSON.stringify(await lineageGraph(repo, root.id), null, 2) + '\n');
  return result;
}
