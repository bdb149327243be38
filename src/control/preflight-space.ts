/** Preflight: free space at a restore target against the size of what would be restored there. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { CheckResult, PreflightTools } from './preflight.js';

/** Less headroom than this (a tenth of the size) is a warning: logs, temp files and the next version need room too. */
const HEADROOM = 0.1;

/**
 * A restore writes each file beside its old copy and renames it over it, so the bytes already at
 * the target come back only as files are replaced: not fitting even then is a failure; fitting
 * only then, a warning.
 */
export async function checkSpace(dir: string, bytes: number, what: string, tools: PreflightTools): Promise<CheckResult> {
  const subject = dir;
  const existing = await nearestExisting(dir);
  let free: number;
  try {
    free = await tools.freeBytes(existing);
  } catch (err) {
    return { check: 'space', subject, status: 'fail', message: `cannot read the free space at ${existing}: ${(err as Error).message}` };
  }
  const there = existing === dir ? await bytesBelow(dir) : 0;
  const need = `${what} needs ${formatSize(bytes)}`;
  const has = `${existing} has ${formatSize(free)} free`;
  if (free + there < bytes) {
    return { check: 'space', subject, status: 'fail', message: `${need}, but ${has}${there ? ` (and ${formatSize(there)} there now)` : ''}: free ${formatSize(bytes - free - there)} or restore elsewhere` };
  }
  if (free < bytes) return { check: 'space', subject, status: 'warn', message: `${need}; ${has} and it fits only because it replaces the ${formatSize(there)} there now` };
  if (free < bytes * (1 + HEADROOM)) return { check: 'space', subject, status: 'warn', message: `${need}; ${has}: it fits with less than ${HEADROOM * 100}% to spare` };
  return { check: 'space', subject, status: 'ok', message: `${need}; ${has}` };
}

async function nearestExisting(dir: string): Promise<string> {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    if (await fs.stat(p).then(() => true, () => false)) return p;
    if (p === path.dirname(p)) return p;
  }
}

/** Bytes of the regular files below `dir` (not following symlinks). */
async function bytesBelow(dir: string): Promise<number> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await bytesBelow(p);
    else if (e.isFile()) total += (await fs.stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export function formatSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
