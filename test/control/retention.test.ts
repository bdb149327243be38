/**
 * Retention selection against restic's documented semantics of `forget --keep-*`
 * (doc/060_forget.rst): a table of timestamps → the set kept, at the boundaries of hours, days,
 * ISO weeks, months and years; `within` measured from the newest snapshot; rules OR'ed; an empty
 * policy keeps everything; per asset; protected snapshots kept with their reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredSnapshot } from '../../src/engine/snapshots.js';
import type { KeepPolicy } from '../../src/control/policy.js';
import { describeKeepPolicy, isoWeek, selectRetention } from '../../src/control/retention.js';

const DAY = 86_400_000;
const NOW = Date.parse('2030-01-01T00:00:00Z');

const snap = (time: string, asset = 'm'): StoredSnapshot => ({ id: `${asset}@${time}`, snapshot: { asset, time } as StoredSnapshot['snapshot'] });

/** The times kept for one asset, newest first. */
function kept(times: string[], policy: KeepPolicy, now = NOW): string[] {
  const [only] = selectRetention(times.map((t) => snap(t)), policy, now);
  return only.decisions.filter((d) => d.keep).map((d) => d.snapshot.snapshot.time);
}

function reasonsOf(times: string[], policy: KeepPolicy, now = NOW): Record<string, string[]> {
  const [only] = selectRetention(times.map((t) => snap(t)), policy, now);
  return Object.fromEntries(only.decisions.map((d) => [d.snapshot.snapshot.time, d.reasons]));
}

