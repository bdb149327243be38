/**
 * The priority order of groups and the pure planning of which upstreams a request may try, in order.
 * Route labels follow the live order: the first non-degraded group is "primary", the other non-degraded
 * groups are "standby", degraded groups come last. Switching the primary only reorders; in-flight
 * requests finish where they are, which is what makes a planned switch lossless.
 */
import type { GroupConfig, UpstreamConfig } from './config.js';
import { InvalidAdminRequestError, UnknownTargetError } from './errors.js';
import { isAvailable, isEjected, type UpstreamState } from './upstream-state.js';

export type Route = 'primary' | 'standby' | 'degraded' | 'cache';

export interface Candidate {
  readonly upstream: UpstreamConfig;
  readonly route: Exclude<Route, 'cache'>;
  /** The model name to send upstream (after the group's model mapping). */
  readonly model: string;
}

/** Group names in priority order: primary first, then standbys in configured order, then degraded groups. */
export function initialOrder(groups: readonly GroupConfig[]): string[] {
  const rank = { primary: 0, standby: 1, degraded: 2 } as const;
  return [...groups].sort((a, b) => rank[a.role] - rank[b.role]).map((g) => g.name);
}

/** Moves `target` to the front; the old primary becomes the first standby. Degraded groups cannot be primary. */
export function switchPrimary(order: readonly string[], groups: readonly GroupConfig[], target: string): string[] {
  const g = groups.find((x) => x.name === target);
  if (!g) throw new UnknownTargetError(`no group named "${target}"; groups are: ${groups.map((x) => x.name).join(', ')}`);
  if (g.role === 'degraded') throw new InvalidAdminRequestError(`group "${target}" is degraded and cannot become primary; pick a primary or standby group`);
  return [target, ...order.filter((n) => n !== target)];
}

export function routeLabels(order: readonly string[], groups: readonly GroupConfig[]): Map<string, Exclude<Route, 'cache'>> {
  const labels = new Map<string, Exclude<Route, 'cache'>>();
  let primaryTaken = false;
  for (const name of order) {
    const g = groups.find((x) => x.name === name)!;
    if (g.role === 'degraded') labels.set(name, 'degraded');
    else {
      labels.set(name, primaryTaken ? 'standby' : 'primary');
      primaryTaken = true;
    }
  }
  return labels;
}

/** The upstream model for `model` in a group, or undefined when the group does not serve it. */
export function mapModel(group: GroupConfig, model: string): string | undefined {
  if (!group.models) return model;
  return group.models[model] ?? group.models['*'];
}

export interface PlanInput {
  readonly order: readonly string[];
  readonly groups: ReadonlyMap<string, GroupConfig>;
  readonly labels: ReadonlyMap<string, Exclude<Route, 'cache'>>;
  readonly states: ReadonlyMap<string, UpstreamState>;
  readonly inFlight: ReadonlyMap<string, number>;
  /** undefined for model-less requests (GET /v1/models): every group qualifies. */
  readonly model: string | undefined;
  readonly now: number;
  /** Rotates the tie-break between equally loaded upstreams of a group. */
  readonly tick: number;
  /** Leave degraded groups out (cache warming must not store answers of the small model). */
  readonly liveOnly?: boolean;
  /** Panic mode: also plan upstreams that only failed health checks (still not drained or ejected ones). */
  readonly ignoreHealth?: boolean;
}

/** Every available upstream that serves the model, groups in priority order, least-loaded first within a group. */
export function planCandidates(p: PlanInput): Candidate[] {
  const out: Candidate[] = [];
  for (const name of p.order) {
    const group = p.groups.get(name)!;
    const route = p.labels.get(name)!;
    if (p.liveOnly && route === 'degraded') continue;
    const model = p.model === undefined ? '' : mapModel(group, p.model);
    if (model === undefined) continue;
    const ups = group.upstreams.filter((u) => {
      const s = p.states.get(u.name)!;
      return p.ignoreHealth ? !s.drained && !isEjected(s, p.now) : isAvailable(s, p.now);
    });
    const n = ups.length;
    const rotated = ups.map((u, i) => ups[(i + p.tick) % n]);
    rotated.sort((a, b) => (p.inFlight.get(a.name) ?? 0) - (p.inFlight.get(b.name) ?? 0));
    for (const upstream of rotated) out.push({ upstream, route, model });
  }
  return out;
}
