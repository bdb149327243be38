// One asset: its state, "back up now" with live progress, the snapshot timeline, lineage,
// replicas and archive, the exact restore commands, and its recent jobs.
import { useState } from 'preact/hooks';
import { api, ApiError, type AssetInfo, type AssetStatus, type Jobs, type JobRecord, type Status, type StoredSnapshot } from './api.js';
import { useReloadOn, useResource } from './data.js';
import { ago, bytes, shortId, span, when } from './format.js';
import { JobList } from './jobs.js';
import { LineageView } from './lineage.js';
import { useRunning } from './live.js';
import { DrillFact, problemsOf, RpoLine, TIER_NAMES } from './overview.js';
import { Command, ErrorNote, Progress, Section, StateBadge } from './ui.js';

export function AssetPage({ name, status, onChanged }: { name: string; status?: Status; onChanged(): void }) {
  const asset = status?.assets.find((a) => a.name === name);
  const info = useResource(api.assets, 'assets');
  const snapshots = useResource(() => api.snapshots(name), `snapshots:${name}`);
  const jobs = useResource(api.jobs, `jobs:${name}`);
  const lineage = useResource(() => api.lineage(name), `lineage:${name}`);
  // A backup from elsewhere (serve's schedule, another host) shows at the next status.
  useReloadOn(status?.summary.generated_at, () => (snapshots.reload(), jobs.reload(), lineage.reload()));
  const reloadAll = () => {
    snapshots.reload();
    lineage.reload();
    jobs.reload();
    onChanged();
  };
  if (status && !asset) return <p class="error-note">There is no asset "{name}" in this plan.</p>;
  const doc = info.data?.assets.find((a) => a.name === name);
  return (
    <>
      <header class="asset-title">
        <h1 tabIndex={-1}>{name}</h1>
        {asset ? <StateBadge state={asset.rpo_state} /> : null}
        {asset ? <span class="muted">{TIER_NAMES[asset.tier]}</span> : null}
      </header>
      {asset ? <Summary asset={asset} doc={doc} /> : <p class="loading">Loading…</p>}
      {asset && asset.tier !== 3 ? <BackupNow name={name} jobs={jobs.data} onFinished={reloadAll} /> : null}
      <Section title="Snapshots" id="snapshots">
        {snapshots.error ? <ErrorNote error={snapshots.error} what="the snapshots" /> : null}
        {snapshots.data ? <Timeline snapshots={snapshots.data} /> : null}
      </Section>
      <Section title="Lineage" id="lineage">
        {lineage.error ? <ErrorNote error={lineage.error} what="the lineage" /> : null}
        {lineage.data ? <LineageView node={lineage.data.node} /> : null}
      </Section>
      {asset && asset.tier !== 3 ? <Copies asset={asset} doc={doc} jobs={jobs.data} /> : null}
      {asset && asset.tier !== 3 ? <Restore asset={asset} file={info.data?.file} snapshots={snapshots.data} /> : null}
      <Section title="Recent jobs" id="asset-jobs">
        {jobs.error ? <ErrorNote error={jobs.error} what="the jobs" /> : null}
        {jobs.data ? <JobList records={jobs.data.recent.filter((r) => r.asset === name)} empty="No job of this asset is on record yet." /> : null}
      </Section>
    </>
  );
}

