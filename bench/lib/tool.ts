// What the harness needs from each backup tool. One module per tool implements it.
import type { RunResult } from './measure.js';

export interface BackupRequest {
  repo: string;
  /** directory whose contents become one snapshot */
  dir: string;
  /** series version name, e.g. "ft-full-2" (unique per repository) */
  version: string;
  /** the name of this version on the first pass, when this is a re-backup ("again") */
  again?: boolean;
}

export interface BackupTool {
  name: string;
  /** human-readable settings, e.g. "compression auto" */
  settings: string;
  version(): Promise<string>;
  init(repo: string): Promise<void>;
  backup(req: BackupRequest): Promise<RunResult>;
  /** restores the snapshot of `version` (first pass) into target; returns the timing and where `dir`'s contents landed */
  restore(repo: string, version: string, sourceDir: string, target: string): Promise<RunResult & { restoredDir: string }>;
}

/** Environment shared by the tools' processes: passwords, and caches kept inside the bench work directory. */
export interface ToolContext {
  workDir: string;
  password: string;
}
