/**
 * Alerts: one per change of state (into trouble and out of it), a reminder while it lasts, no
 * storm; the body Slack and Mattermost take as it is (`text`) plus fields for machines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertBody, conditionsOf, evaluateAlerts, type AlertState } from '../../src/control/alerts.js';
import { parseConfigText } from '../../src/control/config-file.js';
import type { JobRecord } from '../../src/control/jobs.js';
import { planOf } from '../../src/control/plan.js';
import type { RpoState } from '../../src/control/rpo.js';

const HOOK = 'https://chat.internal/hooks/dr';
const PLAN = planOf(
  parseConfigText(
    `
repositories:
  primary: { url: /srv/backup, role: primary }
tiers:
  1: { alerts: { webhooks: ["${HOOK}"], remind_every: 6h } }
assets:
  m: { kind: model, tier: 1, source: { path: /srv/m } }
  quiet: { kind: config, tier: 2, source: { path: /srv/q } }
`,
    '/etc/lifeboat/lifeboat.yaml',
  ),
);
const HOUR = 3_600_000;

function step(state: AlertState, rpo: RpoState, now: number, jobs: JobRecord[] = []) {
  return evaluateAlerts(conditionsOf(PLAN.assets, new Map([['m', rpo], ['quiet', 'ok']]), jobs), state, now, [HOOK]);
}

test('one alert when the RPO goes at risk, one when violated, none while it stays, a reminder after remind_every, one when it recovers', () => {
  let s: AlertState = {};
  let r = step(s, 'ok', 0);
  assert.deepEqual(r.alerts, [], 'ok from the start: nothing to say');
  r = step((s = r.state), 'at_risk', HOUR);
  assert.deepEqual(r.alerts.map((a) => [a.event, a.severity, a.previous]), [['rpo_at_risk', 'warning', 'ok']]);
  r = step((s = r.state), 'at_risk', 2 * HOUR);
  assert.deepEqual(r.alerts, [], 'no repeat');
  r = step((s = r.state), 'violated', 3 * HOUR);
  assert.deepEqual(r.alerts.map((a) => [a.event, a.severity]), [['rpo_violated', 'critical']]);
  r = step((s = r.state), 'violated', 8 * HOUR);
  assert.deepEqual(r.alerts, [], 'within remind_every');
  r = step((s = r.state), 'violated', 9 * HOUR);
  assert.deepEqual(r.alerts.map((a) => [a.event, a.reminder]), [['rpo_violated', true]]);
  r = step((s = r.state), 'ok', 10 * HOUR);
  assert.deepEqual(r.alerts.map((a) => [a.event, a.severity, a.previous]), [['rpo_ok', 'info', 'violated']]);
  assert.deepEqual(r.alerts[0].webhooks, [HOOK]);
});

test('an asset with no webhooks raises none, and its state is still kept (no burst when webhooks are added later)', () => {
  const r = evaluateAlerts(conditionsOf(PLAN.assets, new Map([['m', 'ok'], ['quiet', 'violated']]), []), {}, 0, [HOOK]);
  assert.deepEqual(r.alerts, []);
  assert.equal(r.state['rpo:quiet'].state, 'violated');
});

test('a failed backup and a failed verification alert once each, with the reason', () => {
  const failed: JobRecord = { version: 1, job: 'j', kind: 'backup', asset: 'm', host: 'gpu-01', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:01:00Z', result: 'failed', error: { code: 'SOURCE', message: 'pg_dump: connection refused' }, details: {} };
  const verify: JobRecord = { ...failed, job: 'v', kind: 'verify', asset: undefined, error: { code: 'DAMAGE_FOUND', message: 'blob 3f2a in pack 9c1e: damaged' } };
  const r = step({}, 'ok', 0, [failed, verify]);
  assert.deepEqual(r.alerts.map((a) => a.event).sort(), ['backup_failed', 'verification_failed']);
  const body = alertBody(r.alerts.find((a) => a.event === 'backup_failed')!, 'gpu-01', 0);
  assert.match(body.text, /Lifeboat: m: backup failed on gpu-01: pg_dump: connection refused/);
  assert.equal(body.source, 'lifeboat');
  assert.equal(body.asset, 'm');
  assert.equal(body.tier, 1);
  assert.deepEqual(step(r.state, 'ok', 60_000, [failed, verify]).alerts, [], 'the same failure is not sent again');
});
