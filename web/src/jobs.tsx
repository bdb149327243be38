// Jobs: what runs now (live, from the event stream) and what ran, with errors as the job wrote
// them for people and the details a job records.
import { api, type JobRecord } from './api.js';
import { useResource } from './data.js';
import { bytes, shortId, span, when } from './format.js';
import { useRunning } from './live.js';
import { ErrorNote, Link, Progress, ResultBadge, Section } from './ui.js';

export function JobsPage() {
  const jobs = useResource(api.jobs, 'jobs', 30_000);
  const running = useRunning(jobs.data?.running, () => jobs.reload());
  return (
    <>
      <h1 tabIndex={-1}>Jobs</h1>
      {jobs.error ? <ErrorNote error={jobs.error} what="the jobs" /> : null}
      <Section title={`Running (${running.size})`} id="running">
        {running.size === 0 ? (
          <p class="empty">Nothing is running.</p>
        ) : (
          <ul class="running">
            {[...running.values()].map((j) => (
              <li key={j.key} class="running-job" data-job={j.key}>
                <div>
                  <ResultBadge result="running" /> <strong>{j.kind}</strong> {j.asset ? <Link to={`/assets/${encodeURIComponent(j.asset)}`}>{j.asset}</Link> : null}{' '}
                  <span class="muted">
                    since {when(j.startedAt)} on {j.host}: {j.reason}
                  </span>
                </div>
                <Progress progress={j.progress} label={`${j.kind} ${j.asset ?? ''}`} />
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Recent" id="recent">
        {jobs.data ? <JobList records={jobs.data.recent} empty="No job is on record yet." /> : null}
      </Section>
    </>
  );
}

export function JobList({ records, empty }: { records: JobRecord[]; empty: string }) {
  if (records.length === 0) return <p class="empty">{empty}</p>;
  return (
    <ul class="jobs">
      {records.map((r) => (
        <li key={r.job} class={`job job-${r.result}`} data-kind={r.kind} data-result={r.result}>
          <div class="job-head">
            <ResultBadge result={r.result} /> <strong>{r.kind}</strong> {r.asset ? <Link to={`/assets/${encodeURIComponent(r.asset)}`}>{r.asset}</Link> : null}{' '}
            <span class="muted">
              {when(r.startedAt)}, {span(Math.max(0, Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000)} on {r.host}
            </span>
          </div>
          {r.error ? (
            <p class="job-error">
              {r.error.message} <span class="muted">({r.error.code})</span>
            </p>
          ) : null}
          <Details details={r.details} />
        </li>
      ))}
    </ul>
  );
}

const BYTE_KEYS = /bytes/i;

/** The record's details as a person reads them: sizes as sizes, ids short, lists and objects as lines. */
function Details({ details }: { details: Record<string, unknown> }) {
  const entries = Object.entries(details).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0));
  if (entries.length === 0) return null;
  const show = (k: string, v: unknown): string => {
    if (typeof v === 'number' && BYTE_KEYS.test(k)) return bytes(v);
    if (typeof v === 'number' && /Ms$/.test(k)) return span(v / 1000);
    if (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) return shortId(v);
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' && x ? Object.entries(x as Record<string, unknown>).map(([a, b]) => `${a} ${typeof b === 'object' ? JSON.stringify(b) : String(b)}`).join(', ') : String(x))).join('; ');
    return typeof v === 'object' && v ? JSON.stringify(v) : String(v);
  };
  return (
    <details class="job-details">
      <summary>Details</summary>
      <dl>
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{show(k, v)}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
