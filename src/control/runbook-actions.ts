/**
 * The steps that act on the outside world: a shell command, an HTTP request with its
 * expectations, the gateway's traffic switch (its admin API, over HTTP: control does not import
 * the gateway), a webhook. Each resolves with the output for the report or throws
 * StepFailedError saying what was expected and what came.
 */
import type { Clock } from '../base/clock.js';
import { adminUrl } from './preflight-endpoints.js';
import { StepFailedError } from './runbook-errors.js';
import { shownUrl, shownWebhook, tail, type HttpClient, type ShellRunner } from './runbook-io.js';
import type { HttpSpec } from './runbooks.js';

export interface ActionContext {
  http: HttpClient;
  shell: ShellRunner;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal: AbortSignal;
  onOutput(text: string): void;
}

export async function runCommand(command: string, env: Record<string, string>, ctx: ActionContext): Promise<string> {
  const result = await ctx.shell.run({ command, cwd: ctx.cwd, env: { ...ctx.env, ...env }, signal: ctx.signal, onOutput: ctx.onOutput });
  ctx.signal.throwIfAborted();
  if (result.code !== 0) {
    const how = result.code === null ? `was killed by ${result.signal}` : `exited with status ${result.code}`;
    const last = lastLine(result.output);
    throw new StepFailedError(`"${command}" ${how}${last ? `: ${last}` : ''}`, result.output);
  }
  return result.output;
}

function lastLine(output: string): string {
  const lines = output.trim().split('\n');
  return lines[lines.length - 1]?.slice(0, 300) ?? '';
}

/** Sends the request and checks status, body and latency. */
export async function runHttp(spec: HttpSpec, ctx: ActionContext): Promise<string> {
  const headers: Record<string, string> = { ...spec.headers };
  let body = spec.body;
  if (spec.json !== undefined) {
    body = JSON.stringify(spec.json);
    headers['content-type'] ??= 'application/json';
  }
  if (spec.tokenEnv) {
    const token = ctx.env[spec.tokenEnv];
    if (!token) throw new StepFailedError(`${spec.method} ${shownUrl(spec.url)} needs a token in ${spec.tokenEnv}, which is not set`);
    headers.authorization = `Bearer ${token}`;
  }
  const shownAt = `${spec.method} ${shownUrl(spec.url)}`;
  const started = ctx.clock.now();
  const res = await ctx.http.request({ method: spec.method, url: spec.url, headers, body, signal: ctx.signal });
  const ms = ctx.clock.now() - started;
  const shown = tail(res.body, 1000);
  const output = `HTTP ${res.status} in ${ms} ms\n${shown}`;
  const wanted = spec.expectStatus;
  const statusOk = wanted ? wanted.includes(res.status) : res.status >= 200 && res.status < 300;
  if (!statusOk) throw new StepFailedError(`${shownAt} answered HTTP ${res.status} (expected ${wanted ? wanted.join(' or ') : '2xx'}): ${shown.slice(0, 300)}`, output);
  if (spec.expectBodyContains !== undefined && !res.body.includes(spec.expectBodyContains)) {
    throw new StepFailedError(`${shownAt} answered without "${spec.expectBodyContains}": ${shown.slice(0, 300)}`, output);
  }
  if (spec.maxLatencyMs !== undefined && ms > spec.maxLatencyMs) {
    throw new StepFailedError(`${shownAt} took ${ms} ms, more than max_latency ${spec.maxLatencyMs} ms`, output);
  }
  return output;
}

/** `POST /admin/switch {"group"}`, then the gateway's own word that the group is primary. */
export async function switchGateway(url: string, group: string, tokenEnv: string, ctx: ActionContext): Promise<string> {
  const token = ctx.env[tokenEnv];
  if (!token) throw new StepFailedError(`switching the gateway needs its admin token in ${tokenEnv}, which is not set`);
  const res = await ctx.http.request({
    method: 'POST',
    url: adminUrl(url, '/admin/switch'),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ group }),
    signal: ctx.signal,
  });
  if (res.status !== 200) throw new StepFailedError(`the gateway at ${url} refused to switch to "${group}": HTTP ${res.status} ${res.body.slice(0, 300)}`, res.body);
  const state = JSON.parse(res.body) as { primary?: string; order?: string[] };
  if (state.primary !== group) throw new StepFailedError(`the gateway at ${url} switched, but its primary is "${state.primary}", not "${group}"`, res.body);
  return `gateway ${url}: "${group}" is primary now (order: ${(state.order ?? []).join(', ')})`;
}

/** Posts `message` and the report so far to a webhook (Slack-style `text`, and the report for machines). */
export async function notifyWebhook(webhook: string, message: string, report: unknown, ctx: ActionContext): Promise<string> {
  const res = await ctx.http.request({ method: 'POST', url: webhook, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: message, report }), signal: ctx.signal });
  if (res.status < 200 || res.status >= 300) throw new StepFailedError(`the webhook ${shownWebhook(webhook)} answered HTTP ${res.status}: ${res.body.slice(0, 300)}`, res.body);
  return `webhook answered HTTP ${res.status}`;
}
