// Sparse mode: a 64 GB file that is almost all hole (a few MB of real data at scattered
// offsets), backed up and restored by Lifeboat, with peak RSS, and a check that the restored
// file is sparse too (its allocated blocks stay near the real data) and holds the same data.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BackupTool } from './tool.js';

export interface SparseResult {
  tool: string;
  fileBytes: number;
  dataBytes: number;
  sourceAllocated: number;
  backupSeconds?: number;
  backupPeakRss?: number;
  restoreSeconds?: number;
  restorePeakRss?: number;
  restoredAllocated?: number;
  restoredSparse?: boolean;
  dataMatches?: boolean;
  error?: string;
}

const BLOCK = 64 * 1024;

function offsetsFor(size: number, blocks: number): number[] {
  // evenly spread, 4 KiB-aligned, with a deterministic jitter so they do not sit on chunk-size multiples
  return Array.from({ length: blocks }, (_, i) => Math.floor(((i + 0.37) * size) / blocks / 4096) * 4096 + (i % 7) * 4096);
}

export async function runSparse(tool: BackupTool, workDir: string, fileBytes: number, blocks: number, log: (s: string) => void): Promise<SparseResult> {
  const dir = path.join(workDir, 'sparse');
  const src = path.join(dir, 'src');
  await rm(dir, { recursive: true, force: true });
  await mkdir(src, { recursive: true });
  const file = path.join(src, 'model-sparse.bin');
  const data = randomBytes(BLOCK * blocks);
  const offsets = offsetsFor(fileBytes, blocks);
  const fh = await open(file, 'w');
  try {
    await fh.truncate(fileBytes);
    for (let i = 0; i < blocks; i++) await fh.write(data, i * BLOCK, BLOCK, offsets[i]);
  } finally {
    await fh.close();
  }
  const srcStat = await stat(file);
  const r: SparseResult = { tool: tool.name, fileBytes, dataBytes: data.length, sourceAllocated: srcStat.blocks * 512 };
  try {
    const repo = path.join(dir, 'repo');
    await tool.init(repo);
    const b = await tool.backup({ repo, dir: src, version: 'sparse' });
    r.backupSeconds = b.seconds;
    r.backupPeakRss = b.peakRss;
    log(`sparse ${tool.name}: backup of ${(fileBytes / 1e9).toFixed(0)} GB sparse file ${b.seconds.toFixed(1)} s, peak RSS ${(b.peakRss / 1e6).toFixed(0)} MB`);
    const target = path.join(dir, 'restore');
    await mkdir(target, { recursive: true });
    const rs = await tool.restore(repo, 'sparse', src, target);
    r.restoreSeconds = rs.seconds;
    r.restorePeakRss = rs.peakRss;
    const restored = path.join(rs.restoredDir, 'model-sparse.bin');
    const st = await stat(restored);
    r.restoredAllocated = st.blocks * 512;
    // sparse when the allocation stays within a few MB of the data (filesystems round blocks up)
    r.restoredSparse = st.size === fileBytes && r.restoredAllocated <= data.length * 2 + (16 << 20);
    r.dataMatches = st.size === fileBytes && (await dataAt(restored, offsets, data));
    log(`sparse ${tool.name}: restore ${rs.seconds.toFixed(1)} s, peak RSS ${(rs.peakRss / 1e6).toFixed(0)} MB, restored file allocates ${(r.restoredAllocated / 1e6).toFixed(1)} MB (sparse: ${r.restoredSparse}, data matches: ${r.dataMatches})`);
  } catch (e) {
    r.error = (e as Error).message;
    log(`sparse ${tool.name}: ${r.error}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return r;
}

async function dataAt(file: string, offsets: number[], data: Buffer): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(BLOCK);
    for (let i = 0; i < offsets.length; i++) {
      await fh.read(buf, 0, BLOCK, offsets[i]);
      if (!buf.equals(data.subarray(i * BLOCK, (i + 1) * BLOCK))) return false;
      // and the byte range right after each block is still a hole (zeros)
      const after = offsets[i] + BLOCK;
      await fh.read(buf, 0, 4096, after);
      if (buf.subarray(0, 4096).some((x) => x !== 0)) return false;
    }
    return true;
  } finally {
    await fh.close();
  }
}
