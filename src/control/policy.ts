/**
 * Protection policy: how often an asset is backed up (RPO), how fast it must come back (RTO),
 * where it is replicated, how long it is kept and immutable, how often it is verified and drilled,
 * and who is told when a promise breaks. A policy is written per tier (`tiers:`) and overridden per
 * asset (`assets:`); every key has a built-in default. The effective policy records where each
 * value came from, so `lifeboat assets` can say why an asset is protected the way it is.
 */
import { z } from 'zod';
import { CONFIG_NAME, durationSchema, httpUrlSchema } from './config-file.js';

export type Tier = 1 | 2 | 3;
export const TIERS: readonly Tier[] = [1, 2, 3];

export type AssetKind = 'model' | 'adapter' | 'dataset' | 'annotations' | 'registry' | 'config' | 'code' | 'other';
export const ASSET_KINDS: readonly AssetKind[] = ['model', 'adapter', 'dataset', 'annotations', 'registry', 'config', 'code', 'other'];

/** restic's keep policy: the newest `last`, the newest of each of the last N hours/days/…, and all within a period. */
export interface KeepPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** Keep every snapshot younger than this (ms). */
  withinMs?: number;
}

export interface Policy {
  rpoMs: number;
  rtoMs: number;
  /** Names of repositories (lifeboat.yaml) each new snapshot is copied to. */
  replicateTo: string[];
  /** Object Lock retention of what a backup writes, in days; 0: none. Applied where the repository has Object Lock. */
  retainDays: number;
  /** How often a random subset of the packs is read back and verified; 0: never. */
  verifyEveryMs: number;
  verifySubsetPercent: number;
  keep: KeepPolicy;
  /** What happens to a snapshot the keep policy no longer keeps: copied to the archive repository first, or deleted. */
  expired: 'archive' | 'delete';
  /** How often a drill recovers the asset; 0: never. */
  drillEveryMs: number;
  alerts: { webhooks: string[]; remindEveryMs: number };
}

export type PolicyKey = keyof Policy;
/** Where a value came from: the built-in tier default, the tiers: section, the kind's rule (annotations and registries in Tier 1), the asset itself. */
export type Origin = 'default' | 'tier' | 'kind' | 'asset';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Replicas are named at load time: `REPLICAS` stands for every repository with role: replica. */
export const REPLICAS = '*replicas';

const NO_ALERTS = { webhooks: [], remindEveryMs: DAY };

/** The built-in policy of each tier (FRAMEWORK.md): Tier 1 most aggressive; Tier 3 is rebuilt from git and never backed up. */
export const DEFAULT_POLICIES: Record<Tier, Policy> = {
  1: {
    rpoMs: DAY,
    rtoMs: 4 * HOUR,
    replicateTo: [REPLICAS],
    retainDays: 30,
    verifyEveryMs: DAY,
    verifySubsetPercent: 5,
    keep: { last: 7, daily: 14, weekly: 8, monthly: 24, yearly: 5 },
    expired: 'archive',
    drillEveryMs: 90 * DAY,
    alerts: NO_ALERTS,
  },
  2: {
    rpoMs: 7 * DAY,
    rtoMs: DAY,
    replicateTo: [REPLICAS],
    retainDays: 0,
    verifyEveryMs: 7 * DAY,
    verifySubsetPercent: 5,
    keep: { last: 5, weekly: 8 },
    expired: 'delete',
    drillEveryMs: 0,
    alerts: NO_ALERTS,
  },
  3: {
    rpoMs: 0,
    rtoMs: 0,
    replicateTo: [],
    retainDays: 0,
    verifyEveryMs: 0,
    verifySubsetPercent: 0,
    keep: {},
    expired: 'delete',
    drillEveryMs: 0,
    alerts: NO_ALERTS,
  },
};

/** Kinds whose loss costs most per hour: re-annotating is the expensive loss (FRAMEWORK.md), so in Tier 1 their RPO defaults to 1h. */
export const KIND_DEFAULTS: Partial<Record<AssetKind, Partial<Policy>>> = {
  annotations: { rpoMs: HOUR },
  registry: { rpoMs: HOUR },
};

const duration = durationSchema();

const positiveDuration = duration.refine((ms) => ms > 0, 'must be longer than 0');

