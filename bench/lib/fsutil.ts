// File-tree helpers for the bench: sizes, warming the page cache, and verifying a restore.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import path from 'node:path';

export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Sum of apparent file sizes under dir (what `du -sb --apparent-size` prints). */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p);
    else total += (await lstat(p)).size;
  }
  return total;
}

/** Reads every file once so the timed runs start with the page cache warm. */
export async function warmCache(dir: string): Promise<void> {
  const buf = Buffer.alloc(8 << 20);
  for (const f of await filesUnder(dir)) {
    const fh = await open(f, 'r');
    try {
      while ((await fh.read(buf, 0, buf.length, null)).bytesRead > 0);
    } finally {
      await fh.close();
    }
  }
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Differences between two trees (relative paths, sizes, SHA-256); empty when they match. */
export async function compareTrees(expected: string, actual: string): Promise<string[]> {
  const a = (await filesUnder(expected)).map((f) => path.relative(expected, f));
  const b = new Set((await filesUnder(actual)).map((f) => path.relative(actual, f)));
  const problems: string[] = [];
  for (const rel of a) {
    if (!b.has(rel)) {
      problems.push(`missing ${rel}`);
      continue;
    }
    b.delete(rel);
    const [x, y] = await Promise.all([sha256(path.join(expected, rel)), sha256(path.join(actual, rel))]);
    if (x !== y) problems.push(`content differs: ${rel}`);
  }
  for (const extra of b) problems.push(`unexpected ${extra}`);
  return problems;
}
