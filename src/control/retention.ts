/**
 * Retention selection: which snapshots of each asset a keep policy keeps, and why. A pure
 * function of the snapshots, the policy and `now`, with the semantics of restic's
 * `forget --keep-*` (doc/060_forget.rst in restic/restic), grouped by asset instead of by host
 * and paths:
 *
 * - Snapshots are taken newest first. `last N` keeps the newest N. `hourly/daily/weekly/monthly/
 *   yearly N` keep, for the newest N hours (days, ISO weeks, months, years) that HAVE snapshots,
 *   the newest snapshot of each: empty periods are not counted. Periods are calendar periods in
 *   UTC (Lifeboat stores every time in UTC): a day is 00:00:00.000 to 23:59:59.999, a week runs
 *   Monday to Sunday and belongs to its ISO year (2020-12-31 is in 2020-W53, 2021-01-03 too).
 * - When a calendar rule still has periods left after the last snapshot, the oldest snapshot is
 *   kept as well ("oldest daily"), as restic 0.17 does: it stretches the history kept.
 * - `within D` keeps every snapshot whose time is strictly after (newest − D), where newest is the
 *   newest snapshot that is not in the future of `now` — measured from the newest snapshot, not
 *   from now, so a site that stopped backing up does not lose its history to the calendar.
 *   Snapshots from the future (a host with a skewed clock) are therefore kept by `within`.
 * - The rules are OR'ed: a snapshot is kept when any rule keeps it; every reason is listed.
 * - An empty policy (no rule with a count above 0 and no `within`) keeps everything ("policy is
 *   empty"), as restic's does: forgetting every snapshot of an asset is never a policy. Any other
 *   policy keeps at least the newest snapshot of each asset.
 * - `protect` (snapshot id → reason, e.g. a model's lineage pins its dataset snapshot) keeps a
 *   snapshot whatever the policy says; it does not use up any rule's count.
 */
import { formatDuration } from '../base/duration.js';
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { KeepPolicy } from './policy.js';

export interface RetentionDecision {
  snapshot: StoredSnapshot;
  keep: boolean;
  /** Why it is kept, e.g. ["last 1 of 3", "daily 2024-11-02", "within 30d"]; empty when it goes. */
  reasons: string[];
}

export interface AssetRetention {
  asset: string;
  /** Every snapshot of the asset, newest first. */
  decisions: RetentionDecision[];
}

/** Snapshot id → why it must be kept whatever the policy says. */
export type ProtectedSnapshots = ReadonlyMap<string, string>;

type CountKey = 'last' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

/** The count rules in restic's order, each with its period (`last`: every snapshot is its own). */
const RULES: ReadonlyArray<{ key: CountKey; period: (t: Date, nr: number) => string }> = [
  { key: 'last', period: (_t, nr) => String(nr) },
  { key: 'hourly', period: (t) => `${day(t)}T${pad(t.getUTCHours())}` },
  { key: 'daily', period: day },
  { key: 'weekly', period: isoWeek },
  { key: 'monthly', period: (t) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}` },
  { key: 'yearly', period: (t) => String(t.getUTCFullYear()) },
];

export function isEmptyPolicy(policy: KeepPolicy): boolean {
  return RULES.every((r) => !((policy[r.key] ?? 0) > 0)) && !((policy.withinMs ?? 0) > 0);
}

/** "last 7, daily 14, within 30d"; "nothing (keep all)" for an empty policy. */
export function describeKeepPolicy(policy: KeepPolicy): string {
  const parts = RULES.filter((r) => (policy[r.key] ?? 0) > 0).map((r) => `${r.key} ${policy[r.key]}`);
  if ((policy.withinMs ?? 0) > 0) parts.push(`within ${formatDuration(policy.withinMs!)}`);
  return parts.length > 0 ? parts.join(', ') : 'nothing (an empty policy keeps every snapshot)';
}

/** Per asset (sorted by name), every snapshot with keep or remove and the reasons it is kept. */
export function selectRetention(snapshots: readonly StoredSnapshot[], policy: KeepPolicy, now: number, protect: ProtectedSnapshots = new Map()): AssetRetention[] {
  const byAsset = new Map<string, StoredSnapshot[]>();
  for (const s of snapshots) {
    const group = byAsset.get(s.snapshot.asset);
    if (group) group.push(s);
    else byAsset.set(s.snapshot.asset, [s]);
  }
  return [...byAsset.keys()].sort().map((asset) => ({ asset, decisions: selectGroup(byAsset.get(asset)!, policy, now, protect) }));
}

function selectGroup(group: readonly StoredSnapshot[], policy: KeepPolicy, now: number, protect: ProtectedSnapshots): RetentionDecision[] {
  const timed = group.map((snapshot) => ({ snapshot, ms: Date.parse(snapshot.snapshot.time) }));
  // Newest first; of two at the same time, the one listSnapshots puts last (the larger id) is the newer.
  timed.sort((a, b) => b.ms - a.ms || (a.snapshot.id < b.snapshot.id ? 1 : -1));
  const reasons = timed.map(() => [] as string[]);
  if (isEmptyPolicy(policy)) reasons.forEach((r) => r.push('policy is empty'));
  else applyRules(timed, policy, now, reasons);
  return timed.map(({ snapshot, ms }, i) => {
    if (Number.isNaN(ms)) reasons[i].push('its time cannot be read');
    const pinned = protect.get(snapshot.id);
    if (pinned !== undefined) reasons[i].push(`protected: ${pinned}`);
    return { snapshot, keep: reasons[i].length > 0, reasons: reasons[i] };
  });
}

function applyRules(timed: ReadonlyArray<{ ms: number }>, policy: KeepPolicy, now: number, reasons: string[][]): void {
  const within = policy.withinMs ?? 0;
  if (within > 0) {
    const newest = timed.reduce((max, t) => (t.ms <= now && t.ms > max ? t.ms : max), -Infinity);
    const cutoff = newest - within;
    timed.forEach((t, i) => t.ms > cutoff && reasons[i].push(`within ${formatDuration(within)}`));
  }
  for (const rule of RULES) {
    const count = policy[rule.key] ?? 0;
    let left = count;
    let previous: string | undefined;
    timed.forEach((t, nr) => {
      if (left <= 0 || Number.isNaN(t.ms)) return;
      const period = rule.period(new Date(t.ms), nr);
      if (period !== previous) {
        reasons[nr].push(rule.key === 'last' ? `last ${count - left + 1} of ${count}` : `${rule.key} ${period}`);
        previous = period;
        left--;
      } else if (nr === timed.length - 1) {
        reasons[nr].push(`oldest ${rule.key}`);
      }
    });
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function day(t: Date): string {
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** ISO 8601 week "2020-W53": weeks start on Monday; a week belongs to the year of its Thursday. */
export function isoWeek(t: Date): string {
  const midnight = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate());
  const weekday = (t.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(midnight + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${pad(week)}`;
}
