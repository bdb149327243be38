// The overview: are we safe? What fails comes first, then the totals, then every asset by tier.
import type { AssetStatus, Stats, Status } from './api.js';
import { ago, bytes, ratio, span } from './format.js';
import { Bar, ErrorNote, Link, Section, StateBadge } from './ui.js';

export const TIER_NAMES: Record<number, string> = {
  1: 'Tier 1: irreplaceable',
  2: 'Tier 2: reproducible but slow',
  3: 'Tier 3: rebuilt from git',
};

/** Everything wrong with an asset, in words; empty when nothing is. */
export function problemsOf(a: AssetStatus): string[] {
  const out: string[] = [];
  if (a.rpo_state === 'violated') out.push(`RPO violated: the last good backup is ${span(a.age_seconds ?? 0)} old, the RPO is ${span(a.rpo_seconds)}`);
  if (a.rpo_state === 'never') out.push('never backed up');
  if (a.rpo_state === 'at_risk') out.push(`at risk: the last good backup is ${span(a.age_seconds ?? 0)} old, the RPO is ${span(a.rpo_seconds)}`);
  if (a.last_backup && a.last_backup.result !== 'ok') out.push(`the last backup ${a.last_backup.result}${a.last_backup.error ? `: ${a.last_backup.error.message}` : ''}`);
  for (const r of a.replicas) {
    if (r.error) out.push(`replica ${r.repository}: ${r.error.message}`);
    else if ((r.missing_snapshots ?? 0) > 0) out.push(`replica ${r.repository} lags ${span(r.lag_seconds ?? 0)} (${r.missing_snapshots} snapshot(s) missing)`);
  }
  if (a.verification && a.verification.result !== 'ok') out.push(`verification ${a.verification.result}: ${a.verification.errors[0] ?? ''}`);
  if (a.drill && a.drill.verdict !== 'met') out.push(`the last drill ${a.drill.verdict === 'missed' ? 'missed its RTO' : 'failed'}`);
  return out;
}

export function Overview({ status, stats, statusError, statsError }: { status?: Status; stats?: Stats; statusError?: unknown; statsError?: unknown }) {
  if (!status) return statusError ? <ErrorNote error={statusError} what="the status" /> : <p class="loading">Loading the status…</p>;
  const failing = status.assets.filter((a) => problemsOf(a).length > 0);
  return (
    <>
      <Attention failing={failing} />
      <Totals stats={stats} error={statsError} />
      {[1, 2, 3].map((tier) => (
        <TierGroup key={tier} tier={tier} assets={status.assets.filter((a) => a.tier === tier)} stats={stats} />
      ))}
    </>
  );
}

