/**
 * The admin API, for people and runbooks (the drills' `switch` step calls it). Every call needs
 * `Authorization: Bearer <token>`, the token being read from the environment variable named by
 * gateway.admin.token_env; without that variable set, the admin API refuses everything.
 *
 *   GET  /admin/state                      groups in priority order, every upstream's state, cache stats
 *   POST /admin/upstreams/NAME/drain       no new requests to NAME; in-flight ones finish
 *   POST /admin/upstreams/NAME/undrain
 *   POST /admin/switch   {"group": G}      G becomes the primary group; the old primary the first standby
 *   POST /admin/cache/purge
 *   POST /admin/cache/warm {"file": F} | {"queries": [...]}
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readWarmFile, toQuery, warmCache, type WarmQuery } from './cache-warm.js';
import type { GatewayContext } from './context.js';
import { GatewayError, InvalidAdminRequestError, UnknownTargetError } from './errors.js';
import { readBody, sendJson } from './http-util.js';

export async function handleAdmin(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  if (!ctx.config.adminToken) {
    return adminError(res, 403, 'admin_disabled', `the admin API is off: set the environment variable ${ctx.config.adminTokenEnv} to a token before starting the gateway`);
  }
  if (!authorised(req.headers.authorization, ctx.config.adminToken)) {
    return adminError(res, 401, 'unauthorized', `send the admin token as "Authorization: Bearer <token>" (the value of ${ctx.config.adminTokenEnv})`);
  }
  try {
    const body = req.method === 'POST' ? await readJson(req) : {};
    const out = route(ctx, req.method ?? 'GET', path, body);
    sendJson(res, 200, out instanceof Promise ? await out : out);
  } catch (e) {
    if (e instanceof UnknownTargetError) return adminError(res, 404, e.code, e.message);
    if (e instanceof GatewayError) return adminError(res, 400, e.code, e.message);
    throw e;
  }
}

function route(ctx: GatewayContext, method: string, path: string, body: Record<string, unknown>): unknown {
  const now = ctx.now();
  if (method === 'GET' && path === '/admin/state') return state(ctx);
  const drain = /^\/admin\/upstreams\/([^/]+)\/(drain|undrain)$/.exec(path);
  if (method === 'POST' && drain) {
    ctx.pool.setDrained(decodeURIComponent(drain[1]), drain[2] === 'drain', now);
    return state(ctx);
  }
  if (method === 'POST' && path === '/admin/switch') {
    if (typeof body.group !== 'string') throw new InvalidAdminRequestError('send {"group": "<name>"}: the group to make primary');
    ctx.pool.switchPrimary(body.group);
    return state(ctx);
  }
  if (method === 'POST' && path === '/admin/cache/purge') return { purged: requireCache(ctx).purge() };
  if (method === 'POST' && path === '/admin/cache/warm') return Promise.resolve(warmQueries(body)).then((qs) => warmCache(ctx, qs));
  throw new UnknownTargetError(`no admin endpoint ${method} ${path}; see docs/gateway.md`);
}

function warmQueries(body: Record<string, unknown>): WarmQuery[] | Promise<WarmQuery[]> {
  if (typeof body.file === 'string') return readWarmFile(body.file);
  if (Array.isArray(body.queries)) return body.queries.map((q, i) => toQuery(q, `queries[${i}]`));
  throw new InvalidAdminRequestError('send {"file": "<path of a JSON lines file>"} or {"queries": [<request bodies>]}');
}

function state(ctx: GatewayContext) {
  const now = ctx.now();
  const views = ctx.pool.view(now);
  return {
    order: ctx.pool.order(),
    primary: views.find((v) => v.route === 'primary')?.group,
    upstreams: views,
    retryBudget: ctx.budget.snapshot(now),
    cache: ctx.cache ? ctx.cache.stats() : null,
  };
}

function requireCache(ctx: GatewayContext) {
  if (!ctx.cache) throw new InvalidAdminRequestError('the gateway has no cache: add a cache: section under gateway: in lifeboat.yaml');
  return ctx.cache;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, 1024 * 1024);
  if (raw.length === 0) return {};
  try {
    const v = JSON.parse(raw.toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new InvalidAdminRequestError('the request body is not a JSON object');
}

function authorised(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

function adminError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { message, type: 'admin_error', code } });
}
