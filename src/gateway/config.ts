/**
 * The `gateway:` section of lifeboat.yaml: its on-disk shape (zod schema, snake_case as written) and the
 * normalised shape the gateway runs on (camelCase, defaults applied, groups in priority order).
 */
import { z } from 'zod';
import { CONFIG_NAME, durationSchema, httpUrlSchema } from '../control/config-file.js';

const duration = (fallbackMs: number) => z.union([z.number(), z.string()]).default(fallbackMs).pipe(durationSchema('500ms, 2s, 1m or a number of milliseconds'));

const name = z.string().regex(CONFIG_NAME, 'use letters, digits, ".", "_" or "-"');
const httpUrl = httpUrlSchema('http://10.0.0.5:8000');

const probeSchema = z.strictObject({
  endpoint: z.enum(['chat', 'completions', 'embeddings', 'models']).default('chat'),
  model: z.string().min(1).optional(),
});

const upstreamSchema = z.strictObject({
  name,
  url: httpUrl,
  api_key_env: z.string().min(1).optional(),
  max_connections: z.number().int().positive().default(256),
  probe: probeSchema.optional(),
});

const groupSchema = z.strictObject({
  name,
  role: z.enum(['primary', 'standby', 'degraded']),
  /** Public model name -> model name on these upstreams; "*" matches any. Omitted: names pass through. */
  models: z.record(z.string().min(1), z.string().min(1)).optional(),
  probe: probeSchema.optional(),
  upstreams: z.array(upstreamSchema).min(1),
});

const listen = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'write host:port, e.g. 127.0.0.1:8089');

export const gatewaySectionSchema = z
  .strictObject({
    listen: listen.default('127.0.0.1:8089'),
    admin: z
      .strictObject({
        /** Environment variable holding the bearer token of the admin API; without it the admin API is off. */
        token_env: z.string().min(1).default('LIFEBOAT_GATEWAY_TOKEN'),
      })
      .default({ token_env: 'LIFEBOAT_GATEWAY_TOKEN' }),
    deadline: duration(120_000),
    attempt_timeout: duration(30_000),
    max_body_bytes: z.number().int().positive().default(8 * 1024 * 1024),
    retries: z
      .strictObject({
        max_attempts: z.number().int().min(1).max(10).default(3),
        budget_percent: z.number().min(0).max(100).default(20),
        min_per_second: z.number().min(0).default(5),
      })
      .default({ max_attempts: 3, budget_percent: 20, min_per_second: 5 }),
    health_check: z
      .strictObject({
        interval: duration(5_000),
        timeout: duration(2_000),
        healthy_threshold: z.number().int().min(1).default(2),
        unhealthy_threshold: z.number().int().min(1).default(2),
      })
      .default({ interval: 5_000, timeout: 2_000, healthy_threshold: 2, unhealthy_threshold: 2 }),
    outlier_detection: z
      .strictObject({
        consecutive_failures: z.number().int().min(1).default(3),
        base_ejection: duration(10_000),
        max_ejection: duration(300_000),
      })
      .default({ consecutive_failures: 3, base_ejection: 10_000, max_ejection: 300_000 }),
    groups: z.array(groupSchema).min(1),
    cache: z
      .strictObject({
        path: z.string().min(1).optional(),
        ttl: duration(86_400_000),
        max_entries: z.number().int().positive().default(10_000),
        max_bytes: z.number().int().positive().default(64 * 1024 * 1024),
        serve: z.enum(['fallback', 'always']).default('fallback'),
        record: z.boolean().default(true),
        warm_file: z.string().min(1).optional(),
      })
      .optional(),
  })
  .superRefine((g, ctx) => {
    const primaries = g.groups.filter((x) => x.role === 'primary');
    if (primaries.length !== 1) {
      ctx.addIssue({ code: 'custom', path: ['groups'], message: `exactly one group must have role: primary (found ${primaries.length})` });
    }
    const seen = new Set<string>();
    g.groups.forEach((grp, gi) => {
      if (seen.has(grp.name)) ctx.addIssue({ code: 'custom', path: ['groups', gi, 'name'], message: `group name "${grp.name}" is used twice` });
      seen.add(grp.name);
    });
    const upstreamNames = new Set<string>();
    g.groups.forEach((grp, gi) =>
      grp.upstreams.forEach((u, ui) => {
        if (upstreamNames.has(u.name)) {
          ctx.addIssue({ code: 'custom', path: ['groups', gi, 'upstreams', ui, 'name'], message: `upstream name "${u.name}" is used twice` });
        }
        upstreamNames.add(u.name);
        if (!(u.probe?.model ?? grp.probe?.model ?? defaultProbeModel(grp.models)) && (u.probe?.endpoint ?? grp.probe?.endpoint) !== 'models') {
          ctx.addIssue({
            code: 'custom',
            path: ['groups', gi, 'upstreams', ui],
            message: 'the health probe needs a model: set probe.model on the group or upstream, or give the group a models map',
          });
        }
      }),
    );
  });

