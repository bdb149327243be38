/**
 * Lineage between asset versions, the pure part: a model version records the dataset versions (and
 * code commits) it was made from (repo/snapshot.ts `lineage`). From the snapshots alone:
 *
 *   protectedByLineage  which snapshots retention must keep because a kept one names them
 *   withLineageInputs   a copy's selection grown by the versions its snapshots name
 *   inputSnapshot       the snapshot a "version" input names, in any replica (asset, number, tree)
 *
 * A reference is by asset and version number, checked by the root tree id: snapshot ids differ
 * between a repository and its replicas (each seals with its own key), trees do not.
 */
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { LineageInput } from '../repo/snapshot.js';

export type VersionInput = Extract<LineageInput, { kind: 'version' }>;

/** The snapshot among `all` that a version input names, or undefined when it is not there (forgotten, not copied). */
export function inputSnapshot(all: readonly StoredSnapshot[], input: VersionInput): StoredSnapshot | undefined {
  return all.find((s) => s.snapshot.asset === input.asset && s.snapshot.assetVersion === input.assetVersion && s.snapshot.tree === input.tree);
}

export function versionInputs(s: StoredSnapshot): VersionInput[] {
  return (s.snapshot.lineage?.inputs ?? []).filter((i): i is VersionInput => i.kind === 'version');
}

const label = (s: StoredSnapshot) => (s.snapshot.assetVersion === undefined ? s.id.slice(0, 12) : `${s.snapshot.asset}@v${s.snapshot.assetVersion}`);

/**
 * The snapshots that are not in `keptIds` but must stay because a kept snapshot names them as an
 * input, directly or through other inputs (a dataset derived from another), each with the reason
 * for people ("dataset of llama-ft@v4"). Retention keeps these whatever its policy says.
 */
export function protectedByLineage(snapshots: readonly StoredSnapshot[], keptIds: Iterable<string>): Map<string, string> {
  const kept = new Set(keptIds);
  const reasons = new Map<string, string>();
  const queue = snapshots.filter((s) => kept.has(s.id));
  while (queue.length > 0) {
    const s = queue.shift()!;
    for (const input of versionInputs(s)) {
      const target = inputSnapshot(snapshots, input);
      if (!target || kept.has(target.id) || reasons.has(target.id)) continue;
      reasons.set(target.id, `${input.role} of ${label(s)}, which is kept`);
      queue.push(target);
    }
  }
  return reasons;
}

/** The ids of `selected` and of every snapshot their lineage names (transitively), oldest first: what a copy must bring. */
export function withLineageInputs(snapshots: readonly StoredSnapshot[], selected: readonly StoredSnapshot[]): StoredSnapshot[] {
  const ids = new Set(selected.map((s) => s.id));
  for (const id of protectedByLineage(snapshots, ids).keys()) ids.add(id);
  return snapshots.filter((s) => ids.has(s.id));
}
