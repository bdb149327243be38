/**
 * Browser sessions for the dashboard. A browser cannot put a bearer token on a page load or on an
 * EventSource, so a person signs in once with the token (a form POST: the token is in the body,
 * never in a URL or a log line) and gets a session cookie instead. The cookie holds a random id,
 * not the token: it is HttpOnly (page scripts never see it), SameSite=Strict (another site's pages
 * cannot use it), it expires, and a restart of `serve` ends every session. Requests that change
 * something must come from this origin as well (the Origin header, where the browser sends one).
 */
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';

/** How long a sign-in lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** More sessions than this and the oldest are dropped (only a person with the token can make one). */
const MAX_SESSIONS = 1000;

export interface Sessions {
  /** A new session: the Set-Cookie value to send. */
  create(req: http.IncomingMessage): string;
  /** Whether the request carries a live session cookie (and, for anything but GET and HEAD, comes from this origin). */
  valid(req: http.IncomingMessage): boolean;
  /** Ends the request's session; the Set-Cookie value that clears the cookie. */
  end(req: http.IncomingMessage): string;
}

/** The cookie's name names the port the request came in on: a browser shares cookies among every port of a host. */
export function cookieName(req: http.IncomingMessage): string {
  return `lifeboat_session_${req.socket.localPort ?? 0}`;
}

export function createSessions(now: () => number): Sessions {
  /** Digest of the id → expiry (epoch ms): the ids themselves are not kept. */
  const live = new Map<string, number>();
  const digest = (id: string) => createHash('sha256').update(id).digest('hex');
  const idOf = (req: http.IncomingMessage) => cookieValue(req.headers.cookie, cookieName(req));
  const attributes = 'Path=/; HttpOnly; SameSite=Strict';
  return {
    create(req) {
      const t = now();
      for (const [k, expires] of live) if (expires <= t) live.delete(k);
      while (live.size >= MAX_SESSIONS) live.delete(live.keys().next().value!);
      const id = randomBytes(32).toString('base64url');
      live.set(digest(id), t + SESSION_TTL_MS);
      return `${cookieName(req)}=${id}; ${attributes}; Max-Age=${SESSION_TTL_MS / 1000}`;
    },
    valid(req) {
      const id = idOf(req);
      if (!id) return false;
      const expires = live.get(digest(id));
      if (expires === undefined || expires <= now()) return false;
      return req.method === 'GET' || req.method === 'HEAD' || sameOrigin(req);
    },
    end(req) {
      const id = idOf(req);
      if (id) live.delete(digest(id));
      return `${cookieName(req)}=; ${attributes}; Max-Age=0`;
    },
  };
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * Whether a request comes from this server's own pages. Browsers say where a request comes from
 * (Sec-Fetch-Site, else Origin, which is "null" from a sandbox or under a no-referrer policy);
 * a client that says neither is not a browser, and a cookie is not what it signs in with.
 */
export function sameOrigin(req: http.IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return origin !== 'null' && new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
