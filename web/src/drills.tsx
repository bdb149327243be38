// Drills: every asset's drill history by tier (the same as `lifeboat drill history`), a chart of
// measured recovery time against the RTO over time, and a link to each drill's report with its
// step timeline. The history is what the server read at its last status refresh: it is reloaded
// whenever the status is.
import { formatRto, formatSeconds } from '../../src/control/report-markdown.js';
import { api, type AssetDrillHistory, type DrillRun, type Status } from './api.js';
import { useReloadOn, useResource } from './data.js';
import { when } from './format.js';
import { TIER_NAMES } from './overview.js';
import { RtoChart } from './rto-chart.js';
import { ErrorNote, Link, Section, VerdictBadge } from './ui.js';

/** How many of an asset's drills are listed under its chart (the chart shows all). */
const LISTED = 10;

export function DrillsPage({ status }: { status?: Status }) {
  const drills = useResource(api.drills, 'drills');
  useReloadOn(status?.summary.generated_at, drills.reload);
  const assets = drills.data?.assets ?? [];
  return (
    <>
      <h1 tabIndex={-1}>Drills</h1>
      {drills.error ? <ErrorNote error={drills.error} what="the drill history" /> : null}
      {drills.data && assets.length === 0 ? (
        <p class="empty" data-empty="drills">
          No drill data yet: no drill has been recorded in this repository, so there is no measured RTO to show. A drill restores an asset from its backups and measures the time against its RTO (<code>lifeboat drill</code>, or <code>serve</code> on each tier's <code>drill_every</code>); when drills run, their history, step timelines and an RTO chart appear here.
        </p>
      ) : null}
      {!drills.data && !drills.error ? <p class="loading">Loading the drill history…</p> : null}
      {[1, 2].map((tier) => {
        const rows = assets.filter((a) => a.tier === tier);
        return rows.length ? (
          <Section key={tier} title={TIER_NAMES[tier]} id={`drills-${tier}`}>
            <DrillTable rows={rows} />
            {rows.map((a) => (
              <AssetDrills key={a.asset} history={a} />
            ))}
          </Section>
        ) : null;
      })}
    </>
  );
}

function DrillTable({ rows }: { rows: AssetDrillHistory[] }) {
  return (
    <table class="drill-table">
      <thead>
        <tr>
          <th scope="col">Asset</th>
          <th scope="col">Drills</th>
          <th scope="col">Last drill</th>
          <th scope="col">Measured of target</th>
          <th scope="col">Trend</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((a) => {
          const last = a.runs[a.runs.length - 1];
          return (
            <tr key={a.asset} data-asset={a.asset}>
              <th scope="row">
                <Link to={`/assets/${encodeURIComponent(a.asset)}`}>{a.asset}</Link>
              </th>
              <td>
                {a.runs.length} ({count(a.runs, 'met')} met, {count(a.runs, 'missed')} missed, {count(a.runs, 'failed')} failed)
              </td>
              <td>
                <VerdictBadge verdict={last.verdict} /> <Link to={`/drills/${encodeURIComponent(last.id)}`}>{when(last.started_at)}</Link>
              </td>
              <td>{measured(last)}</td>
              <td>{a.trend ? `${a.trend} (${a.change_percent! > 0 ? '+' : ''}${a.change_percent}%)` : '–'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function AssetDrills({ history: a }: { history: AssetDrillHistory }) {
  const listed = a.runs.slice(-LISTED).reverse();
  return (
    <div class="asset-drills" data-asset={a.asset}>
      <h3>
        {a.asset} <span class="muted">RTO {formatRto(a.rto_seconds)}</span>
      </h3>
      <RtoChart asset={a.asset} runs={a.runs} />
      <ol class="drill-runs" reversed>
        {listed.map((r) => (
          <li key={r.id} data-verdict={r.verdict}>
            <VerdictBadge verdict={r.verdict} /> <Link to={`/drills/${encodeURIComponent(r.id)}`}>{when(r.started_at)}</Link> <span class="muted">{measured(r)}</span>
          </li>
        ))}
      </ol>
      {a.runs.length > LISTED ? <p class="note">The newest {LISTED} of {a.runs.length} drills; the chart shows them all.</p> : null}
    </div>
  );
}

function measured(r: DrillRun): string {
  if (r.verdict === 'failed') return r.failed_step ? `failed at ${r.failed_step}, nothing measured` : 'failed in the preflight, nothing measured';
  return `${formatSeconds(r.total_seconds)} of ${formatRto(r.rto_seconds)}`;
}

function count(runs: DrillRun[], verdict: DrillRun['verdict']): number {
  return runs.filter((r) => r.verdict === verdict).length;
}
