/**
 * POST /v1/chat/completions, /v1/completions, /v1/embeddings and GET /v1/models: route through the
 * priority groups, stream the chosen upstream's answer through unbuffered, fall back to the response
 * cache, and answer 503 in OpenAI's error format when nothing can answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { cacheKey, type Endpoint } from './cache-key.js';
import type { GatewayContext } from './context.js';
import { dispatch, type Committed } from './dispatch.js';
import { BodyTooLargeError, readBody, sendOpenAIError } from './http-util.js';
import { completionToSse, sseError } from './sse.js';
import { passThroughHeaders } from './upstream-call.js';

const DEADLINE_HEADER = 'x-lifeboat-deadline-ms';

export async function handleInference(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, path: string): Promise<void> {
  const started = ctx.now();
  track(ctx, res, endpoint, started);
  let raw: Buffer;
  try {
    raw = await readBody(req, ctx.config.maxBodyBytes);
  } catch (e) {
    if (e instanceof BodyTooLargeError) sendOpenAIError(res, 413, `${e.message}; raise gateway.max_body_bytes if this is expected`, 'invalid_request_error', 'body_too_large');
    return;
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
  } catch {
    return sendOpenAIError(res, 400, 'the request body is not a JSON object', 'invalid_request_error', 'invalid_json');
  }
  if (typeof body.model !== 'string' || !body.model) return sendOpenAIError(res, 400, 'the request has no "model"', 'invalid_request_error', 'missing_model');
  const stream = body.stream === true;
  const key = ctx.cache ? cacheKey(endpoint, body) : undefined;

  if (key && ctx.config.cache?.serve === 'always' && serveFromCache(ctx, res, key, stream)) return;
  ctx.budget.recordRequest(started);
  const result = await dispatch(ctx, { method: 'POST', path, model: body.model, rawBody: raw, body, deadline: deadlineOf(ctx, req, started), stream });
  if (result.ok) return relay(ctx, res, result, key && !stream ? { key, endpoint } : undefined, deadlineOf(ctx, req, started));
  if (key && ctx.config.cache?.serve !== 'always' && serveFromCache(ctx, res, key, stream)) return;
  unavailable(res, result.reasons);
}

export async function handleModels(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = ctx.now();
  track(ctx, res, 'models', started);
  ctx.budget.recordRequest(started);
  const deadline = deadlineOf(ctx, req, started);
  const result = await dispatch(ctx, { method: 'GET', path: '/v1/models', model: undefined, deadline, stream: false });
  if (result.ok) return relay(ctx, res, result, undefined, deadline);
  unavailable(res, result.reasons);
}

function deadlineOf(ctx: GatewayContext, req: IncomingMessage, started: number): number {
  const asked = Number(req.headers[DEADLINE_HEADER]);
  const ms = Number.isFinite(asked) && asked > 0 ? Math.min(asked, ctx.config.deadlineMs) : ctx.config.deadlineMs;
  return started + ms;
}

function unavailable(res: ServerResponse, reasons: readonly string[]): void {
  res.setHeader('x-lifeboat-route', 'none');
  sendOpenAIError(
    res,
    503,
    `no upstream could answer and the cache has no answer for this request: ${reasons.join('; ')}`,
    'service_unavailable',
    'no_upstream_available',
    { 'retry-after': '5' },
  );
}

/** Counts the request in the metrics once the response is done, whatever path answered it. */
function track(ctx: GatewayContext, res: ServerResponse, endpoint: string, started: number): void {
  res.once('close', () => {
    const route = String(res.getHeader('x-lifeboat-route') ?? 'none');
    ctx.metrics.request(route, res.statusCode, endpoint, (ctx.now() - started) / 1000);
  });
}

function serveFromCache(ctx: GatewayContext, res: ServerResponse, key: string, stream: boolean): boolean {
  const entry = ctx.cache!.get(key, ctx.now());
  ctx.metrics.cacheLookup(entry !== undefined);
  if (!entry) return false;
  res.setHeader('x-lifeboat-route', 'cache'); // set on the response object so track() can read it
  const headers = {
    'x-lifeboat-upstream': entry.upstream,
    'x-lifeboat-cache': 'hit',
    age: String(Math.floor((ctx.now() - entry.createdAt) / 1000)),
  };
  const sse = stream && entry.endpoint !== 'embeddings';
  const text = sse ? completionToSse(entry.body) : entry.body;
  res.writeHead(200, { ...headers, 'content-type': sse ? 'text/event-stream' : 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}

/** Streams the committed upstream response to the client; records the outcome and, if asked, caches the body. */
function relay(ctx: GatewayContext, res: ServerResponse, c: Committed, record: { key: string; endpoint: Endpoint } | undefined, deadline: number): void {
  const { pool } = ctx;
  const name = c.candidate.upstream.name;
  const up = c.res;
  if (res.destroyed) {
    // The client left while the upstream was thinking: free the upstream instead of reading for nobody.
    c.req.destroy();
    pool.end(name);
    return;
  }
  const isSse = String(up.headers['content-type'] ?? '').includes('text/event-stream');
  res.setHeader('x-lifeboat-route', c.candidate.route); // set on the response object so track() can read it
  res.writeHead(up.statusCode ?? 502, { ...passThroughHeaders(up), 'x-lifeboat-upstream': name });
  if (isSse) res.flushHeaders();
  const keep = record && up.statusCode === 200 && c.candidate.route !== 'degraded' && ctx.cache && ctx.config.cache?.record;
  const chunks: Buffer[] | undefined = keep ? [] : undefined;
  let done = false;
  const timer = setTimeout(() => fail(`request deadline of ${ctx.config.deadlineMs} ms reached`), Math.max(0, deadline - ctx.now()));
  const finish = () => {
    done = true;
    clearTimeout(timer);
    pool.end(name);
  };
  const fail = (why: string) => {
    if (done) return;
    finish();
    pool.requestFailed(name, ctx.now(), why);
    c.req.destroy();
    if (isSse && !res.writableEnded) res.end(sseError(`the upstream stream broke off: ${why}`, 'upstream_stream_failed'));
    else res.destroy();
  };
  up.on('data', (chunk: Buffer) => {
    chunks?.push(chunk);
    if (!res.write(chunk)) {
      up.pause();
      res.once('drain', () => up.resume());
    }
  });
  up.on('end', () => {
    if (done) return;
    finish();
    pool.requestSucceeded(name, ctx.now());
    res.end();
    if (chunks && ctx.cache) ctx.cache.put({ key: record!.key, endpoint: record!.endpoint, body: Buffer.concat(chunks).toString('utf8'), upstream: name }, ctx.now());
  });
  up.on('error', (e) => fail(e.message));
  up.on('close', () => {
    if (!up.complete) fail('connection closed before the response was complete');
  });
  // The client went away: stop the upstream generating for nobody.
  res.on('close', () => {
    if (done) return;
    finish();
    c.req.destroy();
  });
}
