/**
 * The one small interface every source implements (registry.ts holds them by name):
 *
 *   backup   read the source and store it as one snapshot of an asset (engine: backup for paths,
 *            backupStreams for everything else); a source that fails part way leaves no snapshot
 *   restore  put a snapshot of this kind back where `to` says (a database URL, a directory, a bucket)
 *   verify   check a stored snapshot against what its backup recorded, without touching the source
 *
 * Adapters get their tools through `ctx.runner` (process.ts), so a failing pg_dump can be put in
 * place of the real one in tests, and their secrets through the config, never the command line.
 */
import type { BackupResult } from '../engine/backup.js';
import type { FileSplitter } from '../repo/chunker/chunker.js';
import type { Repository } from '../repo/repository.js';
import type { Lineage } from '../repo/snapshot.js';
import type { S3Options } from '../storage/s3-options.js';
import type { SourceConfig, SourceKind } from './config.js';
import type { ProcessRunner } from './process.js';

export interface SourceContext {
  runner: ProcessRunner;
  signal?: AbortSignal;
  /** The environment credentials may come from (PGPASSWORD, MYSQL_PWD, AWS_*); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where private scratch files go (a pgpass file, SQLite's copy); default the system temp dir. */
  tmpDir?: string;
  /** Where remote git repositories are mirrored between backups; default under tmpDir. */
  cacheDir?: string;
  workers?: number;
  /** File splitters for path sources (the tensor-aware one); default none (FastCDC only). */
  splitters?: readonly FileSplitter[];
  warn?: (message: string) => void;
  onProgress?: (bytesDone: number) => void;
}

/** What the snapshot records besides the content. */
export interface SnapshotOptions {
  asset: string;
  tier?: number;
  /** The asset's kind in lifeboat.yaml (model, dataset, annotations, ...). */
  kind?: string;
  tags?: string[];
  meta?: Record<string, string>;
  host?: string;
  lineage?: Lineage;
}

export interface RestoreRequest {
  /** Where to: a database URL (postgres, mysql), a directory (git, and the file kinds), s3://BUCKET/PREFIX. */
  to: string;
  /** Replace what is there: drop the database's objects first (postgres, mysql). */
  clean?: boolean;
  /** A password for `to` (a database), kept out of URLs and process lists. */
  passwordFile?: string;
  /** Client settings for an s3:// target. */
  s3?: S3Options;
}

/** One verification and its outcome, for people and for JSON. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface RestoreOutcome {
  snapshotId: string;
  kind: SourceKind;
  target: string;
  /** Files, objects or dumps put back, and their bytes. */
  entries: number;
  bytes: number;
  checks: Check[];
}

export interface VerifyReport {
  snapshotId: string;
  kind: SourceKind;
  ok: boolean;
  checks: Check[];
}

export interface SourceAdapter<C extends SourceConfig = SourceConfig> {
  readonly kind: C['kind'];
  backup(repo: Repository, config: C, options: SnapshotOptions, ctx: SourceContext): Promise<BackupResult>;
  restore(repo: Repository, snapshot: string, request: RestoreRequest, ctx: SourceContext): Promise<RestoreOutcome>;
  verify(repo: Repository, snapshot: string, ctx: SourceContext): Promise<VerifyReport>;
}

/** A report of checks: ok when every one is. */
export function report(snapshotId: string, kind: SourceKind, checks: Check[]): VerifyReport {
  return { snapshotId, kind, ok: checks.every((c) => c.ok), checks };
}
