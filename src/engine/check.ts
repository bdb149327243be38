/**
 * Check: is every snapshot restorable? Structure first (snapshots, trees, every referenced blob
 * indexed, every indexed pack present with a plausible size), then optionally the data: each
 * pack read back, its id (SHA-256 of its bytes) checked, and every blob opened and verified.
 * Damage is reported in the user's terms: which blobs, which files, which snapshots.
 */
import { randomInt } from 'node:crypto';
import { isAbort, throwIfAborted } from '../base/errors.js';
import type { BlobIndex } from '../repo/blob-index.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { sha256Hex } from '../repo/crypto.js';
import { loadIndex } from '../repo/index-store.js';
import { readPackHeader } from '../repo/pack.js';
import { packKey, storedPacks, type Repository } from '../repo/repository.js';
import { makeBlobLoader, type BlobLoader } from './blob-loader.js';
import { makeLimit } from '../storage/limit.js';
import { settleAll, underLock, type OperationOptions } from './operation.js';
import { listSnapshots } from './snapshots.js';
import { makeTreeReader, walkTree } from './trees.js';
import { startWorkerPool, type WorkerPool } from './worker-pool.js';

export interface CheckOptions extends OperationOptions {
  /** Read back all packs (1) or this fraction of them, chosen at random. 0: structure only. */
  readData?: number;
  onProgress?: (p: { packsDone: number; packsTotal: number }) => void;
  signal?: AbortSignal;
}

export interface Damage {
  blob: string;
  pack: string;
  problem: string;
}

export interface CheckReport {
  ok: boolean;
  snapshots: number;
  packs: number;
  blobs: number;
  packsRead: number;
  /** Stored bytes of the packs read back. */
  bytesRead: number;
  errors: string[];
  /** Packs present on storage that no index lists (left by an interrupted backup; harmless, removed by prune). */
  unreferencedPacks: string[];
  damagedBlobs: Damage[];
  /** Files whose content includes a damaged or missing blob, per snapshot. */
  affected: Array<{ snapshot: string; asset: string; path: string }>;
}

/** Stopped (its signal, its lock lost), it throws the signal's reason and reports nothing: a half check proves nothing. */
export async function check(repo: Repository, options: CheckOptions = {}): Promise<CheckReport> {
  return underLock(repo, 'shared', 'check', options, async ({ repo, signal }) => {
    const { index } = await loadIndex(repo);
    const report: CheckReport = { ok: true, snapshots: 0, packs: index.packs().length, blobs: index.size, packsRead: 0, bytesRead: 0, errors: [], unreferencedPacks: [], damagedBlobs: [], affected: [] };
    const stored = await storedPacks(repo);
    for (const packId of index.packs()) if (!stored.has(packId)) report.errors.push(`pack ${packId.slice(0, 12)} is in the index but missing from storage`);
    for (const packId of stored.keys()) if (!index.hasPack(packId)) report.unreferencedPacks.push(packId);

    const bad = new Map<string, Damage>();
    if (options.readData) {
      const packs = sample(index.packs().filter((p) => stored.has(p)), options.readData);
      const pool = startWorkerPool({ key: repo.key.data, zstdLevel: repo.config.zstdLevel });
      try {
        let done = 0;
        const loader = makeBlobLoader(repo, index, pool);
        const limit = makeLimit(pool.size + 1);
        await settleAll(
          packs.map((packId) =>
            limit.run(async () => {
              for (const d of await readPack(repo, index, pool, loader, packId, (m) => report.errors.push(m))) bad.set(d.blob, d);
              options.onProgress?.({ packsDone: ++done, packsTotal: packs.length });
            }, signal),
          ),
        );
      } finally {
        await pool.close();
      }
      report.packsRead = packs.length;
      report.bytesRead = packs.reduce((n, p) => n + (stored.get(p) ?? 0), 0);
    }
    report.damagedBlobs = [...bad.values()];

    // A blob whose pack is gone is as lost as a damaged one, and so is a delta whose base (or
    // base's base) is lost: the files that need it are affected.
    const lostMemo = new Map<string, boolean>();
    const lost = (id: string): boolean => {
      let result = lostMemo.get(id);
      if (result === undefined) {
        const where = index.get(Buffer.from(id, 'hex'));
        result = bad.has(id) || !where || !stored.has(where.packId) || (where.delta !== undefined && lost(where.delta.base.toString('hex')));
        lostMemo.set(id, result);
      }
      return result;
    };
    const trees = makeTreeReader(repo, index, makeCodecSet(repo.config.zstdLevel));
    const snapshots = await listSnapshots(repo, (id, err) => report.errors.push(`snapshot ${id.slice(0, 12)} cannot be read: ${err.message}`));
    report.snapshots = snapshots.length;
    for (const { id, snapshot } of snapshots) {
      throwIfAborted(signal);
      const affect = (path: string) => report.affected.push({ snapshot: id, asset: snapshot.asset, path });
      try {
        if (lost(snapshot.tree)) throw new Error(`root tree ${snapshot.tree.slice(0, 12)} is missing or damaged`);
        for await (const { path, node } of walkTree(trees, snapshot.tree)) {
          if (node.type === 'dir' && lost(node.subtree)) affect(path + '/');
          if (node.type !== 'file') continue;
          const broken = node.content.find((ref) => typeof ref === 'string' && lost(ref));
          if (broken !== undefined) affect(path);
        }
      } catch (err) {
        if (isAbort(err)) throw err;
        report.errors.push(`snapshot ${id.slice(0, 12)} (${snapshot.asset}): ${(err as Error).message}`);
      }
    }
    throwIfAborted(signal); // a report from a check that was stopped would be wrong, not short
    report.ok = report.errors.length === 0 && report.damagedBlobs.length === 0 && report.affected.length === 0;
    return report;
  });
}