const cases: Array<{ name: string; times: string[]; policy: KeepPolicy; keep: string[]; now?: number }> = [
  {
    name: 'last 3 of 5: the newest three, whatever the calendar',
    times: ['2024-11-01T10:00:00Z', '2024-11-01T10:00:01Z', '2024-11-01T10:00:02Z', '2024-11-03T00:00:00Z', '2024-11-09T00:00:00Z'],
    policy: { last: 3 },
    keep: ['2024-11-09T00:00:00Z', '2024-11-03T00:00:00Z', '2024-11-01T10:00:02Z'],
  },
  {
    name: 'restic\'s example: one backup every Sunday for 12 weeks, daily 4 keeps the last four Sundays (only days with snapshots count)',
    times: ['2019-09-01', '2019-09-08', '2019-09-15', '2019-09-22', '2019-09-29', '2019-10-06', '2019-10-13', '2019-10-20', '2019-10-27', '2019-11-03', '2019-11-10', '2019-11-17'].map((d) => `${d}T11:00:00Z`),
    policy: { daily: 4 },
    keep: ['2019-11-17T11:00:00Z', '2019-11-10T11:00:00Z', '2019-11-03T11:00:00Z', '2019-10-27T11:00:00Z'],
  },
  {
    name: 'midnight: 23:59:59.999 and 00:00:00.000 are different days; two in one day keep the newer',
    times: ['2024-11-01T23:59:59.999Z', '2024-11-02T00:00:00.000Z', '2024-11-02T12:00:00Z'],
    policy: { daily: 2 },
    keep: ['2024-11-02T12:00:00Z', '2024-11-01T23:59:59.999Z'],
  },
  {
    name: 'two snapshots in one hour: the newer; :59:59.999 and :00 are different hours',
    times: ['2024-11-02T10:00:00Z', '2024-11-02T10:59:59.999Z', '2024-11-02T11:00:00Z', '2024-11-02T11:30:00Z'],
    policy: { hourly: 2 },
    keep: ['2024-11-02T11:30:00Z', '2024-11-02T10:59:59.999Z'],
  },
  {
    name: 'ISO weeks: Thursday 2020-12-31 and Sunday 2021-01-03 are both 2020-W53; Monday 2021-01-04 starts 2021-W01',
    times: ['2020-12-27T12:00:00Z', '2020-12-28T00:00:00Z', '2020-12-31T12:00:00Z', '2021-01-03T23:59:59Z', '2021-01-04T00:00:00Z'],
    policy: { weekly: 3 },
    keep: ['2021-01-04T00:00:00Z', '2021-01-03T23:59:59Z', '2020-12-27T12:00:00Z'],
  },
  {
    name: 'ISO week 52 → week 1 across a year: Sunday 2019-12-29 is 2019-W52, Monday 2019-12-30 already 2020-W01',
    times: ['2019-12-23T08:00:00Z', '2019-12-29T08:00:00Z', '2019-12-30T08:00:00Z', '2020-01-05T08:00:00Z'],
    policy: { weekly: 2 },
    keep: ['2020-01-05T08:00:00Z', '2019-12-29T08:00:00Z'],
  },
  {
    name: 'month ends and the leap day: 2024-02-29 23:59:59 is February, 2024-03-01 00:00 March',
    times: ['2024-01-31T23:59:59Z', '2024-02-01T00:00:00Z', '2024-02-29T23:59:59Z', '2024-03-01T00:00:00Z'],
    policy: { monthly: 2 },
    keep: ['2024-03-01T00:00:00Z', '2024-02-29T23:59:59Z'],
  },
  {
    name: 'the leap day is a day of its own',
    times: ['2024-02-28T12:00:00Z', '2024-02-29T00:00:00Z', '2024-02-29T18:00:00Z', '2024-03-01T06:00:00Z'],
    policy: { daily: 3 },
    keep: ['2024-03-01T06:00:00Z', '2024-02-29T18:00:00Z', '2024-02-28T12:00:00Z'],
  },
  {
    name: 'new year: 2023-12-31 23:59:59.999 is 2023, 2024-01-01 00:00 is 2024',
    times: ['2023-12-31T23:59:59.999Z', '2024-01-01T00:00:00Z', '2024-06-01T00:00:00Z'],
    policy: { yearly: 2 },
    keep: ['2024-06-01T00:00:00Z', '2023-12-31T23:59:59.999Z'],
  },
  {
    name: 'a rule with periods left keeps the oldest snapshot too, even in a period already kept (restic 0.17)',
    times: ['2024-11-02T00:00:00Z', '2024-11-02T06:00:00Z', '2024-11-02T12:00:00Z'],
    policy: { daily: 5 },
    keep: ['2024-11-02T12:00:00Z', '2024-11-02T00:00:00Z'],
  },
  {
    name: 'within 7d of the newest: exactly at the boundary goes, a millisecond later stays',
    times: ['2024-11-02T23:59:59.999Z', '2024-11-03T00:00:00.000Z', '2024-11-03T00:00:00.001Z', '2024-11-10T00:00:00Z'],
    policy: { withinMs: 7 * DAY },
    keep: ['2024-11-10T00:00:00Z', '2024-11-03T00:00:00.001Z'],
  },
  {
    name: 'within is measured from the newest snapshot, not from now: years later nothing more goes',
    times: ['2020-01-01T00:00:00Z', '2020-01-20T00:00:00Z', '2020-01-30T00:00:00Z'],
    policy: { withinMs: 15 * DAY },
    keep: ['2020-01-30T00:00:00Z', '2020-01-20T00:00:00Z'],
  },
  {
    name: 'a snapshot from the future (skewed clock) is kept by within, and the window is measured from the newest one that is not',
    times: ['2024-11-03T00:00:00Z', '2024-11-05T00:00:00Z', '2024-11-10T00:00:00Z', '2024-11-20T00:00:00Z'],
    policy: { withinMs: 6 * DAY },
    now: Date.parse('2024-11-10T12:00:00Z'),
    keep: ['2024-11-20T00:00:00Z', '2024-11-10T00:00:00Z', '2024-11-05T00:00:00Z'],
  },
  {
    name: 'rules are OR\'ed: last 1, daily 2 and weekly 2 together',
    times: ['2024-10-20T10:00:00Z', '2024-10-27T10:00:00Z', '2024-10-28T10:00:00Z', '2024-11-02T09:00:00Z', '2024-11-02T10:00:00Z', '2024-11-03T10:00:00Z', '2024-11-03T11:00:00Z'],
    policy: { last: 1, daily: 2, weekly: 2 },
    // daily: 11-03 11:00, 11-02 10:00; weekly (W44 = 10-28..11-03): 11-03 11:00, W43: 10-27.
    keep: ['2024-11-03T11:00:00Z', '2024-11-02T10:00:00Z', '2024-10-27T10:00:00Z'],
  },
  {
    name: 'an empty policy keeps every snapshot',
    times: ['2024-11-01T00:00:00Z', '2024-11-02T00:00:00Z'],
    policy: { last: 0, daily: 0 },
    keep: ['2024-11-02T00:00:00Z', '2024-11-01T00:00:00Z'],
  },
];

