/** The pure decisions: upstream health transitions, route planning, priority switching, retry budget. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupConfig, UpstreamConfig } from '../../src/gateway/config.js';
import { createRetryBudget } from '../../src/gateway/retry-budget.js';
import { initialOrder, planCandidates, routeLabels, switchPrimary } from '../../src/gateway/routing-table.js';
import * as st from '../../src/gateway/upstream-state.js';
import { createUpstreamPool } from '../../src/gateway/upstream-pool.js';

const policy: st.HealthPolicy = { healthyThreshold: 2, unhealthyThreshold: 3, consecutiveFailures: 2, baseEjectionMs: 1000, maxEjectionMs: 3000 };

describe('upstream health transitions', () => {
  it('turns unhealthy only after the unhealthy threshold of failed probes, healthy after the healthy threshold', () => {
    let s = st.initialState();
    s = st.onProbeFailure(s, policy, 1, 'x');
    s = st.onProbeFailure(s, policy, 2, 'x');
    assert.equal(s.healthy, true);
    s = st.onProbeFailure(s, policy, 3, 'x');
    assert.equal(s.healthy, false);
    s = st.onProbeSuccess(s, policy, 4);
    assert.equal(st.isAvailable(s, 4), false);
    s = st.onProbeSuccess(s, policy, 5);
    assert.equal(st.isAvailable(s, 5), true);
  });

  it('ejects after consecutive request failures, with a cooldown that doubles and is capped', () => {
    let s = st.initialState();
    s = st.onRequestFailure(s, policy, 10, 'e');
    assert.equal(st.isAvailable(s, 10), true, 'one failure is not enough');
    s = st.onRequestFailure(s, policy, 10, 'e');
    assert.equal(s.ejectedUntil, 1010);
    assert.equal(st.isAvailable(s, 1009), false);
    assert.equal(st.isAvailable(s, 1010), true, 'back after the cooldown');
    s = st.onRequestFailure(st.onRequestFailure(s, policy, 1100, 'e'), policy, 1100, 'e');
    assert.equal(s.ejectedUntil, 1100 + 2000, 'second ejection in a row: twice as long');
    s = st.onRequestFailure(st.onRequestFailure(s, policy, 4000, 'e'), policy, 4000, 'e');
    s = st.onRequestFailure(st.onRequestFailure(s, policy, 8000, 'e'), policy, 8000, 'e');
    assert.equal(s.ejectedUntil, 8000 + 3000, 'capped at max_ejection');
  });

  it('a success in between resets the failure count and, after the cooldown, the ejection multiplier', () => {
    let s = st.onRequestFailure(st.initialState(), policy, 1, 'e');
    s = st.onRequestSuccess(s, 2);
    s = st.onRequestFailure(s, policy, 3, 'e');
    assert.equal(st.isAvailable(s, 3), true);
    s = st.onRequestFailure(s, policy, 4, 'e');
    assert.equal(s.ejections, 1);
    s = st.onRequestSuccess(s, 2000);
    assert.equal(s.ejections, 0);
  });

  it('lifts an ejection early when probes pass the healthy threshold', () => {
    let s = st.onRequestFailure(st.onRequestFailure(st.initialState(), policy, 0, 'e'), policy, 0, 'e');
    s = st.onProbeSuccess(s, policy, 100);
    assert.equal(st.isAvailable(s, 100), false);
    s = st.onProbeSuccess(s, policy, 200);
    assert.equal(st.isAvailable(s, 200), true);
  });

  it('a drained upstream takes no traffic but keeps its health', () => {
    const s = st.setDrained(st.initialState(), true);
    assert.equal(st.isAvailable(s, 1), false);
    assert.equal(s.healthy, true);
  });
});

const up = (name: string, group: string): UpstreamConfig => ({ name, group, url: 'http://x', apiKey: undefined, maxConnections: 1, probe: { endpoint: 'chat', model: 'm' } });
const GROUPS: GroupConfig[] = [
  { name: 'cpu', role: 'degraded', models: { '*': 'tiny' }, upstreams: [up('c1', 'cpu')] },
  { name: 'dr', role: 'standby', models: { big: 'big-dr' }, upstreams: [up('d1', 'dr')] },
  { name: 'main', role: 'primary', models: undefined, upstreams: [up('m1', 'main'), up('m2', 'main')] },
];

function plan(order: string[], opts: { down?: string[]; inFlight?: Record<string, number>; model?: string; tick?: number; liveOnly?: boolean } = {}) {
  const states = new Map(GROUPS.flatMap((g) => g.upstreams).map((u) => [u.name, opts.down?.includes(u.name) ? st.setDrained(st.initialState(), true) : st.initialState()]));
  return planCandidates({
    order,
    groups: new Map(GROUPS.map((g) => [g.name, g])),
    labels: routeLabels(order, GROUPS),
    states,
    inFlight: new Map(Object.entries(opts.inFlight ?? {})),
    model: opts.model ?? 'big',
    now: 0,
    tick: opts.tick ?? 0,
    liveOnly: opts.liveOnly,
  }).map((c) => `${c.route}:${c.upstream.name}:${c.model}`);
}

describe('route planning', () => {
  it('orders groups primary, standby, degraded whatever the configured order', () => {
    assert.deepEqual(initialOrder(GROUPS), ['main', 'dr', 'cpu']);
  });

  it('plans every available upstream in priority order with the model mapped per group', () => {
    assert.deepEqual(plan(['main', 'dr', 'cpu']), ['primary:m1:big', 'primary:m2:big', 'standby:d1:big-dr', 'degraded:c1:tiny']);
    assert.deepEqual(plan(['main', 'dr', 'cpu'], { down: ['m1', 'd1'] }), ['primary:m2:big', 'degraded:c1:tiny']);
  });

  it('skips groups that do not serve the model, and degraded groups when asked for live ones only', () => {
    assert.deepEqual(plan(['main', 'dr', 'cpu'], { model: 'other' }), ['primary:m1:other', 'primary:m2:other', 'degraded:c1:tiny']);
    assert.deepEqual(plan(['main', 'dr', 'cpu'], { liveOnly: true }), ['primary:m1:big', 'primary:m2:big', 'standby:d1:big-dr']);
  });

  it('prefers the least loaded upstream of a group and rotates between equals', () => {
    assert.deepEqual(plan(['main'], { inFlight: { m1: 3, m2: 1 } }), ['primary:m2:big', 'primary:m1:big']);
    assert.deepEqual(plan(['main'], { tick: 1 }), ['primary:m2:big', 'primary:m1:big']);
  });

  it('switching the primary relabels routes: the old primary becomes the first standby', () => {
    const order = switchPrimary(['main', 'dr', 'cpu'], GROUPS, 'dr');
    assert.deepEqual(order, ['dr', 'main', 'cpu']);
    assert.deepEqual(plan(order), ['primary:d1:big-dr', 'standby:m1:big', 'standby:m2:big', 'degraded:c1:tiny']);
    assert.throws(() => switchPrimary(order, GROUPS, 'cpu'), /degraded/);
    assert.throws(() => switchPrimary(order, GROUPS, 'nope'), /no group named "nope"/);
  });
});

describe('retry budget', () => {
  it('allows at least min_per_second retries over the 10 s window when quiet', () => {
    const b = createRetryBudget({ budgetPercent: 20, minPerSecond: 1 });
    let granted = 0;
    for (let i = 0; i < 50; i++) if (b.tryRetry(5000)) granted++;
    assert.equal(granted, 10);
  });

  it('caps retries at budget_percent of the requests under load', () => {
    const b = createRetryBudget({ budgetPercent: 20, minPerSecond: 0 });
    for (let i = 0; i < 1000; i++) b.recordRequest(10_000 + i);
    let granted = 0;
    for (let i = 0; i < 1000; i++) if (b.tryRetry(11_000)) granted++;
    assert.equal(granted, 200);
  });

  it('forgets requests and retries that slid out of the window', () => {
    const b = createRetryBudget({ budgetPercent: 50, minPerSecond: 0 });
    for (let i = 0; i < 10; i++) b.recordRequest(0);
    for (let i = 0; i < 5; i++) assert.ok(b.tryRetry(0));
    assert.equal(b.tryRetry(0), false);
    assert.deepEqual(b.snapshot(20_000), { requests: 0, retries: 0, allowed: 0 });
  });
});

describe('upstream pool', () => {
  const config = {
    healthCheck: { intervalMs: 1000, timeoutMs: 100, healthyThreshold: 1, unhealthyThreshold: 1 },
    outlier: { consecutiveFailures: 1, baseEjectionMs: 1000, maxEjectionMs: 1000 },
    groups: [{ name: 'main', role: 'primary', models: undefined, upstreams: [up('m1', 'main'), up('m2', 'main')] }],
  } as unknown as import('../../src/gateway/config.js').GatewayConfig;

  it('panics like Envoy: when health checks took out every upstream, it still tries them (but not ejected or drained ones)', () => {
    const pool = createUpstreamPool(config, 0);
    try {
      pool.probeFailed('m1', 0, 'timeout');
      pool.probeFailed('m2', 0, 'timeout');
      assert.deepEqual(pool.plan('x', 0).map((c) => c.upstream.name).sort(), ['m1', 'm2']);
      pool.requestFailed('m1', 0, 'refused');
      pool.setDrained('m2', true, 0);
      assert.deepEqual(pool.plan('x', 10), []);
      assert.equal(pool.view(10)[0].changedAt, new Date(0).toISOString());
    } finally {
      pool.close();
    }
  });
});
