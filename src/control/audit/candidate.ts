/**
 * The data discovery passes from the walk to the proposals: what a directory holds (counted, never
 * listed file by file) and the assets found so far. A walk keeps one `DirState` per directory on
 * its way down, so its memory grows with the depth of the tree and the assets found, not with the
 * number of files.
 */
import type { AssetKind } from '../policy.js';
import type { FileFormat } from './sniff.js';

/** What grouping found, before a tier is proposed. */
export interface Candidate {
  /** A directory or a file (`s3://BUCKET/KEY` on S3). */
  path: string;
  kind: AssetKind;
  /** safetensors, safetensors-sharded, gguf, peft, jsonl, images, label-studio, mlflow, git, ... */
  format: string;
  bytes: number;
  files: number;
  /** What the proposal may use: markers seen, a git remote, a DVC pointer. */
  hints: Hints;
}

export interface Hints {
  /** Marker file names seen in the asset (config.json, trainer_state.json, dataset_info.json, ...). */
  markers: string[];
  /** A git repository's remote URL and whether it was found reachable (local remotes are checked, network ones are not contacted). */
  gitRemote?: { url: string; reachable: boolean | undefined };
  /** Tracked by a `.dvc` file beside it. */
  dvcTracked?: boolean;
}

/** One file the walk met, with what sniffing made of it. */
export interface FileFacts {
  name: string;
  size: number;
  format?: FileFormat;
  /** SQLite databases: what their tables say they are. */
  database?: 'label-studio' | 'mlflow';
}

export interface FormatCount {
  files: number;
  bytes: number;
}

/** Weight files are kept one by one (a folder of checkpoints is several assets), dataset and config files up to MAX_LISTED; images are only counted. */
export interface ListedFile {
  name: string;
  size: number;
  format: FileFormat;
}

export interface DirState {
  path: string;
  name: string;
  files: number;
  bytes: number;
  byFormat: Map<FileFormat, FormatCount>;
  listed: ListedFile[];
  /** Files that are neither an asset format nor small metadata: they make a folder "mixed". */
  otherFiles: number;
  markers: Set<string>;
  /** Names of siblings a `NAME.dvc` file here tracks. */
  dvcTargets: Set<string>;
  /** Loose single-file assets (databases, lone datasets and configs) found here. */
  loose: Candidate[];
  /** Set by the walker: a `.git` here, with its remote. */
  git?: { remote?: { url: string; reachable: boolean | undefined }; bytes: number; files: number };
  /** Set by the walker from the parent: a `.dvc` file beside this folder tracks it. */
  dvcTracked: boolean;
  /** Only some of the folder's files were given (a file named on the command line): never a folder asset. */
  partial?: boolean;
}

/** What a closed directory tells its parent. */
export interface DirOutcome {
  path: string;
  name: string;
  /** Every byte and file under it. */
  bytes: number;
  files: number;
  /** Assets found under it that the parent does not absorb. */
  assets: Candidate[];
  /** Everything under it is dataset material (and there is some): a parent may make one dataset of it. */
  dataset?: { format: string; images: boolean; leaf: boolean };
  /** The folder is one configuration asset (serving arguments, prompt templates). */
  config?: boolean;
}

export function newDirState(path: string, name: string, dvcTracked = false): DirState {
  return { path, name, files: 0, bytes: 0, byFormat: new Map(), listed: [], otherFiles: 0, markers: new Set(), dvcTargets: new Set(), loose: [], dvcTracked };
}