function Summary({ asset: a, doc }: { asset: AssetStatus; doc?: AssetInfo }) {
  const problems = problemsOf(a);
  return (
    <section class="panel" aria-label="Summary">
      {problems.length ? (
        <ul class="problems" role="alert">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      ) : null}
      {a.tier !== 3 ? <RpoLine asset={a} /> : null}
      <dl class="facts">
        <div>
          <dt>Kind</dt>
          <dd>{a.kind}</dd>
        </div>
        <div>
          <dt>Owner</dt>
          <dd>{a.owner ?? 'not set'}</dd>
        </div>
        <div>
          <dt>{a.tier === 3 ? 'Git remote' : 'Source'}</dt>
          <dd>{a.tier === 3 ? (a.git_remote ?? 'not set') : (a.source ?? 'none')}</dd>
        </div>
        {doc?.host ? (
          <div>
            <dt>Backed up by</dt>
            <dd>{doc.host}</dd>
          </div>
        ) : null}
        {a.tier !== 3 ? (
          <>
            <div>
              <dt>RTO</dt>
              <dd>
                target {span(a.rto_seconds)}
                {a.estimated_rto_seconds !== null ? `, estimated ${span(a.estimated_rto_seconds)} (from ${a.estimate_basis === 'drill' ? 'drills' : 'verification reads'})` : ''}
              </dd>
            </div>
            <div>
              <dt>Size</dt>
              <dd>{a.size_bytes === null ? '–' : bytes(a.size_bytes)}</dd>
            </div>
            <div>
              <dt>Verified</dt>
              <dd>{a.verification ? `${a.verification.result}, ${ago(a.verification.age_seconds)} (${a.verification.packs_checked ?? 0} pack(s) read back)` : 'never'}</dd>
            </div>
            <div>
              <dt>Last drill</dt>
              <dd>{a.drill ? <DrillFact drill={a.drill} /> : 'no drill yet'}</dd>
            </div>
          </>
        ) : null}
      </dl>
    </section>
  );
}

function BackupNow({ name, jobs, onFinished }: { name: string; jobs?: Jobs; onFinished(): void }) {
  const [answer, setAnswer] = useState<{ ok: boolean; text: string }>();
  const [last, setLast] = useState<JobRecord>();
  const running = useRunning(jobs?.running, (record) => {
    if (record.kind !== 'backup' || record.asset !== name) return;
    setLast(record);
    setAnswer(undefined);
    onFinished();
  }).get(`backup:${name}`);
  const start = async () => {
    setAnswer({ ok: true, text: 'Asking for a backup…' });
    setLast(undefined);
    try {
      await api.backup(name);
      setAnswer({ ok: true, text: 'Backup asked for: it starts as soon as the scheduler can run it.' });
    } catch (err) {
      setAnswer({ ok: false, text: err instanceof ApiError ? err.message : String(err) });
    }
  };
  return (
    <section class="panel" aria-labelledby="backup-now">
      <h2 id="backup-now">Back up now</h2>
      <button type="button" onClick={start} disabled={running !== undefined}>
        {running ? 'Backing up…' : `Back up ${name} now`}
      </button>
      <div aria-live="polite" class="backup-live">
        {running ? (
          <div class="running-job" data-job={running.key}>
            <p>
              Backup running since {when(running.startedAt)} on {running.host}
            </p>
            <Progress progress={running.progress} label={`backup of ${name}`} />
          </div>
        ) : answer ? (
          <p class={answer.ok ? 'note' : 'error-note'}>{answer.text}</p>
        ) : null}
        {last && !running ? (
          <p class={last.result === 'ok' ? 'done-note' : 'error-note'} data-finished={last.result}>
            Backup {last.result === 'ok' ? 'finished' : last.result}
            {typeof last.details.snapshot === 'string' ? `: snapshot ${shortId(last.details.snapshot)}` : ''}
            {last.error ? `: ${last.error.message}` : ''}
          </p>
        ) : null}
      </div>
    </section>
  );
}

