/**
 * lifeboat.yaml's `runbooks:` section, normalised: every step with its defaults filled in, once
 * as a recovery runs it and once as a drill runs it (the `drill:` overrides merged in). The
 * on-disk shape is runbook-schema.ts; planning a run (variables filled in) is runbook-plan.ts.
 *
 *   runbooks:
 *     serve-model:
 *       steps:
 *         - restore: { target: "/srv/models/${asset}" }
 *         - verify: { format: true }
 *         - deploy: { run: "systemctl restart vllm-${asset}", timeout: 10m }
 *         - smoke:  { http: { url: "http://127.0.0.1:8000/v1/completions", ... }, retries: 20, retry_delay: 3s }
 *         - switch: { gateway: { url: "http://gateway:8089", group: gpu-rack-a } }
 *       drill:
 *         restore: { target: scratch }
 *         switch: skip
 *
 * An asset with no runbook gets the built-in one: restore to its source path, verify (a drill
 * restores to scratch).
 */
import os from 'node:os';
import path from 'node:path';
import type { Asset } from './plan.js';
import { ConfigError, formatIssues, locate, parseSection, type ConfigFile, type ConfigIssue } from './config-file.js';
import { mapTexts, unknownVariables, VARIABLES } from './runbook-vars.js';
import { COMMON_KEYS, runbooksSectionSchema, stepSchema, type RawHttp, type RawRunbook, type RawStep, type StepKind } from './runbook-schema.js';

export type { StepKind } from './runbook-schema.js';
export type RunMode = 'recovery' | 'drill';

/** The restore target that means "a fresh directory under the scratch root". */
export const SCRATCH = 'scratch';
export const BUILT_IN = '(built-in)';

export interface HttpSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** A JSON body (its strings get variables filled in), or a text body. */
  json?: unknown;
  body?: string;
  tokenEnv?: string;
  /** Statuses that pass; undefined: any 2xx. */
  expectStatus?: number[];
  expectBodyContains?: string;
  maxLatencyMs?: number;
}

export type StepAction =
  | { type: 'run'; command: string }
  | { type: 'http'; request: HttpSpec }
  | { type: 'gateway'; url: string; group: string; tokenEnv: string };

export interface StepSpec {
  name: string;
  kind: StepKind;
  /** Per attempt; undefined: no limit but the run's. */
  timeoutMs?: number;
  retries: number;
  retryDelayMs: number;
  onFailure: 'stop' | 'continue';
  /** A drill's `skip`. */
  skip: boolean;
  restore?: { target: string; snapshot?: string; subpath?: string };
  verify?: { format: boolean; sha256: boolean; rowCounts: boolean };
  action?: StepAction;
  webhook?: string;
}

export interface Runbook {
  name: string;
  builtIn: boolean;
  /** Absolute. */
  scratchRoot: string;
  /** Relative restore targets are taken from here (lifeboat.yaml's folder). */
  baseDir: string;
  steps: Record<RunMode, StepSpec[]>;
}

export interface RunbookSet {
  file: string;
  runbooks: Map<string, Runbook>;
}

export const DEFAULT_SCRATCH_ROOT = path.join(os.tmpdir(), 'lifeboat-drills');
export const DEFAULT_GATEWAY_TOKEN_ENV = 'LIFEBOAT_GATEWAY_TOKEN';

const DEFAULT_TIMEOUT_MS: Partial<Record<StepKind, number>> = { deploy: 600_000, run: 600_000, smoke: 60_000, switch: 60_000, http: 60_000, notify: 30_000 };
const ACTIONS = ['run', 'http', 'gateway'] as const;

/** Reads the runbooks: section; throws ConfigError listing every problem with its line. */
export function runbooksOf(config: ConfigFile): RunbookSet {
  const section = parseSection(config, 'runbooks', runbooksSectionSchema) ?? {};
  const baseDir = path.dirname(path.resolve(config.file));
  const issues: ConfigIssue[] = [];
  const runbooks = new Map<string, Runbook>();
  for (const [name, raw] of Object.entries(section)) {
    const at = (keyPath: Array<string | number>, message: string) => issues.push(locate(config, ['runbooks', name, ...keyPath], message));
    runbooks.set(name, normalise(name, raw, baseDir, at));
  }
  if (issues.length > 0) throw new ConfigError(formatIssues(`${config.file}: the runbooks section is invalid`, issues), issues);
  return { file: config.file, runbooks };
}

type At = (keyPath: Array<string | number>, message: string) => void;

