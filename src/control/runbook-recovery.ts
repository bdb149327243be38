/**
 * The restore and verify steps, by the kind of the asset's source: files go back to a directory
 * and are checked file by file; a database source (src/sources) plugs in its own restore into a
 * database and its row-count check with `registerSourceRecovery`. The runbook executor only ever
 * asks `recoveryFor(kind)`.
 */
import { StepFailedError } from './runbook-errors.js';
import type { StoredSnapshot } from '../engine/snapshots.js';
import type { Repository } from '../repo/repository.js';
import { restoreFiles } from './runbook-restore-files.js';
import { verifyFiles } from './runbook-verify.js';

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

const RECOVERIES = new Map<string, SourceRecovery>([['path', { restore: restoreFiles, verify: verifyFiles }]]);

/** Adds the restore and verify of a source kind (`postgres`, `mysql`, …). */
export function registerSourceRecovery(kind: string, recovery: SourceRecovery): void {
  if (RECOVERIES.has(kind)) throw new Error(`a recovery for source kind "${kind}" is registered already`);
  RECOVERIES.set(kind, recovery);
}

export function recoveryFor(kind: string): SourceRecovery {
  const found = RECOVERIES.get(kind);
  if (!found) throw new StepFailedError(`lifeboat cannot restore a "${kind}" source in a runbook yet (it can: ${[...RECOVERIES.keys()].join(', ')})`);
  return found;
}
