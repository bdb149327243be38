/**
 * The HTTP the DR plane sends out — alert webhooks and dead-man pings — behind one small
 * interface, injected, so tests see exactly what was sent and a slow endpoint never holds a job.
 * A failure to notify is reported, never thrown into the job it reports on.
 */
export interface HttpClient {
  /** POSTs `body` as JSON (or GETs with no body); resolves to the status, rejects on network errors and timeouts. */
  send(url: string, body?: unknown, timeoutMs?: number): Promise<number>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export const fetchClient: HttpClient = {
  async send(url, body, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const res = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined); // free the connection
    return res.status;
  },
};

/** Sends and never throws: the error (or a non-2xx status) comes back as a sentence for a log line. */
export async function trySend(http: HttpClient, url: string, body?: unknown): Promise<string | undefined> {
  try {
    const status = await http.send(url, body);
    return status >= 200 && status < 300 ? undefined : `${redactUrl(url)} answered ${status}`;
  } catch (err) {
    return `${redactUrl(url)} could not be reached: ${(err as Error).message}`;
  }
}

/** A URL for a log line: webhook and ping URLs carry their secret in the path or query, so only the origin is shown. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(an invalid URL)';
  }
}
