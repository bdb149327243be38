/**
 * Persistence of the response cache across restarts: one JSON object per line, written to a temporary
 * file and renamed over the old one, so a crash leaves either the old or the new file, never half of one.
 * Unreadable lines are skipped: a damaged cache costs hits, never the start of the gateway.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CacheEntry } from './response-cache.js';

export async function readCacheFile(file: string): Promise<CacheEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: CacheEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as CacheEntry;
      if (typeof e.key === 'string' && typeof e.body === 'string' && typeof e.expiresAt === 'number') out.push(e);
    } catch {
      // skip the damaged line
    }
  }
  return out;
}

export async function writeCacheFile(file: string, entries: readonly CacheEntry[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : ''));
  await rename(tmp, file);
}
