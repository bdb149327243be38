/** Test data on disk: deterministic pseudo-random bytes, file hashes, and a manifest of a directory tree. */
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** `size` incompressible bytes determined by `seed` (AES-CTR keystream: fast and reproducible). */
export function pseudoRandom(size: number, seed: number | string): Buffer {
  const key = createHash('sha256').update(String(seed)).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** Writes `size` pseudo-random bytes in 8 MiB pieces (memory stays small for large files). */
export async function writeRandomFile(file: string, size: number, seed: number | string, flag: 'w' | 'a' = 'w'): Promise<void> {
  const handle = await fs.open(file, flag);
  try {
    const piece = 8 * 1024 * 1024;
    for (let done = 0, i = 0; done < size; done += piece, i++) {
      await handle.write(pseudoRandom(Math.min(piece, size - done), `${seed}/${i}`));
    }
  } finally {
    await handle.close();
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface ManifestEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  /** Nanoseconds: a restore gives back the recorded times exactly. */
  mtimeNs: string;
  size?: number;
  sha256?: string;
  target?: string;
}

/** Everything below `root` (not root itself), by relative path: what a restore must reproduce. */
export async function manifest(root: string): Promise<Record<string, ManifestEntry>> {
  const out: Record<string, ManifestEntry> = {};
  async function visit(dir: string): Promise<void> {
    for (const name of (await fs.readdir(dir)).sort()) {
      const abs = path.join(dir, name);
      const rel = path.relative(root, abs);
      const st = await fs.lstat(abs, { bigint: true });
      const base = { mode: Number(st.mode & 0o7777n), mtimeNs: String(st.mtimeNs) };
      if (st.isSymbolicLink()) out[rel] = { type: 'symlink', ...base, target: await fs.readlink(abs) };
      else if (st.isDirectory()) {
        out[rel] = { type: 'dir', ...base };
        await visit(abs);
      } else out[rel] = { type: 'file', ...base, size: Number(st.size), sha256: await sha256File(abs) };
    }
  }
  await visit(root);
  return out;
}

/** Every path below `root`, including hidden temporary files, sorted. */
export async function listAll(root: string): Promise<string[]> {
  const out: string[] = [];
  async function visit(dir: string): Promise<void> {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      out.push(path.relative(root, abs));
      if (e.isDirectory()) await visit(abs);
    }
  }
  await visit(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  return out.sort();
}
