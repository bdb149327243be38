/**
 * The repository config `config`: sealed JSON, written once by init.
 *   { "version": 1, "id": 32 hex, "created": ISO time,
 *     "chunker": { "minSize", "avgSize", "maxSize", "seed" }, "packSize": bytes, "zstdLevel": n,
 *     "maxDeltaDepth": n (optional) }
 * A repository whose config version is newer than REPO_VERSION is refused with a clear error.
 */
import { isoNow } from '../base/clock.js';
import { randomBytes } from 'node:crypto';
import type { CdcParams } from './chunker/chunker.js';
import { DEFAULT_CDC } from './chunker/fastcdc.js';
import { FormatError } from './errors.js';
import { parseJson } from './json.js';

export const REPO_VERSION = 1;

export interface RepoConfig {
  version: number;
  id: string;
  created: string;
  chunker: CdcParams;
  /** Target size of pack files: large enough for few objects, small enough to keep in memory. */
  packSize: number;
  zstdLevel: number;
  /** Longest chain of XOR deltas before a tensor piece is stored in full again (absent: the default). */
  maxDeltaDepth?: number;
}

/** A full copy at least every 8 versions: restore reads at most 8 bases for a piece. */
export const DEFAULT_MAX_DELTA_DEPTH = 8;

export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;

export function newConfig(overrides: Partial<Pick<RepoConfig, 'chunker' | 'packSize' | 'zstdLevel' | 'maxDeltaDepth'>> = {}): RepoConfig {
  return {
    version: REPO_VERSION,
    id: randomBytes(16).toString('hex'),
    created: isoNow(),
    chunker: overrides.chunker ?? { ...DEFAULT_CDC, seed: randomBytes(4).readUInt32LE() },
    packSize: overrides.packSize ?? DEFAULT_PACK_SIZE,
    zstdLevel: overrides.zstdLevel ?? 3,
    ...(overrides.maxDeltaDepth === undefined ? {} : { maxDeltaDepth: overrides.maxDeltaDepth }),
  };
}

export function decodeConfig(plain: Buffer): RepoConfig {
  const config = parseJson<RepoConfig>(plain, 'repository config', 'the repository is damaged');
  if (typeof config.version !== 'number') throw new FormatError('repository config has no version');
  if (config.version > REPO_VERSION) {
    throw new FormatError(`repository format version ${config.version} is newer than this lifeboat supports (${REPO_VERSION}): upgrade lifeboat`);
  }
  return config;
}
