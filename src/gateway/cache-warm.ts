/**
 * Pre-warming the response cache from a file of common queries. Each query is asked of the live groups
 * (never the degraded one: its answers are not the ones to replay) and the answer is stored.
 * File format: JSON lines, or one JSON array; an item is a request body, or { "endpoint": ..., "body": ... }.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { cacheKey, type Endpoint } from './cache-key.js';
import type { GatewayContext } from './context.js';
import { dispatch } from './dispatch.js';
import { GatewayError } from './errors.js';

export interface WarmQuery {
  readonly endpoint: Endpoint;
  readonly body: Record<string, unknown>;
}

export interface WarmReport {
  readonly warmed: number;
  readonly failed: { readonly index: number; readonly reason: string }[];
}

export const ENDPOINT_PATHS: Record<Endpoint, string> = { chat: '/v1/chat/completions', completions: '/v1/completions', embeddings: '/v1/embeddings' };

export async function readWarmFile(file: string): Promise<WarmQuery[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new GatewayError(`cannot read the cache warm file ${file}: ${(cause as Error).message}`, { cause });
  }
  const trimmed = text.trim();
  let items: unknown[];
  try {
    items = trimmed.startsWith('[') ? (JSON.parse(trimmed) as unknown[]) : trimmed.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
  } catch (cause) {
    throw new GatewayError(`the cache warm file ${file} is neither JSON lines nor a JSON array: ${(cause as Error).message}`, { cause });
  }
  return items.map((item, i) => toQuery(item, `${file} item ${i + 1}`));
}

/** Accepts a request body, or { endpoint, body }; the endpoint is inferred from messages / prompt / input. */
export function toQuery(item: unknown, where: string): WarmQuery {
  if (!item || typeof item !== 'object') throw new GatewayError(`${where} is not a JSON object`);
  const o = item as Record<string, unknown>;
  const body = (o.body && typeof o.body === 'object' ? o.body : o) as Record<string, unknown>;
  const endpoint = (o.endpoint as Endpoint | undefined) ?? ('messages' in body ? 'chat' : 'prompt' in body ? 'completions' : 'input' in body ? 'embeddings' : undefined);
  if (!endpoint || !(endpoint in ENDPOINT_PATHS)) throw new GatewayError(`${where}: cannot tell the endpoint; give "endpoint": "chat" | "completions" | "embeddings"`);
  if (typeof body.model !== 'string') throw new GatewayError(`${where} has no "model"`);
  return { endpoint, body };
}

export async function warmCache(ctx: GatewayContext, queries: readonly WarmQuery[]): Promise<WarmReport> {
  if (!ctx.cache) throw new GatewayError('the gateway has no cache: add a cache: section under gateway: in lifeboat.yaml');
  const failed: { index: number; reason: string }[] = [];
  let warmed = 0;
  for (const [index, q] of queries.entries()) {
    const body: Record<string, unknown> = { ...q.body, stream: false };
    const rawBody = Buffer.from(JSON.stringify(body));
    const now = ctx.now();
    const r = await dispatch(ctx, { method: 'POST', path: ENDPOINT_PATHS[q.endpoint], model: body.model as string, rawBody, body, deadline: now + ctx.config.deadlineMs, stream: false, liveOnly: true });
    if (!r.ok) {
      failed.push({ index, reason: r.reasons.join('; ') });
      continue;
    }
    const name = r.candidate.upstream.name;
    const text = await readText(r.res).catch((e: Error) => e);
    ctx.pool.end(name);
    if (text instanceof Error) {
      ctx.pool.requestFailed(name, ctx.now(), text.message);
      failed.push({ index, reason: `${name}: ${text.message}` });
      continue;
    }
    ctx.pool.requestSucceeded(name, ctx.now());
    if (r.res.statusCode !== 200) {
      failed.push({ index, reason: `${name} answered HTTP ${r.res.statusCode}: ${text.slice(0, 200)}` });
      continue;
    }
    ctx.cache.put({ key: cacheKey(q.endpoint, body), endpoint: q.endpoint, body: text, upstream: name }, ctx.now());
    warmed++;
  }
  return { warmed, failed };
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
