/**
 * The restore and verify steps, by the kind of the asset's source: files go back to a directory
 * and are checked file by file; every other source (src/sources) restores through its adapter —
 * a database into the database the step's target names, with the row counts recorded at backup
 * compared — and is verified by its adapter. The runbook executor only ever asks `recoveryFor(kind)`.
 */
import { StepFailedError } from './runbook-errors.js';
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { Repository } from '../repo/repository.js';
import { restoreFiles } from './runbook-restore-files.js';
import { verifyFiles } from './runbook-verify.js';
import { shownUrl } from './runbook-io.js';
import type { SourceAdapter } from '../sources/adapter.js';
import { allSources } from '../sources/all.js';
import type { SourceKind } from '../sources/config.js';
import { systemRunner } from '../sources/process.js';

export { StepFailedError };

export interface RecoveryContext {
  repo: Repository;
  asset: string;
  snapshot: StoredSnapshot;
  /** The restore directory (for a database source: whatever its restore step's target names). */
  target: string;
  subpath?: string;
  signal: AbortSignal;
  onProgress(bytesDone: number, bytesTotal: number): void;
}

export interface RestoredData {
  files: number;
  bytes: number;
  /** Items that could not be restored because the repository's data is damaged: verify names them. */
  damaged: Array<{ path: string; error: string }>;
  /** One line for the report. */
  summary: string;
  /** What a source's restore checked (database row counts against the backup's): verify reports them. */
  checks?: Array<{ name: string; ok: boolean; detail: string }>;
}

export interface VerifyOptions {
  /** Parse safetensors and GGUF headers (tensor offsets inside the file). */
  format: boolean;
  /** SHA-256 of every file against the snapshot. */
  sha256: boolean;
  /** Database sources: row counts against those recorded at backup. */
  rowCounts: boolean;
  /** What the restore step left: damaged items to report. */
  restored?: RestoredData;
}

export interface SourceRecovery {
  /** Restores the snapshot; throws StepFailedError for anything but damaged data. */
  restore(ctx: RecoveryContext): Promise<RestoredData>;
  /** Checks what was restored against the snapshot; throws StepFailedError naming each problem; returns a summary. */
  verify(ctx: RecoveryContext, options: VerifyOptions): Promise<string>;
}

const FILES: SourceRecovery = { restore: restoreFiles, verify: verifyFiles };

export function recoveryFor(kind: string): SourceRecovery {
  if (kind === 'path') return FILES;
  const sources = allSources();
  if (!sources.kinds().includes(kind as SourceKind)) throw new StepFailedError(`lifeboat cannot restore a "${kind}" source (it knows ${sources.kinds().join(', ')})`);
  return adapterRecovery(sources.get(kind as SourceKind));
}

/** A source's restore (to the step's target: a database URL, a directory, s3://…) and its verify, as runbook steps. */
function adapterRecovery(adapter: SourceAdapter): SourceRecovery {
  return {
    async restore(ctx) {
      const outcome = await adapter.restore(ctx.repo, ctx.snapshot.id, { to: ctx.target }, { runner: systemRunner, signal: ctx.signal }).catch((err: unknown) => {
        if (err instanceof StepFailedError) throw err;
        throw new StepFailedError(`restore of ${ctx.asset} (${adapter.kind}) to ${shownUrl(ctx.target)} failed: ${(err as Error).message}`);
      });
      ctx.onProgress(outcome.bytes, outcome.bytes);
      return { files: outcome.entries, bytes: outcome.bytes, damaged: [], checks: outcome.checks, summary: `${adapter.kind} snapshot restored to ${shownUrl(outcome.target)}: ${outcome.entries} item(s), ${outcome.bytes} bytes` };
    },
    async verify(ctx, options) {
      const checks = [...(options.rowCounts ? (options.restored?.checks ?? []) : []), ...(await adapter.verify(ctx.repo, ctx.snapshot.id, { runner: systemRunner, signal: ctx.signal })).checks];
      const failed = checks.filter((c) => !c.ok);
      if (failed.length) throw new StepFailedError(failed.map((c) => `${c.name}: ${c.detail}`).join('\n'));
      return `${checks.length} check(s) passed: ${checks.map((c) => c.name).join(', ')}`;
    },
  };
}