function normalise(name: string, raw: RawRunbook, baseDir: string, at: At): Runbook {
  const names = stepNames(raw.steps, at);
  const recovery = raw.steps.map((s, i) => specOf(s, names[i], i, at));
  const drill = raw.steps.map((s, i) => recovery[i] && drillSpec(s, names[i], raw.drill ?? {}, at));
  for (const key of Object.keys(raw.drill ?? {})) {
    if (!names.includes(key) && !raw.steps.some((s) => s.kind === key)) at(['drill', key], `"${key}" is neither a step name nor a step kind of this runbook (${names.join(', ')})`);
  }
  checkOrder(recovery, at);
  recovery.forEach((spec, i) => checkVariables(spec, ['steps', i, spec.kind], at));
  drill.forEach((spec, i) => {
    const key = names[i] in (raw.drill ?? {}) ? names[i] : raw.steps[i].kind;
    if (spec && raw.drill?.[key] !== undefined && raw.drill[key] !== 'skip') checkVariables(spec, ['drill', key], at);
  });
  return {
    name,
    builtIn: false,
    scratchRoot: raw.scratch_root ? path.resolve(baseDir, raw.scratch_root) : DEFAULT_SCRATCH_ROOT,
    baseDir,
    steps: { recovery: recovery.filter(Boolean), drill: drill.filter(Boolean) as StepSpec[] },
  };
}

/** Names as written, else the kind (the second of a kind is `kind-2`); a name used twice is an error. */
function stepNames(steps: RawStep[], at: At): string[] {
  const seen = new Map<string, number>();
  const names = steps.map((s) => {
    if (s.common.name) return s.common.name;
    const n = (seen.get(s.kind) ?? 0) + 1;
    seen.set(s.kind, n);
    return n === 1 ? s.kind : `${s.kind}-${n}`;
  });
  names.forEach((name, i) => {
    if (names.indexOf(name) < i) at(['steps', i], `step name "${name}" is used twice: name the steps apart (name: …)`);
  });
  return names;
}

function specOf(raw: RawStep, name: string, index: number, at: At): StepSpec {
  const where = ['steps', index] as Array<string | number>;
  const v = typeof raw.value === 'string' ? {} : raw.value;
  const spec: StepSpec = {
    name,
    kind: raw.kind,
    timeoutMs: raw.common.timeout ?? DEFAULT_TIMEOUT_MS[raw.kind],
    retries: raw.common.retries ?? 0,
    retryDelayMs: raw.common.retry_delay ?? 5000,
    onFailure: raw.common.on_failure ?? (raw.kind === 'notify' ? 'continue' : 'stop'),
    skip: false,
  };
  if (raw.kind === 'restore') {
    if (spec.retries > 0) at([...where, 'restore', 'retries'], 'a restore is not retried (a half-done restore is not safe to start again): use lifeboat recover --resume');
    spec.restore = { target: v.target as string, snapshot: v.snapshot as string | undefined, subpath: v.subpath as string | undefined };
  } else if (raw.kind === 'verify') {
    spec.verify = { format: (v.format as boolean) ?? true, sha256: (v.sha256 as boolean) ?? true, rowCounts: (v.row_counts as boolean) ?? true };
  } else if (raw.kind === 'notify') {
    spec.webhook = v.webhook as string;
  } else if (raw.kind === 'run') {
    spec.action = { type: 'run', command: raw.value as string };
  } else if (raw.kind === 'http') {
    spec.action = { type: 'http', request: httpSpec(raw.value as RawHttp) };
  } else {
    const given = ACTIONS.filter((a) => v[a] !== undefined);
    const allowed = raw.kind === 'switch' ? 'a gateway: { url, group }, a run: command or an http: request' : 'a run: command or an http: request';
    if (given.length !== 1) at([...where, raw.kind], given.length === 0 ? `a ${raw.kind} step needs ${allowed}` : `a ${raw.kind} step takes one of ${given.join(' and ')}, not both`);
    spec.action = actionOf(given[0], v);
  }
  return spec;
}

function actionOf(type: (typeof ACTIONS)[number] | undefined, v: Record<string, unknown>): StepAction | undefined {
  if (type === 'run') return { type: 'run', command: v.run as string };
  if (type === 'http') return { type: 'http', request: httpSpec(v.http as RawHttp) };
  if (type === 'gateway') {
    const g = v.gateway as { url: string; group: string; token_env?: string };
    return { type: 'gateway', url: g.url, group: g.group, tokenEnv: g.token_env ?? DEFAULT_GATEWAY_TOKEN_ENV };
  }
  return undefined;
}