function Timeline({ snapshots }: { snapshots: StoredSnapshot[] }) {
  if (snapshots.length === 0) return <p class="empty">No snapshot of this asset yet.</p>;
  const ordered = [...snapshots].sort((a, b) => a.time.localeCompare(b.time));
  const numbered = ordered.map((s, i) => ({ s, version: s.assetVersion ?? i + 1 })).reverse();
  return (
    <ol class="timeline">
      {numbered.map(({ s, version }, i) => (
        <li key={s.id} class={s.incomplete.length ? 'incomplete' : ''} data-snapshot={s.id}>
          <div class="timeline-head">
            <strong>v{version}</strong> <time dateTime={s.time}>{when(s.time)}</time> <code>{shortId(s.id)}</code>
            {i === 0 ? <span class="tag">latest</span> : null}
            {s.incomplete.length ? <span class="tag warn">incomplete: {s.incomplete.length} file(s)</span> : null}
          </div>
          <div class="muted">
            {bytes(s.summary.totalBytes)} in {s.summary.files} file(s); added {bytes(s.summary.newStoredBytes)} stored ({s.summary.newBlobs} new blob(s)); {span(s.summary.durationMs / 1000)} on {s.hostname}
          </div>
        </li>
      ))}
    </ol>
  );
}

function Copies({ asset, doc, jobs }: { asset: AssetStatus; doc?: AssetInfo; jobs?: Jobs }) {
  const expired = (doc?.policy as Record<string, { value: unknown }> | null | undefined)?.expired?.value;
  const retention = jobs?.recent.find((r) => r.kind === 'retention');
  return (
    <Section title="Replicas and archive" id="copies">
      {asset.replicas.length === 0 ? (
        <p class="empty">No replica: this asset is kept at one site only.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Replica</th>
              <th scope="col">State</th>
              <th scope="col">Newest snapshot there</th>
            </tr>
          </thead>
          <tbody>
            {asset.replicas.map((r) => (
              <tr key={r.repository}>
                <th scope="row">{r.repository}</th>
                <td class={r.error || (r.missing_snapshots ?? 0) > 0 ? 'warn' : ''}>{r.error ? r.error.message : (r.missing_snapshots ?? 0) === 0 ? 'in sync' : `${span(r.lag_seconds ?? 0)} behind: ${r.missing_snapshots} snapshot(s), ${bytes(r.pending_bytes ?? 0)} to copy`}</td>
                <td>{r.newest_replicated ? when(r.newest_replicated) : "none yet"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p class="note">
        {expired === 'archive' ? 'Snapshots past the keep policy are copied to the archive repository, checked there, then forgotten.' : 'Snapshots past the keep policy are forgotten (expired: delete).'}{' '}
        {retention ? `Retention last ran ${when(retention.finishedAt)} (${retention.result}): ${String(retention.details.archived ?? 0)} snapshot(s) archived, ${String(retention.details.removed ?? 0)} forgotten, across all assets.` : 'Retention has not run yet.'}
      </p>
    </Section>
  );
}

function quote(s: string): string {
  return /^[A-Za-z0-9_./@:=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function Restore({ asset, file, snapshots }: { asset: AssetStatus; file?: string; snapshots?: StoredSnapshot[] }) {
  const config = file ? ` -c ${quote(file)}` : '';
  const target = quote(`/srv/restore/${asset.name}`);
  const spec = `${asset.name}@latest`;
  const newest = asset.last_snapshot;
  return (
    <Section title="Restore" id="restore" note={
        <>
          Every restore is verified as it is written. The password comes from the repository's <code>password_file</code> or <code>LIFEBOAT_PASSWORD</code>; point <code>--target</code> where the files should go.
        </>
      }>
      <p>The newest snapshot, from the primary repository:</p>
      <Command text={`lifeboat restore${config} ${quote(spec)} --target ${target}`} />
      {asset.replicas.map((r) => (
        <div key={r.repository}>
          <p>From the replica {r.repository}, if the primary site is lost:</p>
          <Command text={`lifeboat restore${config} -r ${quote(r.repository)} ${quote(spec)} --target ${target}`} />
        </div>
      ))}
      {newest && snapshots && snapshots.length > 1 ? (
        <>
          <p>Exactly the last good snapshot ({when(newest.time)}):</p>
          <Command text={`lifeboat restore${config} ${shortId(newest.id)} --target ${target}`} />
        </>
      ) : null}
    </Section>
  );
}