for (const c of cases) {
  test(`selectRetention: ${c.name}`, () => {
    assert.deepEqual(kept(c.times, c.policy, c.now), c.keep);
  });
}

test('isoWeek at the year boundaries (weeks 1, 52, 53)', () => {
  const table: Array<[string, string]> = [
    ['2019-12-29T23:59:59Z', '2019-W52'],
    ['2019-12-30T00:00:00Z', '2020-W01'],
    ['2020-12-31T00:00:00Z', '2020-W53'],
    ['2021-01-03T23:59:59Z', '2020-W53'],
    ['2021-01-04T00:00:00Z', '2021-W01'],
    ['2024-12-29T12:00:00Z', '2024-W52'],
    ['2024-12-30T00:00:00Z', '2025-W01'],
    ['2026-12-31T00:00:00Z', '2026-W53'],
    ['2027-01-03T00:00:00Z', '2026-W53'],
    ['2027-01-04T00:00:00Z', '2027-W01'],
    ['2024-02-29T00:00:00Z', '2024-W09'],
  ];
  for (const [time, week] of table) assert.equal(isoWeek(new Date(time)), week, time);
});

test('every reason a snapshot is kept is listed, with its period', () => {
  const times = ['2024-10-31T10:00:00Z', '2024-11-02T09:00:00Z', '2024-11-02T10:00:00Z'];
  const reasons = reasonsOf(times, { last: 2, hourly: 1, daily: 2, weekly: 1, monthly: 2, yearly: 1, withinMs: DAY });
  assert.deepEqual(reasons['2024-11-02T10:00:00Z'], ['within 1d', 'last 1 of 2', 'hourly 2024-11-02T10', 'daily 2024-11-02', 'weekly 2024-W44', 'monthly 2024-11', 'yearly 2024']);
  assert.deepEqual(reasons['2024-11-02T09:00:00Z'], ['within 1d', 'last 2 of 2']);
  assert.deepEqual(reasons['2024-10-31T10:00:00Z'], ['daily 2024-10-31', 'monthly 2024-10']);
  assert.deepEqual(reasonsOf(['2024-11-02T00:00:00Z', '2024-11-02T12:00:00Z'], { daily: 3 })['2024-11-02T00:00:00Z'], ['oldest daily']);
  assert.deepEqual(reasonsOf(['2024-11-02T00:00:00Z'], {})['2024-11-02T00:00:00Z'], ['policy is empty']);
});

test('restic\'s example: daily for 100 years with daily 7, weekly 5, monthly 12, yearly 75', () => {
  // Ending on Sunday 2025-11-30, the last day of a month, as restic's arithmetic assumes.
  const end = Date.parse('2025-11-30T03:00:00Z');
  const times = Array.from({ length: 36_525 }, (_, i) => new Date(end - (36_524 - i) * DAY).toISOString());
  const [only] = selectRetention(times.map((t) => snap(t)), { daily: 7, weekly: 5, monthly: 12, yearly: 75 }, NOW);
  const keptOnes = only.decisions.filter((d) => d.keep);
  const by = (rule: string) => new Set(keptOnes.filter((d) => d.reasons.some((r) => r.startsWith(rule))).map((d) => d.snapshot.snapshot.time));
  const [daily, weekly, monthly, yearly] = ['daily', 'weekly', 'monthly', 'yearly'].map(by);
  assert.deepEqual([daily.size, weekly.size, monthly.size, yearly.size], [7, 5, 12, 75]);
  const extra = (rule: Set<string>, ...before: Array<Set<string>>) => [...rule].filter((t) => !before.some((b) => b.has(t))).length;
  // "the most recent 7 daily snapshots and 4 last-day-of-the-week ones (since the 7 dailies already include 1 weekly)"
  assert.deepEqual([...daily], times.slice(-7).reverse());
  assert.equal(extra(weekly, daily), 4);
  // "12 or 11" monthly and "75 or 74" yearly, depending on what is kept already: here the newest is
  // the month's and the year's too, and 2024-12-31 is both a monthly and a yearly.
  assert.equal(extra(monthly, daily, weekly), 11);
  assert.equal(extra(yearly, daily, weekly, monthly), 73);
  assert.equal(keptOnes.length, 7 + 4 + 11 + 73);
  for (const t of yearly) if (t !== times.at(-1)) assert.match(t, /-12-31T/, 'a past year is kept by its last day');
});