function httpSpec(h: RawHttp): HttpSpec {
  const hasBody = h.json !== undefined || h.body !== undefined;
  return {
    url: h.url,
    method: h.method ?? (hasBody ? 'POST' : 'GET'),
    headers: h.headers ?? {},
    json: h.json,
    body: h.body,
    tokenEnv: h.token_env,
    expectStatus: h.expect_status === undefined ? undefined : [h.expect_status].flat(),
    expectBodyContains: h.expect_body_contains,
    maxLatencyMs: h.max_latency,
  };
}

/** The step as a drill runs it: the override for its name, else for its kind, merged over what it says. */
function drillSpec(raw: RawStep, name: string, overrides: Record<string, 'skip' | Record<string, unknown>>, at: At): StepSpec | undefined {
  const key = name in overrides ? name : raw.kind in overrides ? raw.kind : undefined;
  const override = key === undefined ? undefined : overrides[key];
  const silent: At = () => {};
  if (override === undefined) return specOf(raw, name, 0, silent);
  if (override === 'skip') return { ...specOf(raw, name, 0, silent), skip: true };
  const parsed = stepSchema.safeParse(mergedItem(raw, override));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) at(['drill', key!, ...issue.path.filter((p) => p !== raw.kind).map((p) => p as string | number)], issue.message);
    return undefined;
  }
  let problem = false;
  const spec = specOf(parsed.data, name, 0, (_, message) => {
    problem = true;
    at(['drill', key!], message);
  });
  return problem ? undefined : spec;
}

/** The step's own item with the override's keys in place of its own; an action given replaces the other actions. */
function mergedItem(raw: RawStep, override: Record<string, unknown>): Record<string, unknown> {
  const item: Record<string, unknown> = { ...definedOnly(raw.common) };
  let value: Record<string, unknown> | string = typeof raw.value === 'string' ? raw.value : { ...raw.value };
  for (const [k, v] of Object.entries(override)) {
    if ((COMMON_KEYS as string[]).includes(k)) item[k] = v;
    else if (raw.kind === 'run' && k === 'run') value = v as string;
    else if (typeof value === 'object') {
      if ((ACTIONS as readonly string[]).includes(k)) for (const a of ACTIONS) delete value[a];
      value[k] = v;
    } else value = { [k]: v } as Record<string, unknown>; // reported: a run step takes run: only
  }
  item[raw.kind] = value;
  return item;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Only the runbook variables in texts other than commands; a restore target cannot name the directory it makes. */
function checkVariables(spec: StepSpec, keyPath: Array<string | number>, at: At): void {
  mapTexts(spec, (text, shell, key) => {
    const allowed = key === 'target' ? VARIABLES.filter((v) => v !== 'restore_dir') : VARIABLES;
    if (!shell) for (const name of unknownVariables(text, allowed)) at(keyPath, `\${${name}} in ${key} is not a variable here (${allowed.map((v) => `\${${v}}`).join(', ')})`);
    return text;
  });
}

/** At most one restore, and a verify has a restore before it to check. */
function checkOrder(steps: StepSpec[], at: At): void {
  const restores = steps.map((s, i) => (s?.kind === 'restore' ? i : -1)).filter((i) => i >= 0);
  if (restores.length > 1) at(['steps', restores[1]], 'a runbook restores once: one restore step (a second asset has its own runbook run)');
  steps.forEach((s, i) => {
    if (s?.kind === 'verify' && !(restores[0] < i)) at(['steps', i], 'verify checks what a restore step restored: put a restore step before it');
  });
}

/**
 * The runbook that recovers `asset`: its own, else the built-in one (restore to its source path
 * and verify; a drill restores to scratch). Undefined when it names a runbook the set lacks.
 */
export function runbookFor(set: RunbookSet | undefined, asset: Asset, baseDir: string): Runbook | undefined {
  if (asset.runbook) return set?.runbooks.get(asset.runbook);
  const paths = asset.source?.kind === 'path' ? asset.source.paths : [];
  const restore = (target: string): StepSpec => ({ name: 'restore', kind: 'restore', retries: 0, retryDelayMs: 0, onFailure: 'stop', skip: false, restore: { target } });
  const verify: StepSpec = { name: 'verify', kind: 'verify', retries: 0, retryDelayMs: 0, onFailure: 'stop', skip: false, verify: { format: true, sha256: true, rowCounts: true } };
  // Several source paths have no one place to go back to: a recovery then needs a runbook saying where.
  const target = paths.length === 1 ? paths[0] : '';
  return { name: BUILT_IN, builtIn: true, scratchRoot: DEFAULT_SCRATCH_ROOT, baseDir, steps: { recovery: [restore(target), verify], drill: [restore(SCRATCH), verify] } };
}
