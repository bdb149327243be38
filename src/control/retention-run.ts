/**
 * Applying retention: plan (control/retention-plan.ts), then do it, in an order that never loses a
 * snapshot the plan means to archive:
 *
 * 1. Snapshots under Object Lock retention are left, with their date: not archived, not removed.
 * 2. `expired: archive` — what goes is copied to the archive repository (engine/copy.ts, shared
 *    locks: backups go on meanwhile) and the copies are checked there, exactly they: every tree
 *    read and every data blob read back and verified (engine/check-snapshots.ts). If the copy or
 *    the check fails, nothing at all is forgotten and the run fails, saying why.
 * 3. Only then the snapshot objects go from the repository, under its exclusive lock (a snapshot
 *    that became locked or vanished meanwhile is reported, not fatal). Their data goes with prune.
 *
 * The plan is made from the snapshots listed at the start. A backup that adds one meanwhile does
 * not make it wrong: a new snapshot is newer than every planned one, and a newer snapshot never
 * makes an older one kept (counts are used up from the newest, `within` is measured from the
 * newest). A dry run archives and removes nothing and takes no lock.
 */
import { systemClock, type Clock } from '../base/clock.js';
import { codeOf } from '../base/error-codes.js';
import { LifeboatError, throwIfAborted } from '../base/errors.js';
import { checkSnapshots, type SnapshotCheckReport } from '../engine/check-snapshots.js';
import { copy, type CopyOptions } from '../engine/copy.js';
import { forgetSnapshots } from '../engine/forget.js';
import { lockedUntil } from '../engine/object-lock.js';
import { listSnapshots, type StoredSnapshot } from '../engine/snapshots.js';
import { IntegrityError } from '../repo/errors.js';
import { objectKey, type Repository } from '../repo/repository.js';
import type { KeepPolicy, Policy } from './policy.js';
import { protectedByLineage } from './lineage.js';
import { planRetention, type PolicySource, type RetentionPlan, type RetentionScope } from './retention-plan.js';
import { describeKeepPolicy, type ProtectedSnapshots } from './retention.js';

export interface OpenedArchive {
  repo: Repository;
  close(): Promise<void>;
}

export interface ApplyRetentionOptions {
  source: PolicySource;
  scope?: RetentionScope;
  dryRun?: boolean;
  protect?: ProtectedSnapshots;
  /** Opens the archive repository; called only when a snapshot is to be archived (not in a dry run). */
  openArchive?: () => Promise<OpenedArchive>;
  onCopyProgress?: CopyOptions['onProgress'];
  onWarning?: (message: string) => void;
  clock?: Clock;
  signal?: AbortSignal;
}

export interface SnapshotRef {
  id: string;
  time: string;
}

export interface AssetOutcome {
  asset: string;
  tier?: number;
  keepPolicy: KeepPolicy;
  /** The policy in words: "last 7, daily 14, within 30d". */
  policy: string;
  expired: Policy['expired'];
  kept: Array<SnapshotRef & { reasons: string[] }>;
  /** Gone (or, in a dry run, going); `archivedAs` is the copy's id in the archive. */
  removed: Array<SnapshotRef & { archivedAs?: string }>;
  /** Past the policy but under Object Lock retention until `until`: left. */
  locked: Array<SnapshotRef & { until: string }>;
}

export interface ArchiveOutcome {
  repository: string;
  copied: number;
  present: number;
  check: Omit<SnapshotCheckReport, 'errors'>;
}

export interface RetentionOutcome {
  dryRun: boolean;
  from: RetentionPlan['from'];
  assets: AssetOutcome[];
  leftAlone: RetentionPlan['leftAlone'];
  /** Where `expired: archive` sends snapshots; the copy and its check when something was archived. */
  archive?: { name: string } & Partial<ArchiveOutcome>;
  /** Every asset's, as ids (the fields of the keep-last forget). */
  kept: string[];
  removed: string[];
  locked: Array<{ id: string; until: string }>;
}

export async function applyRetention(repo: Repository, options: ApplyRetentionOptions): Promise<RetentionOutcome> {
  const now = (options.clock ?? systemClock).now();
  const snapshots = await listSnapshots(repo, (id, err) => options.onWarning?.(`snapshot ${id.slice(0, 12)} cannot be read (${err.message}): left alone`));
  const plan = planWithLineage(snapshots, options, now);
  const outcome = outcomeOf(plan, !!options.dryRun);
  const going = await unlockedRemovals(repo, plan, outcome, now);
  const toArchive = [...going].filter(([, a]) => a.expired === 'archive').map(([id]) => id);
  const archivedAs = options.dryRun || toArchive.length === 0 ? new Map<string, string>() : await archive(repo, toArchive, plan, outcome, options);

  const byId = new Map(snapshots.map((s) => [s.id, s]));
  throwIfAborted(options.signal); // the last safe point: what was archived stays archived
  const removed = options.dryRun
    ? [...going.keys()]
    : await forgetPlanned(repo, [...going.keys()], byId, going, options).catch((err) => {
        if (archivedAs.size === 0) throw err;
        throw new LifeboatError(codeOf(err), `${archivedAs.size} snapshot(s) were archived to "${plan.archive}" and checked there, but forgetting them in ${repo.storage.location} failed: ${(err as Error).message}. Run forget again: the archived copies are found there and not copied again`, { cause: err });
      });
  for (const id of removed) {
    going.get(id)!.removed.push({ ...ref(byId.get(id)!), ...(archivedAs.has(id) ? { archivedAs: archivedAs.get(id) } : {}) });
  }
  outcome.removed = removed;
  outcome.locked = outcome.assets.flatMap((a) => a.locked.map(({ id, until }) => ({ id, until })));
  return outcome;
}