/** "5%", "0.5%" or a number of percent. */
const percent = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v)?.[1];
  const value = n === undefined ? NaN : Number(n);
  if (!(value > 0 && value <= 100)) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a percentage: write e.g. 5% (more than 0, at most 100)` });
    return z.NEVER;
  }
  return value;
});

const count = z.number().int().min(0);

const keepSchema = z
  .strictObject({ last: count, hourly: count, daily: count, weekly: count, monthly: count, yearly: count, within: duration }).partial()
  .transform(({ within, ...counts }): KeepPolicy => ({ ...counts, ...(within === undefined ? {} : { withinMs: within }) }));

const alertsSchema = z.strictObject({
  webhooks: z.array(httpUrlSchema('https://chat.internal/hooks/dr')).default([]),
  remind_every: positiveDuration.optional(),
});

const repoName = z.string().regex(CONFIG_NAME, 'a repository name from the repositories: section');

/** The policy keys as lifeboat.yaml writes them, all optional: the shape of a tier and of an asset's overrides. */
export const policyFields = {
  rpo: positiveDuration.optional(),
  rto: positiveDuration.optional(),
  replicate_to: z.array(repoName).optional(),
  retain_days: z.number().int().min(0).optional(),
  verify_every: duration.optional(),
  verify_subset: percent.optional(),
  keep: keepSchema.optional(),
  expired: z.enum(['archive', 'delete']).optional(),
  drill_every: duration.optional(),
  alerts: alertsSchema.optional(),
};

export type PolicyOverrides = Partial<Policy>;

/** The YAML keys of a tier or an asset, as a partial Policy. */
export function overridesOf(v: { [K in keyof typeof policyFields]?: z.output<(typeof policyFields)[K]> }): PolicyOverrides {
  const o: PolicyOverrides = {};
  if (v.rpo !== undefined) o.rpoMs = v.rpo;
  if (v.rto !== undefined) o.rtoMs = v.rto;
  if (v.replicate_to !== undefined) o.replicateTo = v.replicate_to;
  if (v.retain_days !== undefined) o.retainDays = v.retain_days;
  if (v.verify_every !== undefined) o.verifyEveryMs = v.verify_every;
  if (v.verify_subset !== undefined) o.verifySubsetPercent = v.verify_subset;
  if (v.keep !== undefined) o.keep = v.keep;
  if (v.expired !== undefined) o.expired = v.expired;
  if (v.drill_every !== undefined) o.drillEveryMs = v.drill_every;
  if (v.alerts !== undefined) o.alerts = { webhooks: v.alerts.webhooks, remindEveryMs: v.alerts.remind_every ?? DAY };
  return o;
}

/** YAML's name of each policy key, for messages and `lifeboat assets`. */
export const YAML_KEY: Record<PolicyKey, string> = {
  rpoMs: 'rpo',
  rtoMs: 'rto',
  replicateTo: 'replicate_to',
  retainDays: 'retain_days',
  verifyEveryMs: 'verify_every',
  verifySubsetPercent: 'verify_subset',
  keep: 'keep',
  expired: 'expired',
  drillEveryMs: 'drill_every',
  alerts: 'alerts',
};

export interface EffectivePolicy {
  policy: Policy;
  origin: Record<PolicyKey, Origin>;
}

/**
 * The built-in tier defaults, under the tiers: section, under the kind's rule (more specific than a
 * tier-wide RPO: an annotations database in Tier 1 is backed up hourly unless the asset says
 * otherwise), under the asset's own keys: each value with where it came from.
 */
export function effectivePolicy(tier: Tier, kind: AssetKind, tierOverrides: PolicyOverrides, assetOverrides: PolicyOverrides): EffectivePolicy {
  const layers: Array<[Origin, PolicyOverrides]> = [
    ['default', DEFAULT_POLICIES[tier]],
    ['tier', tierOverrides],
    ['kind', tier === 1 ? (KIND_DEFAULTS[kind] ?? {}) : {}],
    ['asset', assetOverrides],
  ];
  const policy = {} as Record<PolicyKey, unknown>;
  const origin = {} as Record<PolicyKey, Origin>;
  for (const [from, layer] of layers) {
    for (const [key, value] of Object.entries(layer) as Array<[PolicyKey, unknown]>) {
      if (value === undefined) continue;
      policy[key] = value;
      origin[key] = from;
    }
  }
  return { policy: policy as unknown as Policy, origin };
}
