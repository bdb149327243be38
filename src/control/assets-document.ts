/**
 * The documents that describe the plan's assets — the same for `lifeboat assets --json` and the
 * HTTP API: each policy value as lifeboat.yaml writes it, with where it came from.
 */
import { formatDuration } from '../base/duration.js';
import { describeSource } from '../sources/config.js';
import type { Hint } from './misclassified.js';
import type { ConfigIssue } from './config-file.js';
import type { Asset, DrPlan } from './plan.js';
import { DEFAULT_POLICIES, KIND_DEFAULTS, TIERS, YAML_KEY, type Policy, type PolicyKey } from './policy.js';

/** A policy value as lifeboat.yaml writes it. */
export function yamlValue(key: PolicyKey, policy: Policy): unknown {
  const v = policy[key];
  switch (key) {
    case 'rpoMs':
    case 'rtoMs':
    case 'verifyEveryMs':
    case 'drillEveryMs':
      return (v as number) === 0 ? 'never' : formatDuration(v as number);
    case 'verifySubsetPercent':
      return `${v}%`;
    case 'keep': {
      const { withinMs, ...counts } = policy.keep;
      return { ...counts, ...(withinMs === undefined ? {} : { within: formatDuration(withinMs) }) };
    }
    case 'alerts':
      return { webhooks: policy.alerts.webhooks.length, remind_every: formatDuration(policy.alerts.remindEveryMs) };
    default:
      return v;
  }
}

export function policyDocument(policy: Policy, origin?: Record<PolicyKey, string>) {
  return Object.fromEntries((Object.keys(YAML_KEY) as PolicyKey[]).map((k) => [YAML_KEY[k], origin ? { value: yamlValue(k, policy), from: origin[k] } : yamlValue(k, policy)]));
}

export function assetDocument(a: Asset, hints: Hint[]) {
  return {
    name: a.name,
    kind: a.kind,
    tier: a.tier,
    source: a.source ? describeSource(a.source) : null,
    git_remote: a.gitRemote ?? null,
    owner: a.owner ?? null,
    host: a.host ?? null,
    runbook: a.runbook ?? null,
    policy: a.tier === 3 ? null : policyDocument(a.policy, a.origin),
    hints: hints.filter((h) => h.asset === a.name).map((h) => ({ path: h.path, message: h.message })),
  };
}

export function defaultsDocument() {
  return {
    tiers: Object.fromEntries(TIERS.map((t) => [t, t === 3 ? null : policyDocument(DEFAULT_POLICIES[t])])),
    kinds: Object.fromEntries(Object.entries(KIND_DEFAULTS).map(([kind, p]) => [kind, { tier: 1, rpo: formatDuration(p.rpoMs!) }])),
    replicate_to: 'every repository with role: replica',
  };
}


/** `lifeboat assets --json`: every asset with its policy, and the plan's warnings and hints. */
export function assetsDocument(plan: DrPlan, hints: Hint[]) {
  return {
    file: plan.file,
    assets: plan.assets.map((a) => assetDocument(a, hints)),
    warnings: [
      ...plan.warnings.map((w) => ({ asset: assetOfIssue(w), path: null, message: issueLine(w) })),
      ...hints.filter((h) => h.asset === null).map((h) => ({ asset: null, path: h.path, message: `${h.path}: ${h.message}` })),
    ],
  };
}

export function issueLine(i: ConfigIssue): string {
  return `${i.file}${i.line ? `:${i.line}` : ''}: ${i.key ? `${i.key}: ` : ''}${i.message}`;
}

function assetOfIssue(issue: ConfigIssue): string | null {
  const m = /^assets\.([^.[]+)/.exec(issue.key);
  return m ? m[1] : null;
}
