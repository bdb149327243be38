/**
 * The on-disk shape of lifeboat.yaml's `runbooks:` section, as zod schemas. Each step is a
 * mapping with exactly one step kind key; the keys every step takes (`name`, `timeout`,
 * `retries`, `retry_delay`, `on_failure`) may be written beside the kind or inside its mapping:
 *
 *   - restore: { target: "/srv/models/${asset}" }
 *   - deploy:  { run: "systemctl restart vllm-${asset}", timeout: 10m }
 *   - run: "./warm-cache.sh"
 *     timeout: 2m
 *
 * runbooks.ts turns what these schemas accept into the normalised Runbook.
 */
import { z } from 'zod';
import { parseDurationMs } from '../base/duration.js';
import { CONFIG_NAME, httpUrlSchema } from './config-file.js';

export const STEP_KINDS = ['restore', 'verify', 'deploy', 'smoke', 'switch', 'notify', 'run', 'http'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

const durationMs = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration: write e.g. 30s, 10m or 1h` });
    return z.NEVER;
  }
  return ms;
});

/** The keys every step takes. */
export const commonFields = {
  name: z.string().regex(CONFIG_NAME, 'a step name uses letters, digits, ".", "_" or "-"').optional(),
  timeout: durationMs.refine((ms) => ms > 0, 'must be longer than 0').optional(),
  retries: z.number().int().min(0).max(1000).optional(),
  retry_delay: durationMs.optional(),
  on_failure: z.enum(['stop', 'continue']).optional(),
};
export type RawCommon = { [K in keyof typeof commonFields]?: z.output<(typeof commonFields)[K]> };
export const COMMON_KEYS = Object.keys(commonFields) as Array<keyof RawCommon>;

export const httpRequestSchema = z.strictObject({
  url: httpUrlSchema('http://127.0.0.1:8000/v1/completions'),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  json: z.unknown().optional(),
  body: z.string().optional(),
  /** An environment variable whose value is sent as `Authorization: Bearer …` (never written anywhere). */
  token_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
  expect_status: z.union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)]).optional(),
  expect_body_contains: z.string().optional(),
  max_latency: durationMs.optional(),
});
export type RawHttp = z.output<typeof httpRequestSchema>;

export const gatewaySwitchSchema = z.strictObject({
  url: httpUrlSchema('http://gateway:8089'),
  group: z.string().regex(CONFIG_NAME, 'a group name of the gateway: section'),
  token_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
});

const command = z.string().trim().min(1, 'a shell command');

/** The mapping of each step kind (`run` and `http` take a command and a request instead). */
export const KIND_SCHEMAS = {
  restore: z.strictObject({ target: z.string().min(1), snapshot: z.string().min(1).optional(), subpath: z.string().optional(), ...commonFields }),
  verify: z.strictObject({ format: z.boolean().optional(), sha256: z.boolean().optional(), row_counts: z.boolean().optional(), ...commonFields }),
  deploy: z.strictObject({ run: command.optional(), http: httpRequestSchema.optional(), ...commonFields }),
  smoke: z.strictObject({ run: command.optional(), http: httpRequestSchema.optional(), ...commonFields }),
  switch: z.strictObject({ run: command.optional(), http: httpRequestSchema.optional(), gateway: gatewaySwitchSchema.optional(), ...commonFields }),
  notify: z.strictObject({ webhook: httpUrlSchema('https://chat.internal/hooks/dr'), ...commonFields }),
  run: command,
  http: httpRequestSchema,
} satisfies Record<StepKind, z.ZodType>;

type KindValue<K extends StepKind> = z.output<(typeof KIND_SCHEMAS)[K]>;
export type RawKindValue = { [K in StepKind]: KindValue<K> }[StepKind];

/** A step as written: its kind, the kind's value, and the common keys from wherever they were written. */
export interface RawStep {
  kind: StepKind;
  value: Record<string, unknown> | string;
  common: RawCommon;
}

/** `verify: {}` and `verify: true` both mean "verify with the defaults". */
function kindValue(kind: StepKind, value: unknown): unknown {
  if (kind === 'verify' && (value === true || value === null)) return {};
  return value;
}

/** One item of `steps:`: exactly one step kind, parsed by that kind's schema, issues kept at their keys. */
export const stepSchema = z.record(z.string(), z.unknown()).transform((item, ctx): RawStep => {
  const kinds = Object.keys(item).filter((k) => (STEP_KINDS as readonly string[]).includes(k)) as StepKind[];
  const others = Object.keys(item).filter((k) => !kinds.includes(k as StepKind) && !(COMMON_KEYS as string[]).includes(k));
  for (const k of others) ctx.addIssue({ code: 'custom', path: [k], message: `unknown step kind "${k}": a step is one of ${STEP_KINDS.join(', ')}` });
  if (kinds.length !== 1) {
    if (others.length === 0) ctx.addIssue({ code: 'custom', message: kinds.length === 0 ? `a step needs one of ${STEP_KINDS.join(', ')}` : `a step has exactly one kind, not ${kinds.join(' and ')}` });
    return z.NEVER;
  }
  const kind = kinds[0];
  const value = KIND_SCHEMAS[kind].safeParse(kindValue(kind, item[kind]));
  const outer = z.strictObject({ [kind]: z.unknown(), ...commonFields }).safeParse(item);
  for (const issue of [...(value.error?.issues.map((i) => ({ ...i, path: [kind, ...i.path] })) ?? []), ...(outer.error?.issues ?? [])]) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
    ctx.addIssue({ code: 'custom', path: [...issue.path, ...keys], message: issue.message });
  }
  if (!value.success || !outer.success) return z.NEVER;
  const inner = typeof value.data === 'object' && value.data !== null ? (value.data as Record<string, unknown>) : undefined;
  const common: RawCommon = {};
  for (const key of COMMON_KEYS) {
    const here = outer.data[key];
    const there = kind === 'http' ? undefined : inner?.[key];
    if (here !== undefined && there !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} is written twice (beside ${kind}: and inside it): keep one` });
    (common as Record<string, unknown>)[key] = here ?? there;
  }
  const bare = inner && kind !== 'http' ? Object.fromEntries(Object.entries(inner).filter(([k]) => !(COMMON_KEYS as string[]).includes(k))) : (value.data as Record<string, unknown> | string);
  return { kind, value: bare, common };
});

/** What a drill changes in a step: `skip`, or keys that replace the step's own. */
const drillOverride = z.union([z.literal('skip'), z.record(z.string(), z.unknown())]);

export const runbookSchema = z.strictObject({
  description: z.string().optional(),
  /** Where a drill's `scratch` restore targets are made; a drill may restore only below it. */
  scratch_root: z.string().min(1).optional(),
  steps: z.array(stepSchema).min(1, 'a runbook needs at least one step'),
  /** By step name or kind: what differs when the runbook runs as a drill. */
  drill: z.record(z.string(), drillOverride).optional(),
});
export type RawRunbook = z.output<typeof runbookSchema>;

export const runbooksSectionSchema = z.record(z.string().regex(CONFIG_NAME, 'a runbook name uses letters, digits, ".", "_" or "-" and starts with a letter or digit'), runbookSchema);