/**
 * The plan, with every dataset version a kept snapshot references kept too, whatever its own policy
 * says (lineage.ts): plan, see what stays, protect what that references (transitively), plan again.
 */
function planWithLineage(snapshots: readonly StoredSnapshot[], options: ApplyRetentionOptions, now: number): RetentionPlan {
  const first = planRetention(snapshots, options.source, options.scope ?? {}, now, options.protect);
  const going = new Set(first.assets.flatMap((a) => a.decisions.filter((d) => !d.keep).map((d) => d.snapshot.id)));
  const lineage = protectedByLineage(snapshots, snapshots.filter((s) => !going.has(s.id)).map((s) => s.id));
  if (![...lineage.keys()].some((id) => going.has(id))) return first;
  const protect = new Map([...lineage, ...(options.protect ?? [])]);
  return planRetention(snapshots, options.source, options.scope ?? {}, now, protect);
}

/** What the plan removes, by id with its asset's outcome; snapshots under Object Lock retention go to `locked` instead. */
async function unlockedRemovals(repo: Repository, plan: RetentionPlan, outcome: RetentionOutcome, now: number): Promise<Map<string, AssetOutcome>> {
  const going = new Map<string, AssetOutcome>();
  for (const a of plan.assets) {
    const out = outcome.assets.find((o) => o.asset === a.asset)!;
    for (const d of a.decisions.filter((x) => !x.keep)) {
      const until = await lockedUntil(repo, objectKey('snapshot', d.snapshot.id), new Date(now));
      if (until) out.locked.push({ ...ref(d.snapshot), until: until.toISOString() });
      else going.set(d.snapshot.id, out);
    }
  }
  return going;
}

function outcomeOf(plan: RetentionPlan, dryRun: boolean): RetentionOutcome {
  const assets = plan.assets.map((a): AssetOutcome => ({
    asset: a.asset,
    ...(a.tier === undefined ? {} : { tier: a.tier }),
    keepPolicy: a.keepPolicy,
    policy: describeKeepPolicy(a.keepPolicy),
    expired: a.expired,
    kept: a.decisions.filter((d) => d.keep).map((d) => ({ ...ref(d.snapshot), reasons: d.reasons })),
    removed: [],
    locked: [],
  }));
  return {
    dryRun,
    from: plan.from,
    assets,
    leftAlone: plan.leftAlone,
    ...(plan.archive ? { archive: { name: plan.archive } } : {}),
    kept: assets.flatMap((a) => a.kept.map((k) => k.id)),
    removed: [],
    locked: [],
  };
}

/** Copies `ids` to the archive and checks the copies; throws (nothing forgotten yet) when either fails. Returns source id → archive id. */
async function archive(repo: Repository, ids: string[], plan: RetentionPlan, outcome: RetentionOutcome, options: ApplyRetentionOptions): Promise<Map<string, string>> {
  const name = plan.archive!;
  const failed = (what: string, err: unknown) =>
    new LifeboatError(codeOf(err), `archiving ${ids.length} snapshot(s) to "${name}" failed (${what}: ${(err as Error).message}); nothing was forgotten in ${repo.storage.location}`, { cause: err });
  if (!options.openArchive) throw new LifeboatError('CONFIG', `${ids.length} snapshot(s) are to be archived to "${name}", but no way to open it was given; nothing was forgotten`);
  const opened = await options.openArchive().catch((err) => Promise.reject(failed('opening it', err)));
  try {
    const copied = await copy(repo, opened.repo, { ids, onProgress: options.onCopyProgress, onWarning: options.onWarning }).catch((err) => Promise.reject(failed('copy', err)));
    const mapping = new Map(copied.snapshots.map((s) => [s.sourceId, s.destinationId]));
    const lost = ids.filter((id) => !mapping.has(id));
    if (lost.length > 0) throw new IntegrityError(`archiving to "${name}" left out snapshot ${lost[0].slice(0, 12)}${lost.length > 1 ? ` and ${lost.length - 1} more` : ''} (unreadable here?); nothing was forgotten in ${repo.storage.location}: run "lifeboat check"`);
    const { errors, ...check } = await checkSnapshots(opened.repo, [...mapping.values()], { signal: options.signal });
    if (errors.length > 0 || check.snapshots !== mapping.size) {
      throw new IntegrityError(`the check of the ${mapping.size} snapshot(s) copied to archive "${name}" failed: ${errors.slice(0, 3).join('; ')}${errors.length > 3 ? ` (and ${errors.length - 3} more)` : ''}; nothing was forgotten in ${repo.storage.location}. Run "lifeboat check --read-data -r ${name}"`);
    }
    outcome.archive = { name, repository: opened.repo.storage.location, copied: copied.copied, present: copied.present, check };
    return mapping;
  } finally {
    await opened.close();
  }
}

/** Removes the planned snapshots; those that became locked meanwhile join their asset's `locked`. */
async function forgetPlanned(repo: Repository, ids: string[], byId: ReadonlyMap<string, StoredSnapshot>, going: ReadonlyMap<string, AssetOutcome>, options: ApplyRetentionOptions): Promise<string[]> {
  if (ids.length === 0) return [];
  const result = await forgetSnapshots(repo, ids, { clock: options.clock });
  for (const l of result.locked) going.get(l.id)!.locked.push({ ...ref(byId.get(l.id)!), until: l.until });
  for (const id of result.missing) options.onWarning?.(`snapshot ${id.slice(0, 12)} was gone already (another forget?)`);
  return result.removed;
}

function ref(s: StoredSnapshot): SnapshotRef {
  return { id: s.id, time: s.snapshot.time };
}
