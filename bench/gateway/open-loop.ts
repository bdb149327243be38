/**
 * An open-loop load generator for the failover and switch measurements: it sends at a fixed rate whatever
 * the answers do (so an outage cannot slow the offered load down) and records, per request, when it was
 * sent and answered, its status and the gateway's x-lifeboat-route header. autocannon cannot report headers.
 */
import http from 'node:http';

export interface Sample {
  readonly sentAt: number;
  readonly doneAt: number;
  readonly status: number;
  readonly route: string;
}

export async function openLoop(url: string, body: string, ratePerSec: number, durationMs: number, events: { atMs: number; run: () => Promise<unknown> }[] = []): Promise<Sample[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const samples: Sample[] = [];
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const target = new URL(url);
  const one = () =>
    new Promise<void>((resolve) => {
      const sentAt = performance.now() - t0;
      const req = http.request({ hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => {
          samples.push({ sentAt, doneAt: performance.now() - t0, status: res.statusCode ?? 0, route: String(res.headers['x-lifeboat-route'] ?? '') });
          resolve();
        });
      });
      req.on('error', () => {
        samples.push({ sentAt, doneAt: performance.now() - t0, status: 0, route: 'error' });
        resolve();
      });
      req.end(body);
    });
  const scheduled = events.map((e) => new Promise<void>((r) => setTimeout(() => void e.run().then(() => r()), e.atMs)));
  const intervalMs = 1000 / ratePerSec;
  let sent = 0;
  while (performance.now() - t0 < durationMs) {
    const due = Math.floor((performance.now() - t0) / intervalMs);
    while (sent < due) {
      pending.push(one());
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all([...pending, ...scheduled]);
  agent.destroy();
  return samples.sort((a, b) => a.sentAt - b.sentAt);
}
