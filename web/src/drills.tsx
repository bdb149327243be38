// Drills: the last drill of each asset as the status reports it. Drill history (every report,
// its steps, measured RTO against the target over time) needs the drills API, which this
// version of `lifeboat serve` does not have yet: the page says so instead of showing anything made up.
import type { Status } from './api.js';
import { when } from './format.js';
import { DrillFact, TIER_NAMES } from './overview.js';
import { Link, Section } from './ui.js';

export function DrillsPage({ status }: { status?: Status }) {
  const drilled = (status?.assets ?? []).filter((a) => a.drill !== null);
  return (
    <>
      <h1 tabIndex={-1}>Drills</h1>
      {status && drilled.length === 0 ? (
        <p class="empty" data-empty="drills">
          No drill data yet: no drill has been recorded in this repository, so there is no measured RTO to show. A drill restores an asset from its backups and measures the time against its RTO; when drills run, their history, step timelines and an RTO chart appear here.
        </p>
      ) : null}
      {[1, 2].map((tier) => {
        const rows = drilled.filter((a) => a.tier === tier);
        return rows.length ? (
          <Section key={tier} title={TIER_NAMES[tier]} id={`drills-${tier}`}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Asset</th>
                  <th scope="col">Last drill</th>
                  <th scope="col">Measured of target</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.name}>
                    <th scope="row">
                      <Link to={`/assets/${encodeURIComponent(a.name)}`}>{a.name}</Link>
                    </th>
                    <td>{when(a.drill!.last_at)}</td>
                    <td>
                      <DrillFact drill={a.drill!} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Section>
        ) : null;
      })}
    </>
  );
}
