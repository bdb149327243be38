/**
 * Alerts: a webhook POST when a promise breaks — a job failed, an RPO is at risk or violated,
 * a verification found damage — and when it holds again. One alert per change of state, then a
 * reminder every `remind_every` while it stays broken: no storm. `evaluateAlerts` is pure (the
 * conditions now, what was last alerted, the time); the body is documented in docs/cli.md
 * ("Alert webhooks") and has a `text` field, so Slack and Mattermost incoming webhooks take it as
 * it is.
 */
import type { JobRecord } from './jobs.js';
import type { Asset } from './plan.js';
import { newestRecord } from './jobs.js';
import type { RpoState } from './rpo.js';
import { verified } from './status.js';

export type Severity = 'critical' | 'warning' | 'info';

/** One thing that can be fine or not: `rpo:ASSET`, `backup:ASSET`, `replication:ASSET`, `verification`, `drill:ASSET`. */
export interface Condition {
  key: string;
  asset?: Asset;
  /** 'ok' or the name of what is wrong. */
  state: string;
  severity: Severity;
  message: string;
}

export interface AlertState {
  /** Per condition key: the state last alerted and when. */
  [key: string]: { state: string; sentAt: number };
}

export interface Alert {
  key: string;
  event: string;
  severity: Severity;
  asset: string | null;
  tier: number | null;
  state: string;
  previous: string;
  reminder: boolean;
  message: string;
  webhooks: string[];
}

/** What a webhook receives (docs/cli.md, "Alert webhooks"). */
export type AlertBody = Omit<Alert, 'key' | 'webhooks'> & { source: 'lifeboat'; text: string; host: string; time: string };

const DAY = 86_400_000;

/** The alerts due now and the state to keep. A condition seen for the first time counts as having been ok. */
export function evaluateAlerts(conditions: readonly Condition[], previous: AlertState, now: number, everyWebhook: string[]): { alerts: Alert[]; state: AlertState } {
  const state: AlertState = { ...previous };
  const alerts: Alert[] = [];
  for (const c of conditions) {
    const last = previous[c.key] ?? { state: 'ok', sentAt: 0 };
    const webhooks = c.asset ? c.asset.policy.alerts.webhooks : everyWebhook;
    const remindEvery = c.asset?.policy.alerts.remindEveryMs ?? DAY;
    const changed = c.state !== last.state;
    const remind = !changed && c.state !== 'ok' && now - last.sentAt >= remindEvery;
    if (!changed && !remind) continue;
    state[c.key] = { state: c.state, sentAt: now };
    if (webhooks.length === 0) continue;
    alerts.push({
      key: c.key,
      event: c.state === 'ok' ? `${kindOf(c.key)}_ok` : `${kindOf(c.key)}_${c.state}`,
      severity: c.state === 'ok' ? 'info' : c.severity,
      asset: c.asset?.name ?? null,
      tier: c.asset?.tier ?? null,
      state: c.state,
      previous: last.state,
      reminder: remind,
      message: c.message,
      webhooks,
    });
  }
  return { alerts, state };
}

function kindOf(key: string): string {
  return key.split(':')[0];
}

/** The conditions the plan's promises are in, from each asset's RPO state and the newest job records. */
export function conditionsOf(assets: readonly Asset[], rpo: ReadonlyMap<string, RpoState>, jobs: readonly JobRecord[]): Condition[] {
  const out: Condition[] = [];
  for (const asset of assets) {
    if (asset.tier === 3) continue;
    const state = rpo.get(asset.name) ?? 'never';
    const rpoState = state === 'at_risk' || state === 'violated' ? state : state === 'never' ? 'violated' : 'ok';
    out.push({
      key: `rpo:${asset.name}`,
      asset,
      state: rpoState,
      severity: rpoState === 'violated' ? 'critical' : 'warning',
      message: rpoState === 'ok' ? `${asset.name}: within its RPO again` : state === 'never' ? `${asset.name}: never backed up (Tier ${asset.tier})` : `${asset.name}: RPO ${rpoState === 'violated' ? 'violated' : 'at risk'}: the last good backup is older than ${rpoState === 'violated' ? '' : '75% of '}its RPO`,
    });
    const backup = newestRecord(jobs, (j) => j.kind === 'backup' && j.asset === asset.name);
    if (backup) {
      const failed = backup.result === 'failed';
      out.push({ key: `backup:${asset.name}`, asset, state: failed ? 'failed' : 'ok', severity: 'critical', message: failed ? `${asset.name}: backup failed on ${backup.host}: ${backup.error?.message ?? 'no reason recorded'}` : `${asset.name}: backups succeed again` });
    }
    const replicated = newestRecord(jobs, (j) => (j.kind === 'backup' || j.kind === 'replicate') && j.asset === asset.name && Array.isArray(j.details.replicated));
    if (replicated) {
      const failed = (replicated.details.replicated as Array<{ repository: string; result: string; error?: { message: string } }>).filter((r) => r.result === 'failed');
      out.push({ key: `replication:${asset.name}`, asset, state: failed.length ? 'failed' : 'ok', severity: 'warning', message: failed.length ? `${asset.name}: not replicated to ${failed.map((f) => `${f.repository} (${f.error?.message ?? 'failed'})`).join(', ')}` : `${asset.name}: replicated again` });
    }
  }
  for (const asset of assets) {
    const drill = newestRecord(jobs, (j) => j.kind === 'drill' && j.details.asset === asset.name && j.result !== 'interrupted');
    if (!drill) continue;
    const verdict = String(drill.details.verdict ?? 'failed');
    const state = verdict === 'met' ? 'ok' : verdict === 'missed' ? 'missed' : 'failed';
    const took = Number(drill.details.total_seconds ?? 0);
    const target = Number(drill.details.rto_seconds ?? 0);
    out.push({
      key: `drill:${asset.name}`,
      asset,
      state,
      severity: state === 'failed' ? 'critical' : 'warning',
      message: state === 'ok' ? `${asset.name}: drill recovered it within its RTO (${took}s of ${target}s)` : state === 'missed' ? `${asset.name}: drill took ${took}s, over its RTO of ${target}s (report ${drill.details.report})` : `${asset.name}: drill failed: ${drill.error?.message ?? 'see the report'} (report ${drill.details.report ?? '-'})`,
    });
  }
  const verify = newestRecord(jobs, verified);
  if (verify) {
    const failed = verify.result === 'failed';
    out.push({ key: 'verification', state: failed ? 'failed' : 'ok', severity: 'critical', message: failed ? `verification failed: ${verify.error?.message ?? 'see the job record'}` : 'verification passes again' });
  }
  return out;
}

export function alertBody(alert: Alert, host: string, now: number): AlertBody {
  const icon = alert.severity === 'critical' ? ':rotating_light:' : alert.severity === 'warning' ? ':warning:' : ':white_check_mark:';
  return {
    source: 'lifeboat',
    text: `${icon} Lifeboat${alert.reminder ? ' (reminder)' : ''}: ${alert.message}`,
    event: alert.event,
    severity: alert.severity,
    asset: alert.asset,
    tier: alert.tier,
    state: alert.state,
    previous: alert.previous,
    reminder: alert.reminder,
    message: alert.message,
    host,
    time: new Date(now).toISOString(),
  };
}
