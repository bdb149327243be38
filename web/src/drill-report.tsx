// One drill or recovery report, as `lifeboat drill report` renders it: the verdict, the steps on
// a timeline against the RTO (the same layout as the HTML report), the steps and preflight
// checks, and each step's output.
import type { ComponentChildren } from 'preact';
import { formatSeconds, headline } from '../../src/control/report-markdown.js';
import { timelineLayout } from '../../src/control/report-timeline.js';
import { api, type Report } from './api.js';
import { useResource } from './data.js';
import { when } from './format.js';
import { Command, ErrorNote, Link, Section, VerdictBadge } from './ui.js';

export function DrillReportPage({ id }: { id: string }) {
  const report = useResource(() => api.report(id), `report:${id}`);
  const r = report.data;
  return (
    <>
      <p class="crumbs">
        <Link to="/drills">Drills</Link> ›
      </p>
      <h1 tabIndex={-1}>{r ? headline(r) : `Report ${id}`}</h1>
      {report.error ? <ErrorNote error={report.error} what={`report ${id}`} /> : null}
      {r ? <ReportBody r={r} /> : report.error ? null : <p class="loading">Loading the report…</p>}
    </>
  );
}

function ReportBody({ r }: { r: Report }) {
  return (
    <>
      <p class="report-verdict">
        <VerdictBadge verdict={r.verdict} /> {r.error ? <span class="job-error">{r.error}</span> : null}
      </p>
      <dl class="facts">
        <Fact term="Asset">
          <Link to={`/assets/${encodeURIComponent(r.asset)}`}>{r.asset}</Link> (Tier {r.tier})
        </Fact>
        <Fact term="Runbook">{r.runbook}</Fact>
        <Fact term="Snapshot">
          <code>{r.snapshot?.slice(0, 12) ?? '–'}</code>
        </Fact>
        <Fact term="Started">{when(r.started_at)}</Fact>
        <Fact term="Total">{formatSeconds(r.total_seconds)}</Fact>
        <Fact term="Host">{r.host}</Fact>
      </dl>
      <Section title="Timeline" id="timeline">
        <Timeline r={r} />
      </Section>
      <Section title="Steps" id="steps">
        <table class="steps">
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">Seconds</th>
              <th scope="col">Attempts</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {r.steps.map((s) => (
              <tr key={s.name} class={`step-${s.status}`} data-step={s.name} data-status={s.status}>
                <th scope="row">{s.name}</th>
                <td>{s.kind}</td>
                <td>{s.status}</td>
                <td>{s.status === 'skipped' ? '–' : s.seconds.toFixed(2)}</td>
                <td>{s.attempts}</td>
                <td class="step-error">{s.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {r.steps
          .filter((s) => s.output_tail)
          .map((s) => (
            <details key={s.name} class="job-details">
              <summary>Output of {s.name}</summary>
              <pre>{s.output_tail}</pre>
            </details>
          ))}
      </Section>
      <Section title={`Preflight (${r.preflight_seconds.toFixed(1)} s)`} id="preflight">
        {r.preflight.length === 0 ? (
          <p class="empty">No preflight check ran.</p>
        ) : (
          <table>
            <tbody>
              {r.preflight.map((c) => (
                <tr key={`${c.check}:${c.subject}`} class={`check-${c.status}`}>
                  <th scope="row">{c.check}</th>
                  <td>{c.subject}</td>
                  <td>{c.status}</td>
                  <td>{c.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="The same report elsewhere" id="elsewhere">
        <Command text={`lifeboat drill report ${r.id} --format html > ${r.id}.html`} />
      </Section>
    </>
  );
}

function Fact({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** The steps as bars from the run's start, the RTO as a dashed line when it is on the chart. */
function Timeline({ r }: { r: Report }) {
  const t = timelineLayout(r);
  return (
    <svg class="step-timeline" viewBox={`0 0 ${t.width} ${t.height}`} role="img" aria-label={`timeline of the ${r.steps.length} steps`}>
      {t.ticks.map((tick) => (
        <g key={tick.x} class="tick">
          <line x1={tick.x} x2={tick.x} y1={t.top - 6} y2={t.bottom} />
          <text x={tick.x} y={t.height - 8} text-anchor="middle">
            {tick.label}
          </text>
        </g>
      ))}
      {t.bars.map((bar) => (
        <g key={bar.name} class={`step-bar step-${bar.status}`} data-step={bar.name} data-status={bar.status}>
          <text class="step-name" x={t.labelEdge - 8} y={bar.y + 16} text-anchor="end">
            {bar.name}
          </text>
          {bar.status === 'skipped' ? (
            <text x={bar.x} y={bar.y + 16}>
              skipped
            </text>
          ) : (
            <rect x={bar.x} y={bar.y + 4} width={bar.width} height={t.rowHeight - 10} rx={3}>
              <title>{bar.title}</title>
            </rect>
          )}
        </g>
      ))}
      {t.rto?.x != null ? (
        <g class="rto-line">
          <line x1={t.rto.x} x2={t.rto.x} y1={t.top - 10} y2={t.bottom} />
          <text x={t.rto.x - 4} y={t.top - 12} text-anchor="end">
            {t.rto.label}
          </text>
        </g>
      ) : t.rto ? (
        <text class="rto-off" x={t.width - 20} y={t.top - 12} text-anchor="end">
          {t.rto.label}
        </text>
      ) : null}
    </svg>
  );
}
