/**
 * The HTTP face of `lifeboat serve`: the JSON API under /api/v1 (the same documents as the CLI's
 * --json), server-sent events for live progress, Prometheus /metrics, /healthz, and the dashboard's
 * files. Bearer-token auth on everything but /healthz whenever a token is set (a browser signs in
 * once with it and holds a session cookie instead: sessions.ts, signin.ts); a token is required
 * to listen anywhere but loopback. Every error is the one error document with its code's status.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorDocument, httpStatusOf } from '../base/error-codes.js';
import { LifeboatError } from '../base/errors.js';
import type { DrService } from '../control/service.js';
import type { Registry } from 'prom-client';
import { authorised, isLoopback } from './auth.js';
import { sendJson } from './http-util.js';
import { routeRequest, type ApiContext } from './routes.js';
import { createSessions } from './sessions.js';
import { sendSignInPage, signIn, signOut } from './signin.js';
import { isPagePath } from './static.js';

export interface ServerOptions {
  listen: { host: string; port: number };
  token?: string;
  api: Omit<ApiContext, 'service'>;
  service: DrService;
  metrics: Registry;
  /** Serves the dashboard's files; absent: / answers 404. */
  staticFiles?: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;
  log(line: string): void;
}

export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  if (!options.token && !isLoopback(options.listen.host)) {
    throw new LifeboatError('CONFIG', `refusing to listen on ${options.listen.host}:${options.listen.port} without a token: set LIFEBOAT_SERVE_TOKEN or serve.token_file, or listen on 127.0.0.1`);
  }
  const ctx: ApiContext = { ...options.api, service: options.service };
  const sessions = options.token ? createSessions(ctx.now) : undefined;
  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => sendError(res, err));
  });
  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-store');
    const url = new URL(req.url ?? '/', 'http://serve.invalid');
    if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true, host: options.service.host });
    if (req.method === 'POST' && url.pathname === '/signin' && options.token && sessions) return signIn(req, res, options.token, sessions);
    if (req.method === 'POST' && url.pathname === '/signout') return signOut(req, res, sessions);
    const bearer = options.token !== undefined && authorised(req.headers.authorization, options.token);
    if (options.token && !bearer && !sessions?.valid(req)) {
      // A person opening a dashboard page is asked for the token; anything else gets the error document.
      const page = options.staticFiles && (req.method === 'GET' || req.method === 'HEAD') && isPagePath(url.pathname);
      if (page) return sendSignInPage(res, url.pathname);
      res.setHeader('www-authenticate', 'Bearer realm="lifeboat"');
      throw new LifeboatError('UNAUTHORIZED', 'a bearer token is required: send "Authorization: Bearer <LIFEBOAT_SERVE_TOKEN>", or sign in to the dashboard');
    }
    if (url.pathname === '/api/v1/session' && req.method === 'GET') {
      return sendJson(res, 200, { auth: options.token ? 'token' : 'none', via: options.token ? (bearer ? 'bearer' : 'session') : null });
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      const body = await options.metrics.metrics();
      res.writeHead(200, { 'content-type': options.metrics.contentType });
      return void res.end(body);
    }
    if (url.pathname.startsWith('/api/')) return routeRequest(ctx, req, res, url);
    if (options.staticFiles && (await options.staticFiles(req, res))) return;
    throw new LifeboatError('NOT_FOUND_ROUTE', `no such page: ${req.method} ${url.pathname}`);
  }
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new LifeboatError('CONFIG', `cannot listen on ${options.listen.host}:${options.listen.port}: ${err.code === 'EADDRINUSE' ? 'the address is in use' : err.message}`, { cause: err })));
    server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    async close() {
      server.closeIdleConnections();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      setTimeout(() => server.closeAllConnections(), 2000).unref();
      await closed;
    },
  };
}

function sendError(res: http.ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  sendJson(res, httpStatusOf(err), errorDocument(err));
}
