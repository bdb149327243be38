/** `lifeboat status`: is every promise of the DR plan kept? Exit 4 when an RPO is violated or was never met. */
import type { Command } from 'commander';
import { systemClock } from '../../base/clock.js';
import { formatAge, formatDuration } from '../../base/duration.js';
import { catalogFile, openCatalog } from '../../control/catalog.js';
import { gatherStatus, type AssetStatus, type StatusDocument } from '../../control/status.js';
import { cacheRoot } from '../../storage/object-cache.js';
import { OutcomeError } from '../errors.js';
import { formatBytes, makeOutput, table } from '../output.js';
import { planAccess, readPlan } from '../plan-options.js';
import { withRepoOptions, type RepoFlags } from '../repo-options.js';

export function registerStatus(program: Command): void {
  withRepoOptions(program.command('status').description('per asset: last good backup against its RPO, replicas and their lag, last verification and drill, estimated RTO (exit 4 when an objective is not met)'))
    .option('--asset <name>', 'only this asset')
    .action(async (flags: RepoFlags & { asset?: string }) => {
      const out = makeOutput(!!flags.json, !!flags.quiet);
      const plan = await readPlan(flags);
      if (flags.asset && !plan.assets.some((a) => a.name === flags.asset)) {
        throw new OutcomeError('NOT_FOUND_ASSET', `no asset "${flags.asset}" in ${plan.file} (it has ${plan.assets.map((a) => a.name).join(', ') || 'none'})`);
      }
      const access = planAccess(flags, plan);
      const catalog = openCatalog(catalogFile(process.env, cacheRoot(process.env)));
      try {
        const doc = await gatherStatus(plan, access, {
          clock: systemClock,
          asset: flags.asset,
          view: (primary) => catalog.sync(primary, (what, err) => out.warn(`${what} cannot be read (${err.message}); "lifeboat check" reports it`)),
        });
        out.result(doc, () => describeStatus(doc));
        if (!doc.summary.objectives_met) {
          const failing = doc.assets.filter((a) => a.rpo_state === 'violated' || a.rpo_state === 'never').map((a) => `${a.name} (${a.rpo_state})`);
          throw new OutcomeError('OBJECTIVE_NOT_MET', `RPO not met for ${failing.join(', ')}`);
        }
      } finally {
        catalog.close();
        await access.close();
      }
    });
}

const MARK: Record<AssetStatus['rpo_state'], string> = { ok: '✔ ok', at_risk: '▲ at risk', violated: '✖ VIOLATED', never: '✖ NEVER', git: '○ git' };

export function describeStatus(doc: StatusDocument): string {
  const rows = doc.assets.map((a) => [
    MARK[a.rpo_state],
    a.name,
    String(a.tier),
    a.kind,
    a.tier === 3 ? '-' : formatDuration(a.rpo_seconds * 1000),
    a.age_seconds === null ? (a.tier === 3 ? (a.git_remote ?? '-') : 'never') : `${formatAge(a.age_seconds * 1000)} ago`,
    a.replicas.length === 0 ? '-' : a.replicas.map(replicaCell).join(', '),
    a.verification ? `${a.verification.result} ${formatAge(a.verification.age_seconds * 1000)} ago` : '-',
    a.drill ? `${a.drill.verdict} ${a.drill.measured_rto_seconds === null ? '' : formatAge(a.drill.measured_rto_seconds * 1000)}/${formatDuration(a.drill.target_rto_seconds * 1000)}` : '-',
    a.estimated_rto_seconds === null ? '-' : `${formatAge(a.estimated_rto_seconds * 1000)} / ${formatDuration(a.rto_seconds * 1000)}`,
  ]);
  const s = doc.summary;
  const lines = [
    table(['State', 'Asset', 'Tier', 'Kind', 'RPO', 'Last good backup', 'Replicas (lag)', 'Verified', 'Last drill', 'Est. RTO / target'], rows),
    '',
    `${s.assets} asset(s) in ${s.repository}: ${s.ok} ok, ${s.at_risk} at risk, ${s.violated} violated, ${s.never} never backed up, ${s.git} from git`,
  ];
  for (const a of doc.assets) {
    if (a.last_backup?.result === 'failed') lines.push(`${a.name}: the last backup failed at ${a.last_backup.finished_at}: ${a.last_backup.error?.message ?? 'no reason recorded'}`);
    for (const r of a.replicas) if (r.error) lines.push(`${a.name}: replica ${r.repository} cannot be read: ${r.error.message}`);
  }
  return lines.join('\n');
}

function replicaCell(r: AssetStatus['replicas'][number]): string {
  if (r.error) return `${r.repository} (unreadable)`;
  if (r.missing_snapshots === 0) return `${r.repository} (in sync)`;
  return `${r.repository} (${formatAge((r.lag_seconds ?? 0) * 1000)}, ${formatBytes(r.pending_bytes ?? 0)})`;
}
