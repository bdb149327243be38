/**
 * Active health checks: every interval, each upstream gets a real tiny request (by default a one-token
 * chat completion), on a fresh connection so a dead listener is seen at once. Results feed the pool's
 * healthy/unhealthy thresholds. Drained upstreams are still probed, so the admin API shows their health.
 */
import type { UpstreamConfig } from './config.js';
import { attemptUpstream } from './upstream-call.js';
import type { UpstreamPool } from './upstream-pool.js';

export interface HealthChecker {
  /** Probes every upstream once now and waits for the results (used at start and by tests). */
  probeAll(): Promise<void>;
  stop(): void;
}

export function startHealthChecker(pool: UpstreamPool, opts: { intervalMs: number; timeoutMs: number; now: () => number }): HealthChecker {
  let stopped = false;
  const running = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();
  const probeOne = async (u: UpstreamConfig) => {
    if (running.has(u.name)) return; // the previous probe is still waiting for its timeout
    running.add(u.name);
    const error = await probe(u, opts.timeoutMs).finally(() => running.delete(u.name));
    if (stopped) return;
    const edge = error === undefined ? pool.probeSucceeded(u.name, opts.now()) : pool.probeFailed(u.name, opts.now(), `health probe: ${error}`);
    schedule(u, edge ? Math.max(10, Math.floor(opts.intervalMs / 4)) : opts.intervalMs);
  };
  // Each upstream on its own timer, so one slow probe never delays the others. While an upstream is
  // between states (some probes failed but not yet the threshold, or the reverse), the next probe comes at
  // a quarter interval, like Envoy's edge intervals: a dead primary is confirmed in ~1.25 intervals, not 2.
  const schedule = (u: UpstreamConfig, ms: number) => {
    clearTimeout(timers.get(u.name));
    const t = setTimeout(() => void probeOne(u), ms);
    t.unref();
    timers.set(u.name, t);
  };
  const probeAll = async () => {
    await Promise.all(pool.upstreams.map(probeOne));
  };
  for (const u of pool.upstreams) schedule(u, opts.intervalMs);
  return {
    probeAll,
    stop() {
      stopped = true;
      timers.forEach((t) => clearTimeout(t));
    },
  };
}

/** undefined when the upstream answered the probe properly; otherwise what went wrong. */
export async function probe(u: UpstreamConfig, timeoutMs: number): Promise<string | undefined> {
  const { endpoint, model } = u.probe;
  const spec = probeRequest(endpoint, model);
  const out = await attemptUpstream({ upstream: u, agent: false, method: spec.body ? 'POST' : 'GET', path: spec.path, body: spec.body, timeoutMs });
  if (!out.ok) return out.error;
  const text = await readAll(out.res, timeoutMs).catch((e: Error) => e);
  if (text instanceof Error) return `reading the answer: ${text.message}`;
  if (out.res.statusCode !== 200) return `HTTP ${out.res.statusCode}`;
  try {
    const json = JSON.parse(text) as { choices?: unknown[]; data?: unknown[] };
    if (!Array.isArray(json.choices ?? json.data)) return 'the answer has neither choices nor data';
  } catch {
    return 'the answer is not JSON';
  }
  return undefined;
}

function probeRequest(endpoint: UpstreamConfig['probe']['endpoint'], model: string): { path: string; body?: Buffer } {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  switch (endpoint) {
    case 'chat':
      return { path: '/v1/chat/completions', body: json({ model, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1, temperature: 0 }) };
    case 'completions':
      return { path: '/v1/completions', body: json({ model, prompt: 'ping', max_tokens: 1, temperature: 0 }) };
    case 'embeddings':
      return { path: '/v1/embeddings', body: json({ model, input: 'ping' }) };
    case 'models':
      return { path: '/v1/models' };
  }
}

function readAll(res: import('node:http').IncomingMessage, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const t = setTimeout(() => {
      res.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}
