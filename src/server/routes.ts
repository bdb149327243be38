/**
 * The JSON API, /api/v1: the documents the CLI prints with --json, served from what the service
 * has in memory (the status is cached and says how old it is, so a slow repository never stalls
 * a page), live job events as server-sent events, and POST to back up an asset now.
 */
import type http from 'node:http';
import { LifeboatError } from '../base/errors.js';
import { drillHistory } from '../control/drills.js';
import { newestLineage } from '../control/lineage-graph.js';
import { findReport, type Report } from '../control/reports.js';
import { recentJobs, type DrService, type ServiceEvent } from '../control/service.js';
import { sendJson } from './http-util.js';

export interface ApiContext {
  service: DrService;
  /** `lifeboat assets --json`. */
  assetsDocument: unknown;
  now(): number;
}

export async function routeRequest(ctx: ApiContext, req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  const path = url.pathname.replace(/\/+$/, '');
  const method = req.method ?? 'GET';
  const backup = /^\/api\/v1\/assets\/([^/]+)\/backup$/.exec(path);
  if (backup) return method === 'POST' ? backupNow(ctx, res, decodeURIComponent(backup[1])) : notAllowed(method, path);
  if (method !== 'GET') return notAllowed(method, path);
  const report = /^\/api\/v1\/drills\/([^/]+)$/.exec(path);
  if (report) return drillReport(ctx, res, decodeURIComponent(report[1]));
  const lineage = /^\/api\/v1\/assets\/([^/]+)\/lineage$/.exec(path);
  if (lineage) return assetLineage(ctx, res, decodeURIComponent(lineage[1]));
  switch (path) {
    case '/api/v1/status':
      return status(ctx, res, url.searchParams.get('asset') ?? undefined);
    case '/api/v1/assets':
      return sendJson(res, 200, ctx.assetsDocument);
    case '/api/v1/snapshots': {
      const asset = url.searchParams.get('asset');
      return sendJson(res, 200, ctx.service.view().snapshots.filter((s) => asset === null || s.snapshot.asset === asset).map((s) => ({ id: s.id, ...s.snapshot })));
    }
    case '/api/v1/stats':
      return usage(ctx, res);
    case '/api/v1/drills':
      return drills(ctx, res, url.searchParams.get('asset') ?? undefined);
    case '/api/v1/jobs':
      return sendJson(res, 200, { running: ctx.service.running(), recent: recentJobs(ctx.service.view()) });
    case '/api/v1/events':
      return events(ctx, req, res);
  }
  throw new LifeboatError('NOT_FOUND_ROUTE', `no API route ${method} ${path} (see docs/cli.md, "lifeboat serve")`);
}

function ageSeconds(ctx: ApiContext, at: number | undefined): number {
  return Math.max(0, Math.round((ctx.now() - (at ?? 0)) / 1000));
}

function notAllowed(method: string, path: string): never {
  throw new LifeboatError('USAGE', `${method} is not allowed on ${path}`);
}

function status(ctx: ApiContext, res: http.ServerResponse, asset: string | undefined): void {
  const cached = ctx.service.cached();
  if (!cached.status) throw new LifeboatError('TRANSIENT', `the status is not computed yet${cached.error ? ` (${cached.error})` : ''}: try again in a few seconds`);
  const age = ageSeconds(ctx, cached.updatedAt);
  res.setHeader('x-lifeboat-status-age', String(age));
  const assets = asset === undefined ? cached.status.assets : cached.status.assets.filter((a) => a.name === asset);
  if (asset !== undefined && assets.length === 0) throw new LifeboatError('NOT_FOUND_ASSET', `no asset "${asset}"`);
  sendJson(res, 200, { ...cached.status, assets, cache: { updated_at: new Date(cached.updatedAt ?? 0).toISOString(), age_seconds: age, error: cached.error ?? null, refresh_every_seconds: Math.round((cached.refreshEveryMs ?? 0) / 1000) } });
}

/** Stored and protected bytes per tier, from the service's last refresh (the walk of every tree is too slow to do per request). */
function usage(ctx: ApiContext, res: http.ServerResponse): void {
  const cached = ctx.service.cached();
  if (!cached.usage) throw new LifeboatError('TRANSIENT', `the repository statistics are not computed yet${cached.error ? ` (${cached.error})` : ''}: try again in a few seconds`);
  sendJson(res, 200, { ...cached.usage, age_seconds: ageSeconds(ctx, Date.parse(cached.usage.generated_at)) });
}

/** The reports the service read at its last refresh; 503 until it has read them once. */
function cachedReports(ctx: ApiContext): Report[] {
  const { reports } = ctx.service.cached();
  if (!reports) throw new LifeboatError('TRANSIENT', 'the drill reports are not read yet: try again in a few seconds');
  return reports;
}

/** `lifeboat drill history --json`, from the reports the service read at its last refresh. */
function drills(ctx: ApiContext, res: http.ServerResponse, asset: string | undefined): void {
  sendJson(res, 200, { assets: drillHistory(cachedReports(ctx), asset), age_seconds: ageSeconds(ctx, ctx.service.cached().updatedAt) });
}

/** One drill or recovery report, as `lifeboat drill report ID --format json` prints it. */
function drillReport(ctx: ApiContext, res: http.ServerResponse, id: string): void {
  const report = findReport(cachedReports(ctx), id);
  if (!report) throw new LifeboatError('NOT_FOUND_REPORT', `no report ${id} in the repository (GET /api/v1/drills lists them)`);
  sendJson(res, 200, report);
}

/** What the newest version of an asset with lineage was made from, transitively, from the cached view (node null: none recorded). */
async function assetLineage(ctx: ApiContext, res: http.ServerResponse, asset: string): Promise<void> {
  sendJson(res, 200, { asset, node: (await newestLineage(ctx.service.view().snapshots, asset)) ?? null });
}

function backupNow(ctx: ApiContext, res: http.ServerResponse, asset: string): void {
  const answer = ctx.service.backupNow(asset);
  if (!answer.accepted) throw new LifeboatError(answer.reason?.startsWith('no asset') ? 'NOT_FOUND_ASSET' : 'CONFLICT', answer.reason ?? `cannot back up ${asset} now`);
  sendJson(res, 202, { accepted: true, asset, key: `backup:${asset}` });
}

/** Server-sent events: `job` (started, progress, finished, skipped) and `status`; a comment every 15 s keeps proxies from closing the stream. */
function events(ctx: ApiContext, req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
  res.write(`retry: 3000\n\n`);
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const unsubscribe = ctx.service.subscribe((e: ServiceEvent) => {
    if (e.type === 'round') return;
    if (e.type === 'status') return send('status', { generated_at: e.status.summary.generated_at, summary: e.status.summary });
    if (e.type === 'skipped') return send('job', { type: 'skipped', key: e.key, reason: e.reason });
    send('job', { type: e.type, job: e.job, ...(e.type === 'finished' ? { record: e.record } : {}) });
  });
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(keepAlive);
    unsubscribe();
  });
}