function Attention({ failing }: { failing: AssetStatus[] }) {
  if (failing.length === 0) {
    return (
      <p class="all-clear" role="status">
        <StateBadge state="ok" /> Every objective is met: every asset has a backup within its RPO.
      </p>
    );
  }
  return (
    <Section title={`Needs attention (${failing.length})`} id="attention">
      <ul class="attention">
        {failing.map((a) => (
          <li key={a.name} class={`attention-item state-edge-${a.rpo_state}`} data-asset={a.name}>
            <StateBadge state={a.rpo_state} />
            <Link to={`/assets/${encodeURIComponent(a.name)}`} class="asset-name">
              {a.name}
            </Link>
            <span class="muted">Tier {a.tier}</span>
            <ul class="problems">
              {problemsOf(a).map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Totals({ stats, error }: { stats?: Stats; error?: unknown }) {
  if (!stats) return error ? <ErrorNote error={error} what="the repository statistics" /> : null;
  const t = stats.total;
  const most = Math.max(1, ...stats.tiers.map((x) => x.stored_bytes));
  return (
    <Section title="Totals" id="totals" note={`Repository ${stats.repository}; computed ${ago(stats.age_seconds)}.`}>
      <dl class="totals">
        <div>
          <dt>Protected</dt>
          <dd data-total="protected">{bytes(t.protected_bytes)}</dd>
        </div>
        <div>
          <dt>Stored</dt>
          <dd data-total="stored">{bytes(t.stored_bytes)}</dd>
        </div>
        <div>
          <dt>Saved by dedup</dt>
          <dd>
            {bytes(t.dedup_saved_bytes)} <span class="muted">({ratio(t.dedup_ratio)})</span>
          </dd>
        </div>
        <div>
          <dt>Saved by compression</dt>
          <dd>
            {bytes(t.compression_saved_bytes)} <span class="muted">({ratio(t.compression_ratio)})</span>
          </dd>
        </div>
      </dl>
      <table class="tier-usage">
        <caption>Stored bytes per tier</caption>
        <thead>
          <tr>
            <th scope="col">Tier</th>
            <th scope="col">Assets</th>
            <th scope="col">Snapshots</th>
            <th scope="col">Protected</th>
            <th scope="col">Stored</th>
            <th scope="col" class="wide">Share</th>
          </tr>
        </thead>
        <tbody>
          {stats.tiers.map((x) => (
            <tr key={String(x.tier)} data-tier={String(x.tier)}>
              <th scope="row">{x.tier === null ? 'not in the plan' : `Tier ${x.tier}`}</th>
              <td>{x.assets}</td>
              <td>{x.snapshots}</td>
              <td>{bytes(x.protected_bytes)}</td>
              <td>{bytes(x.stored_bytes)}</td>
              <td class="wide">
                <Bar value={x.stored_bytes} max={most} state={`tier${x.tier ?? 0}`} label={`${bytes(x.stored_bytes)} stored`} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function TierGroup({ tier, assets, stats }: { tier: number; assets: AssetStatus[]; stats?: Stats }) {
  if (assets.length === 0) return null;
  const usage = stats?.tiers.find((t) => t.tier === tier);
  return (
    <Section title={TIER_NAMES[tier]} id={`tier-${tier}`} note={usage ? `${assets.length} asset(s), ${bytes(usage.stored_bytes)} stored` : `${assets.length} asset(s)`}>
      <ul class="assets">
        {assets.map((a) => (
          <AssetRow key={a.name} asset={a} />
        ))}
      </ul>
    </Section>
  );
}

function AssetRow({ asset: a }: { asset: AssetStatus }) {
  return (
    <li class={`asset state-edge-${a.rpo_state}`} data-asset={a.name} data-state={a.rpo_state}>
      <div class="asset-head">
        <StateBadge state={a.rpo_state} />
        <Link to={`/assets/${encodeURIComponent(a.name)}`} class="asset-name">
          {a.name}
        </Link>
        <span class="muted">
          {a.kind}
          {a.owner ? ` · ${a.owner}` : ''}
        </span>
      </div>
      {a.tier === 3 ? (
        <p class="muted">Rebuilt from git{a.git_remote ? `: ${a.git_remote}` : ''}; never backed up.</p>
      ) : (
        <>
          <RpoLine asset={a} />
          <dl class="facts">
            <div>
              <dt>Replicas</dt>
              <dd>{a.replicas.length ? a.replicas.map((r) => <ReplicaFact key={r.repository} replica={r} />) : 'none'}</dd>
            </div>
            <div>
              <dt>Verified</dt>
              <dd>{a.verification ? `${a.verification.result === 'ok' ? 'ok' : a.verification.result}, ${ago(a.verification.age_seconds)}` : 'never'}</dd>
            </div>
            <div>
              <dt>Last drill</dt>
              <dd>{a.drill ? <DrillFact drill={a.drill} /> : 'no drill yet'}</dd>
            </div>
            <div>
              <dt>RTO</dt>
              <dd>
                target {span(a.rto_seconds)}
                {a.estimated_rto_seconds !== null ? `, estimated ${span(a.estimated_rto_seconds)}` : ''}
              </dd>
            </div>
          </dl>
        </>
      )}
    </li>
  );
}

export function RpoLine({ asset: a }: { asset: AssetStatus }) {
  const age = a.age_seconds;
  return (
    <div class="rpo">
      <Bar value={age ?? a.rpo_seconds} max={a.rpo_seconds} state={a.rpo_state} label={age === null ? 'no backup' : `${span(age)} of an RPO of ${span(a.rpo_seconds)}`} />
      <span class="rpo-text" data-age={age ?? ''}>
        {age === null ? `no good backup yet; RPO ${span(a.rpo_seconds)}` : `last good backup ${ago(age)}; RPO ${span(a.rpo_seconds)}`}
      </span>
    </div>
  );
}

function ReplicaFact({ replica: r }: { replica: AssetStatus['replicas'][number] }) {
  const text = r.error ? `unreadable (${r.error.message})` : (r.missing_snapshots ?? 0) === 0 ? 'in sync' : `${span(r.lag_seconds ?? 0)} behind, ${r.missing_snapshots} missing`;
  return (
    <span class={`replica${r.error || (r.missing_snapshots ?? 0) > 0 ? ' warn' : ''}`}>
      {r.repository}: {text}{' '}
    </span>
  );
}

export function DrillFact({ drill }: { drill: NonNullable<AssetStatus['drill']> }) {
  return (
    <span class={drill.verdict === 'met' ? '' : 'warn'}>
      {drill.verdict}: {drill.measured_rto_seconds === null ? 'not measured' : span(drill.measured_rto_seconds)} of {span(drill.target_rto_seconds)}
    </span>
  );
}
