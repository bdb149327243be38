/**
 * One HTTP attempt against one upstream, resolved when the response headers arrive. The response body is
 * left unread so the caller can stream it through (SSE) without buffering.
 */
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { UpstreamConfig } from './config.js';

export type AttemptOutcome =
  | { readonly ok: true; readonly res: IncomingMessage; readonly req: ClientRequest }
  | { readonly ok: false; readonly error: string; /** false for a stale pooled socket: not the upstream's fault */ readonly countsAsFailure: boolean };

export interface AttemptSpec {
  readonly upstream: UpstreamConfig;
  readonly agent: http.Agent | false;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: Buffer;
  /** Time allowed until the response headers. */
  readonly timeoutMs: number;
  readonly accept?: string;
}

// Parsing the base URL once per upstream, not per request (it showed in profiles). Keyed by the config object.
const parsed = new WeakMap<UpstreamConfig, URL>();
function baseUrl(u: UpstreamConfig): URL {
  let url = parsed.get(u);
  if (!url) parsed.set(u, (url = new URL(u.url)));
  return url;
}

export function attemptUpstream(spec: AttemptSpec): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    const url = baseUrl(spec.upstream);
    const headers: http.OutgoingHttpHeaders = { accept: spec.accept ?? 'application/json' };
    if (spec.body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = spec.body.length;
    }
    if (spec.upstream.apiKey) headers.authorization = `Bearer ${spec.upstream.apiKey}`;
    const mod = url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (o: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = mod.request(
      { hostname: url.hostname, port: url.port, path: url.pathname.replace(/\/$/, '') + spec.path, method: spec.method, headers, agent: spec.agent },
      (res) => finish({ ok: true, res, req }),
    );
    const timer = setTimeout(() => {
      finish({ ok: false, error: `no response within ${spec.timeoutMs} ms`, countsAsFailure: true });
      req.destroy();
    }, spec.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && e.code === 'ECONNRESET';
      finish({ ok: false, error: `${e.code ?? 'error'}: ${e.message}`, countsAsFailure: !stale });
    });
    req.end(spec.body);
  });
}

/** Statuses worth trying elsewhere: the upstream is broken or overloaded, not the request. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'date', 'server']);

/** Upstream response headers worth passing to the client. */
export function passThroughHeaders(res: IncomingMessage): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}
