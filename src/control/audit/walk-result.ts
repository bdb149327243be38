/** What a walk of file trees or S3 prefixes hands to discovery, and the bookkeeping both walkers share. */
import { addFile, closeDir } from './group.js';
import type { Candidate, DirOutcome, DirState, FileFacts } from './candidate.js';
import { sniff, type Sniffed } from './sniff.js';

export interface Skipped {
  path: string;
  reason: string;
}

export interface WalkResult {
  assets: Candidate[];
  skipped: Skipped[];
  /** Files looked at (listed and measured), and their bytes. */
  files: number;
  bytes: number;
  /** Files whose name promised a format their first bytes do not have. */
  decoys: number;
}

export interface WalkProgress {
  files: number;
  bytes: number;
  /** The directory being walked. */
  at: string;
}

export interface WalkCommon {
  signal?: AbortSignal;
  /** Called after each file (the CLI draws a progress bar from it, on a terminal). */
  onProgress?(p: WalkProgress): void;
}

/** The running totals of one walk. */
export class WalkTally {
  readonly skipped: Skipped[] = [];
  readonly assets: Candidate[] = [];
  files = 0;
  bytes = 0;
  decoys = 0;

  constructor(private readonly options: WalkCommon) {}

  skip(path: string, reason: string): void {
    this.skipped.push({ path, reason });
  }

  /** Records a file with what its first bytes say, in `dir`. */
  file(dir: DirState, name: string, size: number, sniffed: Sniffed, database?: FileFacts['database']): void {
    this.files++;
    this.bytes += size;
    if (sniffed && 'decoy' in sniffed) this.decoys++;
    const format = sniffed && 'format' in sniffed ? sniffed.format : undefined;
    addFile(dir, { name, size, format, database });
    this.options.onProgress?.({ files: this.files, bytes: this.bytes, at: dir.path });
  }

  /** A root's outcome: its assets join the result. */
  root(outcome: DirOutcome): void {
    this.assets.push(...outcome.assets);
  }

  result(): WalkResult {
    return { assets: this.assets, skipped: this.skipped, files: this.files, bytes: this.bytes, decoys: this.decoys };
  }
}

export { closeDir, sniff };

/** A reason for people from a filesystem error. */
export function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'vanished during the walk';
  if (code === 'ELOOP') return 'symlink loop';
  return `${code ?? 'error'}: ${(err as Error)?.message ?? String(err)}`;
}
