/**
 * The cache key of an inference request: SHA-256 over the endpoint and a canonical form of the body.
 * Fields that do not change the answer (stream, stream_options, user, metadata, store) are dropped,
 * object keys are sorted and message text is trimmed, so equal questions asked differently share a key.
 */
import { createHash } from 'node:crypto';

export type Endpoint = 'chat' | 'completions' | 'embeddings';

const IGNORED = new Set(['stream', 'stream_options', 'user', 'metadata', 'store']);

export function cacheKey(endpoint: Endpoint, body: Record<string, unknown>): string {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!IGNORED.has(k) && v !== undefined && v !== null) kept[k] = v;
  return createHash('sha256').update(endpoint).update('\n').update(canonical(kept)).digest('hex');
}

function canonical(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.trim());
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
