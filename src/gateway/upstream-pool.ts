/**
 * The live state of all upstreams: health records, in-flight counts, keep-alive agents and the group
 * priority order. The decisions are the pure functions of upstream-state.ts and routing-table.ts; this
 * module only holds their current values for one gateway instance.
 */
import http from 'node:http';
import https from 'node:https';
import type { GatewayConfig, GroupConfig, UpstreamConfig } from './config.js';
import { UnknownTargetError } from './errors.js';
import { initialOrder, planCandidates, routeLabels, switchPrimary, type Candidate, type Route } from './routing-table.js';
import * as st from './upstream-state.js';

export interface UpstreamView {
  readonly name: string;
  readonly group: string;
  readonly route: Exclude<Route, 'cache'>;
  readonly url: string;
  readonly available: boolean;
  readonly healthy: boolean;
  readonly drained: boolean;
  readonly ejectedForMs: number;
  readonly inFlight: number;
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
  readonly changedAt: string;
}

export interface UpstreamPool {
  readonly upstreams: readonly UpstreamConfig[];
  plan(model: string | undefined, now: number, liveOnly?: boolean): Candidate[];
  agent(upstream: UpstreamConfig): http.Agent;
  begin(name: string): void;
  end(name: string): void;
  requestSucceeded(name: string, now: number): void;
  requestFailed(name: string, now: number, error: string): void;
  /** Both return true while the upstream is between states (a threshold is being counted towards). */
  probeSucceeded(name: string, now: number): boolean;
  probeFailed(name: string, now: number, error: string): boolean;
  setDrained(name: string, drained: boolean, now: number): void;
  switchPrimary(group: string): readonly string[];
  order(): readonly string[];
  view(now: number): UpstreamView[];
  close(): void;
}

export function createUpstreamPool(config: GatewayConfig, now: number, log: (line: string) => void = () => {}): UpstreamPool {
  const policy: st.HealthPolicy = { ...config.healthCheck, ...config.outlier };
  const groups = new Map<string, GroupConfig>(config.groups.map((g) => [g.name, g]));
  const upstreams = config.groups.flatMap((g) => g.upstreams);
  const states = new Map(upstreams.map((u) => [u.name, st.initialState()]));
  const changedAt = new Map(upstreams.map((u) => [u.name, now]));
  const inFlight = new Map(upstreams.map((u) => [u.name, 0]));
  const agents = new Map(
    upstreams.map((u) => {
      const opts = { keepAlive: true, maxSockets: u.maxConnections, maxFreeSockets: u.maxConnections, scheduling: 'lifo' as const };
      return [u.name, u.url.startsWith('https:') ? new https.Agent(opts) : new http.Agent(opts)];
    }),
  );
  let order = initialOrder(config.groups);
  let labels = routeLabels(order, config.groups);
  let tick = 0;

  const get = (name: string) => {
    const s = states.get(name);
    if (!s) throw new UnknownTargetError(`no upstream named "${name}"; upstreams are: ${upstreams.map((u) => u.name).join(', ')}`);
    return s;
  };
  const update = (name: string, next: st.UpstreamState, at: number) => {
    const prev = get(name);
    if (next === prev) return;
    states.set(name, next);
    const was = st.isAvailable(prev, at);
    const is = st.isAvailable(next, at);
    if (was === is) return;
    changedAt.set(name, at);
    log(`upstream ${name} is now ${is ? 'available' : `unavailable (${describe(next, at)})`}`);
  };

  return {
    upstreams,
    plan(model, at, liveOnly) {
      const input = { order, groups, labels, states, inFlight, model, now: at, tick: tick++, liveOnly };
      const planned = planCandidates(input);
      // Like Envoy's panic threshold: when health checks have taken out everything (e.g. probes timing
      // out on an overloaded machine), trying the upstreams beats a certain 503. Ejected and drained
      // upstreams stay out: real requests or a person took them out.
      return planned.length > 0 ? planned : planCandidates({ ...input, ignoreHealth: true });
    },
    agent: (u) => agents.get(u.name)!,
    begin: (name) => inFlight.set(name, (inFlight.get(name) ?? 0) + 1),
    end: (name) => inFlight.set(name, (inFlight.get(name) ?? 1) - 1),
    requestSucceeded: (name, at) => update(name, st.onRequestSuccess(get(name), at), at),
    requestFailed: (name, at, e) => update(name, st.onRequestFailure(get(name), policy, at, e), at),
    probeSucceeded(name, at) {
      update(name, st.onProbeSuccess(get(name), policy, at), at);
      const s = get(name);
      return (!s.healthy || st.isEjected(s, at)) && s.probeSuccesses > 0;
    },
    probeFailed(name, at, e) {
      update(name, st.onProbeFailure(get(name), policy, at, e), at);
      const s = get(name);
      return s.healthy && s.probeFailures > 0;
    },
    setDrained: (name, drained, at) => update(name, st.setDrained(get(name), drained), at),
    switchPrimary(group) {
      order = switchPrimary(order, config.groups, group);
      labels = routeLabels(order, config.groups);
      log(`primary group is now ${group}; order: ${order.join(' > ')}`);
      return order;
    },
    order: () => order,
    view: (at) =>
      upstreams.map((u) => {
        const s = get(u.name);
        return {
          name: u.name,
          group: u.group,
          route: labels.get(u.group)!,
          url: u.url,
          available: st.isAvailable(s, at),
          healthy: s.healthy,
          drained: s.drained,
          ejectedForMs: Math.max(0, s.ejectedUntil - at),
          inFlight: inFlight.get(u.name) ?? 0,
          consecutiveFailures: s.consecutiveFailures,
          lastError: s.lastError,
          changedAt: new Date(changedAt.get(u.name)!).toISOString(),
        };
      }),
    close: () => agents.forEach((a) => a.destroy()),
  };
}

function describe(s: st.UpstreamState, now: number): string {
  if (s.drained) return 'drained';
  if (!s.healthy) return `failed health checks: ${s.lastError ?? ''}`;
  return `ejected for ${s.ejectedUntil - now} ms after failures: ${s.lastError ?? ''}`;
}
