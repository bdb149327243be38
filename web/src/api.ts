// The API's documents (the same types the server builds them from) and how the pages fetch them.
// The browser's session cookie carries the sign-in: no token is ever held by a page script.
import type { AssetStatus, StatusDocument } from '../../src/control/status.js';
import type { StatsDocument } from '../../src/control/tier-stats.js';
import type { JobRecord } from '../../src/control/jobs.js';
import type { RunningJob } from '../../src/control/scheduler.js';
import type { Snapshot } from '../../src/repo/snapshot.js';
import type { AssetDrillHistory, DrillRun } from '../../src/control/drills.js';
import type { Report } from '../../src/control/reports.js';
import type { LineageNode } from '../../src/control/lineage-graph.js';
import type { assetDocument } from '../../src/control/assets-document.js';

export type { AssetDrillHistory, AssetStatus, DrillRun, JobRecord, Report, RunningJob };

export interface Status extends StatusDocument {
  /** How old the served status is, and why the last refresh failed (the previous one is still served). */
  cache: { updated_at: string; age_seconds: number; error: string | null; refresh_every_seconds: number };
}
export type Stats = StatsDocument & { age_seconds: number };
export type StoredSnapshot = Snapshot & { id: string };
export interface Jobs {
  running: RunningJob[];
  recent: JobRecord[];
}
/** `drill history --json` as of the server's last refresh. */
export interface Drills {
  assets: AssetDrillHistory[];
  age_seconds: number;
}
export type AssetInfo = ReturnType<typeof assetDocument>;
export interface Assets {
  file: string;
  assets: AssetInfo[];
  warnings: Array<{ asset: string | null; path: string | null; message: string }>;
}
export interface Session {
  auth: 'token' | 'none';
  via: 'bearer' | 'session' | null;
}

/** An answer that is not 2xx, with the server's error document's words. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' }));
}

export async function postJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { method: 'POST', headers: { accept: 'application/json' }, credentials: 'same-origin' }));
}

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? 'ERROR', body?.error?.message ?? `the server answered ${res.status}`);
  return body as T;
}

export const api = {
  status: () => getJson<Status>('/api/v1/status'),
  stats: () => getJson<Stats>('/api/v1/stats'),
  assets: () => getJson<Assets>('/api/v1/assets'),
  snapshots: (asset: string) => getJson<StoredSnapshot[]>(`/api/v1/snapshots?asset=${encodeURIComponent(asset)}`),
  jobs: () => getJson<Jobs>('/api/v1/jobs'),
  drills: () => getJson<Drills>('/api/v1/drills'),
  lineage: (asset: string) => getJson<{ asset: string; node: LineageNode | null }>(`/api/v1/assets/${encodeURIComponent(asset)}/lineage`),
  report: (id: string) => getJson<Report>(`/api/v1/drills/${encodeURIComponent(id)}`),
  session: () => getJson<Session>('/api/v1/session'),
  backup: (asset: string) => postJson<{ accepted: boolean; key: string }>(`/api/v1/assets/${encodeURIComponent(asset)}/backup`),
};