/** Reads one pack and verifies it; returns the damaged blobs (every indexed blob of it when the pack itself is unreadable). */
async function readPack(repo: Repository, index: BlobIndex, pool: WorkerPool, loader: BlobLoader, packId: string, onError: (message: string) => void): Promise<Damage[]> {
  const indexed: Array<{ id: string; offset: number; storedLength: number; rawLength: number; codec: number }> = [];
  index.forEach((id, blob) => {
    if (blob.packId === packId) indexed.push({ id: Buffer.from(id).toString('hex'), ...blob });
  });
  const all = (problem: string) => indexed.map((b) => ({ blob: b.id, pack: packId, problem }));
  let bytes: Buffer;
  try {
    bytes = await repo.storage.get(packKey(packId));
  } catch (err) {
    if (isAbort(err)) throw err; // stopped, not damaged
    return all(`pack unreadable: ${(err as Error).message}`);
  }
  const idMismatch = sha256Hex(bytes) !== packId;
  try {
    readPackHeader(repo.key.data, bytes, packId);
  } catch (err) {
    if (!idMismatch) return all((err as Error).message);
  }
  const damaged: Damage[] = [];
  // Each blob on its own, so one flipped byte names exactly the blob it hit.
  await Promise.all(
    indexed.map(async (b) => {
      const slice = bytes.subarray(b.offset, b.offset + b.storedLength);
      const own = new Uint8Array(slice).buffer;
      try {
        const id = Buffer.from(b.id, 'hex');
        const base = await loader.baseFor(id);
        await pool.request(pool.pick(), { op: 'open', buffer: own, blobs: [{ start: 0, length: b.storedLength, codec: b.codec, rawLength: b.rawLength, id, base }], verify: true }, base ? [own, base] : [own]);
      } catch (err) {
        if (isAbort(err)) throw err;
        damaged.push({ blob: b.id, pack: packId, problem: (err as Error).message });
      }
    }),
  );
  if (idMismatch && damaged.length === 0) onError(`pack ${packId.slice(0, 12)} does not match its id: bytes outside its blobs are damaged (its blobs still verify)`);
  return damaged;
}

function sample<T>(items: T[], fraction: number): T[] {
  if (fraction >= 1) return items;
  const want = Math.max(1, Math.ceil(items.length * fraction));
  const copy = items.slice();
  for (let i = 0; i < want && i < copy.length; i++) {
    const j = i + randomInt(copy.length - i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, want);
}
