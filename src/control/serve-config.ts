/**
 * The `serve:` section of lifeboat.yaml: how `lifeboat serve` runs. Every key is optional; flags
 * (--listen, --host) win over the file.
 *
 *   serve:
 *     listen: 127.0.0.1:8080        # the HTTP API, dashboard and /metrics
 *     token_file: /etc/lifeboat/serve.token   # or LIFEBOAT_SERVE_TOKEN; required off loopback
 *     host: gpu-01                  # this host's name for assets' host: keys (default: the hostname)
 *     max_jobs: 2                   # jobs at once
 *     lease_ttl: 60s                # repository-wide jobs: a dead holder's lease is taken over after this
 *     poll: 60s                     # the longest wait between two looks at the repository
 *     retention_every: 24h
 *     prune_every: 7d
 *     status_every: 5m              # replica lag and repository statistics are recomputed this often
 *     state_dir: /var/lib/lifeboat  # alert state (default: the cache directory)
 */
import path from 'node:path';
import { z } from 'zod';
import { durationSchema, parseSection, type ConfigFile } from './config-file.js';

export interface ServeSettings {
  listen?: string;
  tokenFile?: string;
  host?: string;
  maxJobs: number;
  leaseTtlMs: number;
  pollMs: number;
  retentionEveryMs: number;
  pruneEveryMs: number;
  statusEveryMs: number;
  stateDir?: string;
}

const duration = (fallback: string) => z.union([z.number(), z.string()]).default(fallback).pipe(durationSchema());

const serveSchema = z.strictObject({
  listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:8080').optional(),
  token_file: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  max_jobs: z.number().int().min(1).max(64).default(2),
  lease_ttl: duration('60s').refine((ms) => ms >= 5000, 'at least 5s'),
  poll: duration('60s').refine((ms) => ms >= 1000, 'at least 1s'),
  retention_every: duration('24h'),
  prune_every: duration('7d'),
  status_every: duration('5m').refine((ms) => ms >= 1000, 'at least 1s'),
  state_dir: z.string().min(1).optional(),
});

export function serveSettingsOf(config: ConfigFile): ServeSettings {
  const s = parseSection(config, 'serve', serveSchema) ?? serveSchema.parse({});
  const dir = path.dirname(path.resolve(config.file));
  return {
    listen: s.listen,
    tokenFile: s.token_file === undefined ? undefined : path.resolve(dir, s.token_file),
    host: s.host,
    maxJobs: s.max_jobs,
    leaseTtlMs: s.lease_ttl,
    pollMs: s.poll,
    retentionEveryMs: s.retention_every,
    pruneEveryMs: s.prune_every,
    statusEveryMs: s.status_every,
    stateDir: s.state_dir === undefined ? undefined : path.resolve(dir, s.state_dir),
  };
}
