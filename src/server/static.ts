/**
 * The dashboard's files: the build of web/ (committed in web/dist, shipped in the package, so
 * `npx lifeboat serve` needs no build step). They are read once at start-up, kept in memory with
 * a gzip copy (they are small), and served at /static/…; every page of the single-page app (/,
 * /assets/NAME, /drills, /drills/REPORT, /jobs) is its index.html. The server's auth is in front of all of it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** web/dist of the package (this file is dist/src/server/static.js once compiled). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Headers on every page the dashboard serves: never framed, no referrer sent elsewhere (same-origin keeps the Origin header that sessions check). */
export const SECURITY_HEADERS = {
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
} as const;

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The paths of the dashboard's pages (the single-page app's routes). */
export function isPagePath(pathname: string): boolean {
  return pathname === '/' || pathname === '/drills' || pathname === '/jobs' || /^\/(assets|drills)\/[^/]+$/.test(pathname);
}

interface File {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  /** Content-hashed names never change content: the browser may keep them. */
  immutable: boolean;
}

export type StaticHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean>;

/** Loads the build in `dir`; undefined when it has no index.html (a checkout that never built web/). */
export async function loadDashboard(dir: string = DASHBOARD_DIR): Promise<StaticHandler | undefined> {
  const files = new Map<string, File>();
  for (const rel of await listFiles(dir)) {
    const body = await fs.readFile(path.join(dir, rel));
    const type = TYPES[path.extname(rel)] ?? 'application/octet-stream';
    const gzip = /^(text|image\/svg|application\/json)/.test(type) ? gzipSync(body, { level: 9 }) : undefined;
    files.set(`/${rel.split(path.sep).join('/')}`, {
      body,
      gzip: gzip && gzip.length < body.length ? gzip : undefined,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable: rel.startsWith(`static${path.sep}`),
    });
  }
  const index = files.get('/index.html');
  if (!index) return undefined;
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const pathname = new URL(req.url ?? '/', 'http://serve.invalid').pathname;
    const file = isPagePath(pathname) ? index : pathname === '/index.html' ? undefined : files.get(pathname);
    if (!file) return false;
    send(req, res, file);
    return true;
  };
}

function send(req: http.IncomingMessage, res: http.ServerResponse, file: File): void {
  const gzip = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? file.gzip : undefined;
  const headers: http.OutgoingHttpHeaders = {
    ...SECURITY_HEADERS,
    'content-security-policy': CSP,
    'content-type': file.type,
    etag: file.etag,
    vary: 'accept-encoding',
    'cache-control': file.immutable ? 'private, max-age=31536000, immutable' : 'no-cache',
  };
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, headers);
    return void res.end();
  }
  const body = gzip ?? file.body;
  res.writeHead(200, { ...headers, 'content-length': body.length, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, prefix), { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const out: string[] = [];
  for (const e of entries) {
    const rel = path.join(prefix, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}
