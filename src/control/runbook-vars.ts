/**
 * Variables in a runbook's text: `${asset}`, `${snapshot}` (the snapshot id restored) and
 * `${restore_dir}` (where the restore step put it). Any other `${…}` is left alone in a shell
 * command (it is the shell's, e.g. `${HOME}`) and is an error anywhere else.
 */
import type { StepSpec } from './runbooks.js';

export const VARIABLES = ['asset', 'snapshot', 'restore_dir'] as const;
export type VariableName = (typeof VARIABLES)[number];
export type Variables = Record<VariableName, string>;

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function substitute(text: string, vars: Variables): string {
  return text.replace(REFERENCE, (whole, name: string) => ((VARIABLES as readonly string[]).includes(name) ? vars[name as VariableName] : whole));
}

/** The `${name}`s in `text` that are not among `allowed`. */
export function unknownVariables(text: string, allowed: readonly string[] = VARIABLES): string[] {
  return [...text.matchAll(REFERENCE)].map((m) => m[1]).filter((name) => !allowed.includes(name));
}

/**
 * The step with `fill` applied to every text of it that takes variables; `shell` is true for a
 * command (whose other `${…}` are the shell's). One list of those texts for planning and checking.
 */
export function mapTexts(spec: StepSpec, fill: (text: string, shell: boolean, key: string) => string): StepSpec {
  const out: StepSpec = { ...spec };
  if (spec.restore) {
    const r = spec.restore;
    out.restore = { target: fill(r.target, false, 'target'), snapshot: r.snapshot && fill(r.snapshot, false, 'snapshot'), subpath: r.subpath && fill(r.subpath, false, 'subpath') };
  }
  if (spec.webhook) out.webhook = fill(spec.webhook, false, 'webhook');
  const a = spec.action;
  if (a?.type === 'run') out.action = { type: 'run', command: fill(a.command, true, 'run') };
  if (a?.type === 'gateway') out.action = { ...a, url: fill(a.url, false, 'gateway.url'), group: fill(a.group, false, 'gateway.group') };
  if (a?.type === 'http') {
    const r = a.request;
    const json = (v: unknown): unknown =>
      typeof v === 'string' ? fill(v, false, 'http.json') : Array.isArray(v) ? v.map(json) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)])) : v;
    out.action = {
      type: 'http',
      request: {
        ...r,
        url: fill(r.url, false, 'http.url'),
        headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, fill(v, false, `http.headers.${k}`)])),
        json: json(r.json),
        body: r.body === undefined ? undefined : fill(r.body, false, 'http.body'),
        expectBodyContains: r.expectBodyContains === undefined ? undefined : fill(r.expectBodyContains, false, 'http.expect_body_contains'),
      },
    };
  }
  return out;
}
