/** Test harness: fake upstreams in priority groups, a gateway in front of them, and an openai client. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startGateway, type Gateway } from '../../src/gateway/gateway.js';
import { parseGatewayConfig } from '../../src/gateway/load-config.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

export interface GroupSpec {
  readonly name: string;
  readonly role: 'primary' | 'standby' | 'degraded';
  readonly upstreams: readonly string[];
  /** YAML lines for a models map, e.g. `'"*": tiny-cpu'`. */
  readonly models?: readonly string[];
}

export interface Setup {
  readonly gw: Gateway;
  readonly fakes: Record<string, FakeUpstream>;
  readonly client: OpenAI;
  readonly dir: string;
  readonly logs: string[];
  /** Starts a second gateway on the same config (restart scenarios). */
  restart(): Promise<Gateway>;
  stop(): Promise<void>;
}

export const ADMIN_TOKEN = 'test-admin-token';

export async function setup(groups: readonly GroupSpec[], extraYaml = '', opts: { latencyMs?: number; chunkIntervalMs?: number; healthInterval?: string } = {}): Promise<Setup> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lifeboat-gw-'));
  const fakes: Record<string, FakeUpstream> = {};
  for (const g of groups) for (const u of g.upstreams) fakes[u] = await startFakeUpstream({ name: u, latencyMs: opts.latencyMs, chunkIntervalMs: opts.chunkIntervalMs });
  const yaml = [
    'gateway:',
    '  listen: 127.0.0.1:0',
    '  attempt_timeout: 400ms',
    '  deadline: 5s',
    `  health_check: { interval: ${opts.healthInterval ?? '100ms'}, timeout: 300ms, healthy_threshold: 2, unhealthy_threshold: 2 }`,
    '  outlier_detection: { consecutive_failures: 2, base_ejection: 2s, max_ejection: 10s }',
    '  groups:',
    ...groups.flatMap((g) => [
      `    - name: ${g.name}`,
      `      role: ${g.role}`,
      '      probe: { model: probe-model }',
      ...(g.models ? ['      models:', ...g.models.map((m) => `        ${m}`)] : []),
      '      upstreams:',
      ...g.upstreams.map((u) => `        - { name: ${u}, url: "${fakes[u].url}" }`),
    ]),
    extraYaml,
  ].join('\n');
  const file = path.join(dir, 'lifeboat.yaml');
  await writeFile(file, yaml);
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);
  let config: ReturnType<typeof parseGatewayConfig>;
  const gateways: Gateway[] = [];
  try {
    config = parseGatewayConfig(yaml, file, { LIFEBOAT_GATEWAY_TOKEN: ADMIN_TOKEN });
    gateways.push(await startGateway(config, { log, drainMs: 200 }));
  } catch (e) {
    for (const f of Object.values(fakes)) await f.close();
    throw e;
  }
  const gw = gateways[0];
  await gw.health.probeAll();
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'not-checked', maxRetries: 0, timeout: 10_000 });
  return {
    gw,
    fakes,
    client,
    dir,
    logs,
    async restart() {
      const g = await startGateway(config, { log, drainMs: 200 });
      gateways.push(g);
      return g;
    },
    async stop() {
      for (const g of gateways) await g.close();
      for (const f of Object.values(fakes)) await f.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 20 ms until it holds or `ms` pass; returns the time it took. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
  return Date.now() - start;
}

/** One chat completion through the openai client, returning the answer text and the gateway's headers. */
export async function ask(client: OpenAI, content: string, model = 'llama-70b') {
  const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
  return { text: data.choices[0].message.content ?? '', model: data.model, route: response.headers.get('x-lifeboat-route'), upstream: response.headers.get('x-lifeboat-upstream'), cache: response.headers.get('x-lifeboat-cache') };
}

export async function admin(gw: Gateway, method: 'GET' | 'POST', p: string, body?: unknown, token = ADMIN_TOKEN): Promise<{ status: number; json: any }> {
  const res = await fetch(`${gw.url}${p}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}
