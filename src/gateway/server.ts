/** The HTTP surface: maps method + path to a handler, and turns unexpected errors into a 500. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { handleAdmin } from './admin.js';
import type { GatewayContext } from './context.js';
import { sendJson, sendOpenAIError } from './http-util.js';
import { handleInference, handleModels } from './inference-handler.js';

export function createGatewayServer(ctx: GatewayContext): http.Server {
  const server = http.createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
    handle(ctx, req, res).catch((e: unknown) => {
      ctx.log(`internal error on ${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) sendOpenAIError(res, 500, `internal gateway error: ${(e as Error).message}`, 'server_error', 'internal_error');
      else res.destroy();
    });
  });
  // Long generations stream for minutes: the per-request deadline bounds them, not a socket timeout.
  server.requestTimeout = 0;
  return server;
}

async function handle(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';
  if (method === 'POST') {
    if (path === '/v1/chat/completions') return handleInference(ctx, req, res, 'chat', path);
    if (path === '/v1/completions') return handleInference(ctx, req, res, 'completions', path);
    if (path === '/v1/embeddings') return handleInference(ctx, req, res, 'embeddings', path);
  }
  if (method === 'GET' && path === '/v1/models') return handleModels(ctx, req, res);
  if (path.startsWith('/admin/')) return handleAdmin(ctx, req, res, path);
  if (method === 'GET' && path === '/metrics') {
    const text = await ctx.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
    res.end(text);
    return;
  }
  if (method === 'GET' && path === '/healthz') {
    const views = ctx.pool.view(ctx.now());
    const available = views.filter((v) => v.available).length;
    return sendJson(res, 200, { ok: true, upstreams: views.length, available });
  }
  sendOpenAIError(res, 404, `no route ${method} ${path}: the gateway serves /v1/chat/completions, /v1/completions, /v1/embeddings and /v1/models`, 'invalid_request_error', 'not_found');
}
