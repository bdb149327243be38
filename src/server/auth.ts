/** Bearer-token checks for the serve API, and what counts as a loopback address. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** `Authorization: Bearer TOKEN`, compared in constant time (digests of equal length). */
export function authorised(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** HOST:PORT (or [v6]:PORT) as given to --listen. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new Error(`--listen takes HOST:PORT such as 127.0.0.1:8080, not "${value}"`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}
