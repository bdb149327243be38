/**
 * The restore step of a files source: the engine's restore, every file verified by SHA-256 as it
 * is written. A file whose data in the repository is damaged is not written (nothing is left at
 * its name) and is handed on to the verify step, which names it; a full disk or an unreachable
 * repository fails the step itself.
 */
import { restore, type RestoreOptions } from '../engine/restore.js';
import type { RecoveryContext, RestoredData } from './runbook-recovery.js';
import { StepFailedError } from './runbook-errors.js';
import { formatSize } from './preflight-space.js';

/** Codes of a file that failed because of the repository's data, not the target. */
const DAMAGE = new Set(['INTEGRITY', 'FORMAT', 'NOT_FOUND']);

export async function restoreFiles(ctx: RecoveryContext): Promise<RestoredData> {
  // `signal` reaches the engine where it takes one (it stops at a safe point: no file half-written at its name).
  const options: RestoreOptions & { signal?: AbortSignal } = {
    snapshot: ctx.snapshot.id,
    subpath: ctx.subpath,
    target: ctx.target,
    signal: ctx.signal,
    onProgress: (p) => ctx.onProgress(p.bytesDone, p.bytesTotal),
  };
  const result = await restore(ctx.repo, options);
  ctx.signal.throwIfAborted();
  const other = result.failed.filter((f) => !DAMAGE.has(f.code));
  if (other.length > 0) {
    const lines = other.slice(0, 10).map((f) => `  ${f.path}: ${f.error}`);
    throw new StepFailedError(`${other.length} file(s) could not be restored to ${ctx.target}:\n${lines.join('\n')}`);
  }
  const damaged = result.failed.map((f) => ({ path: f.path, error: f.error }));
  const summary =
    `restored ${result.files.length} file(s), ${formatSize(result.bytes)} of ${ctx.snapshot.id.slice(0, 12)} to ${ctx.target}, each verified by SHA-256` +
    (damaged.length ? `; ${damaged.length} file(s) NOT restored: their data in the repository is damaged` : '');
  return { files: result.files.length, bytes: result.bytes, damaged, summary };
}
