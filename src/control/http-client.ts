/**
 * Notifications the DR plane sends out — alert webhooks and dead-man pings — through the same
 * injected HTTP client as runbook steps (runbook-io.ts), so tests see exactly what was sent. A
 * failure to notify is reported, never thrown into the job it reports on.
 */
import { shownWebhook, type HttpClient } from './runbook-io.js';

export { fetchClient, type HttpClient } from './runbook-io.js';

const NOTIFY_TIMEOUT_MS = 10_000;

/** POSTs `body` as JSON (GETs with none) and never throws: the problem comes back as a sentence for a log line. */
export async function trySend(http: HttpClient, url: string, body?: unknown): Promise<string | undefined> {
  try {
    const res = await http.request({
      method: body === undefined ? 'GET' : 'POST',
      url,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS),
    });
    return res.status >= 200 && res.status < 300 ? undefined : `${shownWebhook(url)} answered ${res.status}`;
  } catch (err) {
    return `${shownWebhook(url)} could not be reached: ${(err as Error).message}`;
  }
}
