/**
 * A check of exactly some snapshots, as retention runs it on an archive before it forgets the
 * originals: each named snapshot must be there and decode; every tree it reaches is read and
 * verified (the tree reader checks each blob's SHA-256); and every data blob, with the delta
 * bases it decodes against, is read back from its pack and verified (GCM tag, decode, SHA-256)
 * in the worker threads. The rest of the repository is not looked at.
 */
import { throwIfAborted } from '../base/errors.js';
import type { BlobIndex } from '../repo/blob-index.js';
import { makeCodecSet } from '../repo/codec/all.js';
import { loadIndex } from '../repo/index-store.js';
import { packKey, type Repository } from '../repo/repository.js';
import { makeBlobLoader } from './blob-loader.js';
import { underLock, type OperationOptions } from './operation.js';
import { planPackRanges } from './copy-plan.js';
import { collectBlobs } from './reachable.js';
import { withDeltaBases } from './delta-bases.js';
import { makeLimit } from '../storage/limit.js';
import type { ReplyOf } from './pipeline-protocol.js';
import { listSnapshots } from './snapshots.js';
import { makeTreeReader } from './trees.js';
import { startWorkerPool } from './worker-pool.js';

export interface SnapshotCheckReport {
  ok: boolean;
  snapshots: number;
  trees: number;
  /** Data blobs read back and verified (delta bases included). */
  blobs: number;
  /** Stored bytes of those blobs. */
  bytesRead: number;
  errors: string[];
}

export async function checkSnapshots(repo: Repository, ids: readonly string[], options: OperationOptions = {}): Promise<SnapshotCheckReport> {
  return underLock(repo, 'shared', 'check (snapshots)', options, async ({ repo, signal }) => {
    const report: SnapshotCheckReport = { ok: false, snapshots: 0, trees: 0, blobs: 0, bytesRead: 0, errors: [] };
    const { index } = await loadIndex(repo);
    const stored = new Map((await listSnapshots(repo, (id, err) => ids.includes(id) && report.errors.push(`snapshot ${id.slice(0, 12)} cannot be read: ${err.message}`))).map((s) => [s.id, s]));
    const trees = makeTreeReader(repo, index, makeCodecSet(repo.config.zstdLevel));
    const visited = new Set<string>();
    const data = new Set<string>();
    for (const id of ids) {
      throwIfAborted(signal);
      const s = stored.get(id);
      if (!s) {
        if (!report.errors.some((e) => e.startsWith(`snapshot ${id.slice(0, 12)}`))) report.errors.push(`snapshot ${id.slice(0, 12)} is missing`);
        continue;
      }
      try {
        report.trees += (await collectBlobs(trees, s.snapshot.tree, visited, data)).trees.length;
        report.snapshots++;
      } catch (err) {
        report.errors.push(`snapshot ${id.slice(0, 12)} (${s.snapshot.asset}): ${(err as Error).message}`);
      }
    }
    const blobs = withDeltaBases(index, data);
    const unindexed = blobs.filter((b) => !index.has(Buffer.from(b, 'hex')));
    for (const b of unindexed) report.errors.push(`blob ${b.slice(0, 12)} is not in the index`);
    await verifyBlobs(repo, index, blobs.filter((b) => !unindexed.includes(b)), report, signal);
    report.ok = report.errors.length === 0 && report.snapshots === ids.length;
    return report;
  });
}

async function verifyBlobs(repo: Repository, index: BlobIndex, blobs: string[], report: SnapshotCheckReport, signal: AbortSignal | undefined): Promise<void> {
  const pool = startWorkerPool({ key: repo.key.data, zstdLevel: repo.config.zstdLevel });
  try {
    const loader = makeBlobLoader(repo, index, pool);
    const limit = makeLimit(pool.size + 1);
    await Promise.all(
      planPackRanges(index, blobs).map((fetch) =>
        limit.run(async () => {
          throwIfAborted(signal);
          try {
            const sealed = await repo.storage.get(packKey(fetch.packId), { offset: fetch.offset, length: fetch.length });
            const own = new Uint8Array(sealed).buffer;
            const spans = await Promise.all(fetch.blobs.map(async ({ type: _type, delta: _delta, ...span }) => ({ ...span, base: await loader.baseFor(span.id) })));
            await pool.request<ReplyOf<'opened'>>(pool.pick(), { op: 'open', buffer: own, blobs: spans, verify: true }, [own, ...spans.flatMap((s) => (s.base ? [s.base] : []))]);
            report.blobs += fetch.blobs.length;
            report.bytesRead += fetch.blobs.reduce((n, b) => n + b.length, 0);
          } catch (err) {
            report.errors.push(`pack ${fetch.packId.slice(0, 12)}: ${(err as Error).message}`);
          }
        }),
      ),
    );
  } finally {
    await pool.close();
  }
}
