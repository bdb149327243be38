/**
 * Tries the planned upstreams in priority order until one answers with a status worth passing on.
 * A request moves on only before anything was sent to the client, only within the per-request deadline
 * and max_attempts, and only while the retry budget allows: an outage must not multiply the load.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { GatewayContext } from './context.js';
import type { Candidate } from './routing-table.js';
import { attemptUpstream, isRetryableStatus } from './upstream-call.js';

export interface Committed {
  readonly ok: true;
  readonly candidate: Candidate;
  readonly res: IncomingMessage;
  readonly req: ClientRequest;
  readonly startedAt: number;
}

export interface Exhausted {
  readonly ok: false;
  /** One line per attempt or reason for stopping, for the 503 message and logs. */
  readonly reasons: readonly string[];
}

export interface DispatchSpec {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** The client's model name; undefined for model-less endpoints. */
  readonly model: string | undefined;
  readonly rawBody?: Buffer;
  readonly body?: Record<string, unknown>;
  readonly deadline: number;
  readonly stream: boolean;
  /** Skip degraded groups (cache warming). */
  readonly liveOnly?: boolean;
}

export async function dispatch(ctx: GatewayContext, spec: DispatchSpec): Promise<Committed | Exhausted> {
  const { pool, budget, metrics, config } = ctx;
  const candidates = pool.plan(spec.model, ctx.now(), spec.liveOnly);
  const reasons: string[] = [];
  if (candidates.length === 0) reasons.push('no upstream is available (all unhealthy, ejected or drained)');
  let attempts = 0;
  let previous: Candidate | undefined;
  for (const candidate of candidates) {
    if (attempts >= config.retries.maxAttempts) {
      reasons.push(`stopped after max_attempts=${config.retries.maxAttempts}`);
      break;
    }
    if (attempts > 0 && !budget.tryRetry(ctx.now())) {
      metrics.retryDenied();
      reasons.push('retry budget spent');
      break;
    }
    if (previous) metrics.failover(previous.route, candidate.route);
    attempts++;
    previous = candidate;
    const result = await attemptOnce(ctx, spec, candidate, reasons);
    if (result) return result;
    if (ctx.now() >= spec.deadline) {
      reasons.push('request deadline reached');
      break;
    }
  }
  return { ok: false, reasons };
}

async function attemptOnce(ctx: GatewayContext, spec: DispatchSpec, candidate: Candidate, reasons: string[]): Promise<Committed | undefined> {
  const { pool } = ctx;
  const u = candidate.upstream;
  const body = spec.method === 'POST' ? bodyFor(spec, candidate) : undefined;
  // A stale pooled keep-alive socket is not the upstream's fault: try the same upstream once more.
  for (let tries = 0; tries < 2; tries++) {
    const startedAt = ctx.now();
    const timeoutMs = Math.min(ctx.config.attemptTimeoutMs, spec.deadline - startedAt);
    if (timeoutMs <= 0) return undefined;
    pool.begin(u.name);
    const out = await attemptUpstream({ upstream: u, agent: pool.agent(u), method: spec.method, path: spec.path, body, timeoutMs, accept: spec.stream ? 'text/event-stream' : undefined });
    if (out.ok) {
      const status = out.res.statusCode ?? 502;
      ctx.metrics.upstreamLatency(u.name, (ctx.now() - startedAt) / 1000);
      if (!isRetryableStatus(status)) return { ok: true, candidate, res: out.res, req: out.req, startedAt };
      out.res.resume();
      pool.end(u.name);
      // 429 means busy, not broken: move on without counting towards ejection.
      if (status !== 429) pool.requestFailed(u.name, ctx.now(), `HTTP ${status}`);
      reasons.push(`${u.name} (${candidate.route}): HTTP ${status}`);
      return undefined;
    }
    pool.end(u.name);
    if (out.countsAsFailure) {
      pool.requestFailed(u.name, ctx.now(), out.error);
      reasons.push(`${u.name} (${candidate.route}): ${out.error}`);
      return undefined;
    }
  }
  reasons.push(`${u.name} (${candidate.route}): connection reset twice`);
  return undefined;
}

/** The request body for one candidate: the client's bytes unless the group maps the model to another name. */
function bodyFor(spec: DispatchSpec, candidate: Candidate): Buffer | undefined {
  if (!spec.body || spec.model === undefined || candidate.model === spec.model) return spec.rawBody;
  return Buffer.from(JSON.stringify({ ...spec.body, model: candidate.model }));
}
