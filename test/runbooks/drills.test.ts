/** pickDrill, latestDrill and drillHistory: pure functions of the assets, the report history, a seed and the time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drillCandidates, drillHistory, latestDrill, pickDrill } from '../../src/control/drills.js';
import { parseConfigText } from '../../src/control/config-file.js';
import { planOf } from '../../src/control/plan.js';
import type { Report, Verdict } from '../../src/control/reports.js';

const DAY = 86_400_000;
const NOW = Date.parse('2025-06-01T00:00:00Z');

const plan = planOf(
  parseConfigText(
    `
repositories:
  primary: { url: /srv/lifeboat, role: primary }
assets:
  fresh:   { kind: model, tier: 1, source: { path: /m/fresh } }
  stale:   { kind: model, tier: 1, source: { path: /m/stale } }
  never:   { kind: model, tier: 1, source: { path: /m/never } }
  config:  { kind: config, tier: 2, source: { path: /m/config } }
  charts:  { kind: code, tier: 3, git_remote: https://git.internal/charts.git }
`,
    '/etc/lifeboat/lifeboat.yaml',
  ),
);

function report(asset: string, startedMs: number, verdict: Verdict = 'met', total = 60, mode: 'drill' | 'recovery' = 'drill'): Report {
  const at = new Date(startedMs).toISOString();
  return {
    version: 1, id: `${at}-${asset}`, revision: 1, asset, tier: 1, runbook: 'r', snapshot: 'abc', mode, started_at: at, finished_at: at,
    total_seconds: total, rto_seconds: 600, verdict, steps: verdict === 'failed' ? [{ name: 'verify', kind: 'verify', status: 'failed', started_at: at, seconds: 1, attempts: 1, output_tail: '', error: 'x', on_failure: 'stop' }] : [],
    preflight: [], preflight_seconds: 0, restore_dir: null, host: 'h', error: verdict === 'failed' ? 'step verify failed' : null, resumed_at: [], program: 'lifeboat test',
  };
}

const history = [report('fresh', NOW - 1 * DAY), report('stale', NOW - 400 * DAY), report('fresh', NOW - 200 * DAY)];

test('candidates: Tier 1 by default, a tier or one asset on request, never Tier 3', () => {
  assert.deepEqual(drillCandidates(plan.assets).map((a) => a.name), ['fresh', 'stale', 'never']);
  assert.deepEqual(drillCandidates(plan.assets, { tier: 2 }).map((a) => a.name), ['config']);
  assert.deepEqual(drillCandidates(plan.assets, { asset: 'charts' }), []);
});

test('the same inputs and seed pick the same asset; the weights say why', () => {
  const tier1 = drillCandidates(plan.assets);
  const pick = pickDrill(tier1, history, 7, NOW)!;
  assert.deepEqual(pickDrill([...tier1].reverse(), [...history].reverse(), 7, NOW), pick, 'independent of input order');
  assert.deepEqual(
    pick.weights.map((w) => [w.asset, Math.round(w.weight * 100) / 100, w.last_drill_at]),
    [
      ['fresh', 1.01, new Date(NOW - DAY).toISOString()],
      ['never', 4, null],
      ['stale', 4, new Date(NOW - 400 * DAY).toISOString()],
    ],
  );
  assert.equal(pickDrill([], history, 7, NOW), undefined);
});

test('over many seeds, the least recently drilled are picked about four times as often as one drilled yesterday', () => {
  const counts = new Map<string, number>();
  for (let seed = 0; seed < 9000; seed++) {
    const { asset } = pickDrill(drillCandidates(plan.assets), history, seed, NOW)!;
    counts.set(asset, (counts.get(asset) ?? 0) + 1);
  }
  const fresh = counts.get('fresh')!;
  assert.ok(fresh > 800 && fresh < 1300, `fresh picked ${fresh} times of 9000 (expected about 1000)`);
  for (const name of ['never', 'stale']) assert.ok(Math.abs(counts.get(name)! / fresh - 4) < 1, `${name}: ${counts.get(name)} against ${fresh}`);
});

test("an asset's last drill, for status: measured against target, and the step that failed", () => {
  const reports = [report('fresh', NOW - 3 * DAY, 'met', 42), report('fresh', NOW - DAY, 'failed', 5), report('fresh', NOW, 'met', 1, 'recovery')];
  assert.deepEqual(latestDrill(reports, 'fresh'), { id: reports[1].id, at: reports[1].finished_at, verdict: 'failed', measured_seconds: 5, target_seconds: 600, failed_step: 'verify' });
  assert.equal(latestDrill(reports, 'never'), undefined);
});

test('history: each asset oldest first, the trend of the last measured drill against the median before it', () => {
  const reports = [
    report('fresh', NOW - 4 * DAY, 'met', 100),
    report('fresh', NOW - 3 * DAY, 'met', 120),
    report('fresh', NOW - 2 * DAY, 'failed', 3),
    report('fresh', NOW - DAY, 'missed', 180),
    report('stale', NOW - DAY, 'met', 60),
    report('stale', NOW, 'met', 63),
  ];
  const h = drillHistory([...reports].reverse());
  assert.deepEqual(h.map((a) => [a.asset, a.runs.map((r) => r.total_seconds), a.trend, a.change_percent]), [
    ['fresh', [100, 120, 3, 180], 'slower', 63.6],
    ['stale', [60, 63], 'steady', 5],
  ]);
  assert.deepEqual(drillHistory(reports, 'stale').map((a) => a.asset), ['stale']);
  assert.deepEqual(h[0].runs[2], { id: reports[2].id, started_at: reports[2].started_at, total_seconds: 3, rto_seconds: 600, verdict: 'failed', failed_step: 'verify' }, 'a failed run names the step that stopped it');
  assert.equal(h[0].runs[3].failed_step, null);
  assert.equal(h[0].tier, 1);
});