export type GatewaySection = z.input<typeof gatewaySectionSchema>;
type Parsed = z.output<typeof gatewaySectionSchema>;

export type Role = 'primary' | 'standby' | 'degraded';
export type ProbeEndpoint = 'chat' | 'completions' | 'embeddings' | 'models';

export interface UpstreamConfig {
  readonly name: string;
  readonly group: string;
  /** Base URL without a trailing slash; endpoints are appended as /v1/... */
  readonly url: string;
  readonly apiKey: string | undefined;
  readonly maxConnections: number;
  readonly probe: { readonly endpoint: ProbeEndpoint; readonly model: string };
}

export interface GroupConfig {
  readonly name: string;
  readonly role: Role;
  readonly models: Readonly<Record<string, string>> | undefined;
  readonly upstreams: readonly UpstreamConfig[];
}

export interface CacheConfig {
  readonly path: string | undefined;
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly serve: 'fallback' | 'always';
  readonly record: boolean;
  readonly warmFile: string | undefined;
}

export interface GatewayConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly adminToken: string | undefined;
  /** The variable adminToken was read from, named in messages when it is unset. */
  readonly adminTokenEnv: string;
  readonly deadlineMs: number;
  readonly attemptTimeoutMs: number;
  readonly maxBodyBytes: number;
  readonly retries: { readonly maxAttempts: number; readonly budgetPercent: number; readonly minPerSecond: number };
  readonly healthCheck: { readonly intervalMs: number; readonly timeoutMs: number; readonly healthyThreshold: number; readonly unhealthyThreshold: number };
  readonly outlier: { readonly consecutiveFailures: number; readonly baseEjectionMs: number; readonly maxEjectionMs: number };
  /** In configured order; the live priority order is kept by the routing table. */
  readonly groups: readonly GroupConfig[];
  readonly cache: CacheConfig | undefined;
}

function defaultProbeModel(models: Record<string, string> | undefined): string | undefined {
  if (!models) return undefined;
  return Object.values(models)[0];
}

/** "host:port" -> parts; IPv6 hosts may be written in brackets. */
export function parseListen(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(s.slice(i + 1)) };
}

/** Turns the validated on-disk section into the runtime shape. `env` supplies secrets named by *_env keys. */
export function normaliseGatewayConfig(p: Parsed, env: NodeJS.ProcessEnv): GatewayConfig {
  return {
    listen: parseListen(p.listen),
    adminToken: env[p.admin.token_env] || undefined,
    adminTokenEnv: p.admin.token_env,
    deadlineMs: p.deadline,
    attemptTimeoutMs: p.attempt_timeout,
    maxBodyBytes: p.max_body_bytes,
    retries: { maxAttempts: p.retries.max_attempts, budgetPercent: p.retries.budget_percent, minPerSecond: p.retries.min_per_second },
    healthCheck: {
      intervalMs: p.health_check.interval,
      timeoutMs: p.health_check.timeout,
      healthyThreshold: p.health_check.healthy_threshold,
      unhealthyThreshold: p.health_check.unhealthy_threshold,
    },
    outlier: {
      consecutiveFailures: p.outlier_detection.consecutive_failures,
      baseEjectionMs: p.outlier_detection.base_ejection,
      maxEjectionMs: p.outlier_detection.max_ejection,
    },
    groups: p.groups.map((g) => ({
      name: g.name,
      role: g.role,
      models: g.models,
      upstreams: g.upstreams.map((u) => ({
        name: u.name,
        group: g.name,
        url: u.url.replace(/\/+$/, '').replace(/\/v1$/, ''),
        apiKey: u.api_key_env ? env[u.api_key_env] || undefined : undefined,
        maxConnections: u.max_connections,
        probe: {
          endpoint: u.probe?.endpoint ?? g.probe?.endpoint ?? 'chat',
          model: u.probe?.model ?? g.probe?.model ?? defaultProbeModel(g.models) ?? '',
        },
      })),
    })),
    cache: p.cache && {
      path: p.cache.path,
      ttlMs: p.cache.ttl,
      maxEntries: p.cache.max_entries,
      maxBytes: p.cache.max_bytes,
      serve: p.cache.serve,
      record: p.cache.record,
      warmFile: p.cache.warm_file,
    },
  };
}