test('each asset is its own group, with its own counts', () => {
  const all = [snap('2024-11-01T00:00:00Z', 'a'), snap('2024-11-02T00:00:00Z', 'a'), snap('2024-11-01T00:00:00Z', 'b'), snap('2024-11-03T00:00:00Z', 'b')];
  const result = selectRetention(all, { last: 1 }, NOW);
  assert.deepEqual(result.map((r) => [r.asset, r.decisions.filter((d) => d.keep).map((d) => d.snapshot.id)]), [['a', ['a@2024-11-02T00:00:00Z']], ['b', ['b@2024-11-03T00:00:00Z']]]);
});

test('a protected snapshot is kept whatever the policy says, with its reason, and uses up no count', () => {
  const times = ['2024-11-01T00:00:00Z', '2024-11-02T00:00:00Z', '2024-11-03T00:00:00Z'];
  const protect = new Map([['m@2024-11-01T00:00:00Z', 'dataset of llama-ft@3f2a1b4c']]);
  const [only] = selectRetention(times.map((t) => snap(t)), { last: 2 }, NOW, protect);
  assert.deepEqual(
    only.decisions.map((d) => [d.snapshot.snapshot.time, d.keep, d.reasons]),
    [
      ['2024-11-03T00:00:00Z', true, ['last 1 of 2']],
      ['2024-11-02T00:00:00Z', true, ['last 2 of 2']],
      ['2024-11-01T00:00:00Z', true, ['protected: dataset of llama-ft@3f2a1b4c']],
    ],
  );
});

/** A small deterministic generator, so a failure names its seed. */
function random(seed: number): () => number {
  return () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

test('for random snapshots and policies: the kept set is the union of each rule\'s, and always holds the newest snapshot', () => {
  const rules: Array<keyof KeepPolicy> = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly', 'withinMs'];
  for (let seed = 1; seed <= 300; seed++) {
    const next = random(seed);
    const base = Date.parse('2023-06-01T00:00:00Z');
    const times = Array.from({ length: 1 + Math.floor(next() * 40) }, () => new Date(base + Math.floor(next() * 400 * DAY)).toISOString());
    const policy: KeepPolicy = {};
    for (const r of rules) if (next() < 0.4) policy[r] = r === 'withinMs' ? Math.floor(next() * 60 * DAY) : Math.floor(next() * 6);
    const all = kept(times, policy);
    const single = rules.filter((r) => (policy[r] ?? 0) > 0).flatMap((r) => kept(times, { [r]: policy[r] }));
    if (single.length === 0) continue; // an empty policy keeps everything (tested above)
    assert.deepEqual(new Set(all), new Set(single), `seed ${seed}`);
    assert.ok(all.includes(times.reduce((a, b) => (a > b ? a : b))), `seed ${seed}: the newest is kept`);
  }
});

test('describeKeepPolicy says the policy in lifeboat.yaml\'s words', () => {
  assert.equal(describeKeepPolicy({ last: 7, daily: 14, weekly: 0, withinMs: 30 * DAY }), 'last 7, daily 14, within 30d');
  assert.match(describeKeepPolicy({}), /empty policy keeps every snapshot/);
});
