// The dashboard of `lifeboat serve`: the DR posture at a glance. One status document feeds every
// page; it is reloaded every 15 s and whenever the server says it changed, and its age is always
// on screen, because the server serves it from a cache while the repository is slow.
import { render } from 'preact';
import { useCallback, useEffect, useRef } from 'preact/hooks';
import { api, type Status } from './api.js';
import { AssetPage } from './asset.js';
import { useNow, useResource } from './data.js';
import { DrillReportPage } from './drill-report.js';
import { DrillsPage } from './drills.js';
import { span, when } from './format.js';
import { JobsPage } from './jobs.js';
import { useConnected, useLive, type LiveEvent } from './live.js';
import { Overview } from './overview.js';
import { useRoute, type Route } from './router.js';
import { ErrorNote, Link } from './ui.js';
import './style.css';

const TITLES: Record<Route['page'], string> = { overview: 'Overview', asset: 'Asset', jobs: 'Jobs', drills: 'Drills', drill: 'Drill report', missing: 'Not found' };

function App() {
  const route = useRoute();
  const status = useResource(api.status, 'status', 15_000);
  const stats = useResource(api.stats, 'stats', 60_000);
  const session = useResource(api.session, 'session');
  useLive(useCallback((e: LiveEvent) => e.kind === 'status' && (status.reload(), stats.reload()), [status.reload, stats.reload]));
  const first = useRef(true);
  useEffect(() => {
    document.title = `${route.page === 'asset' ? route.name : TITLES[route.page]} · Lifeboat`;
    // After a move inside the app, focus goes to the new page's heading, as a page load would put it at the top.
    if (!first.current) document.querySelector<HTMLElement>('main h1')?.focus();
    first.current = false;
  }, [route.page, route.page === 'asset' ? route.name : route.page === 'drill' ? route.id : '']);
  return (
    <>
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header class="top">
        <div class="brand">
          <Link to="/">Lifeboat</Link>
          {status.data ? <span class="muted"> {status.data.summary.repository}</span> : null}
        </div>
        <nav aria-label="Pages">
          <Link to="/" class={route.page === 'overview' ? 'current' : ''}>
            Overview
          </Link>
          <Link to="/jobs" class={route.page === 'jobs' ? 'current' : ''}>
            Jobs
          </Link>
          <Link to="/drills" class={route.page === 'drills' || route.page === 'drill' ? 'current' : ''}>
            Drills
          </Link>
        </nav>
        <StatusAge status={status.data} fetchedAt={status.fetchedAt} failed={status.error !== undefined && status.data !== undefined} />
        {session.data?.auth === 'token' && session.data.via === 'session' ? (
          <form method="post" action="/signout" class="signout">
            <button type="submit" class="secondary">
              Sign out
            </button>
          </form>
        ) : null}
      </header>
      <main id="main">
        {status.error && status.data ? <ErrorNote error={status.error} what="a fresh status (showing the last one)" /> : null}
        <Page route={route} status={status.data} statusError={status.error} stats={stats} reloadStatus={status.reload} />
      </main>
    </>
  );
}

function Page({ route, status, statusError, stats, reloadStatus }: { route: Route; status?: Status; statusError?: unknown; stats: ReturnType<typeof useResource<Awaited<ReturnType<typeof api.stats>>>>; reloadStatus(): void }) {
  switch (route.page) {
    case 'overview':
      return (
        <>
          <h1 tabIndex={-1} class="visually-hidden">
            Overview
          </h1>
          <Overview status={status} statusError={statusError} stats={stats.data} statsError={stats.error} />
        </>
      );
    case 'asset':
      return <AssetPage name={route.name} status={status} onChanged={reloadStatus} />;
    case 'jobs':
      return <JobsPage />;
    case 'drills':
      return <DrillsPage status={status} />;
    case 'drill':
      return <DrillReportPage id={route.id} />;
    case 'missing':
      return (
        <>
          <h1 tabIndex={-1}>Not found</h1>
          <p>
            There is no page {route.path}. <Link to="/">Go to the overview</Link>.
          </p>
        </>
      );
  }
}

/** How old the status on screen is, and whether the server could refresh it. */
function StatusAge({ status, fetchedAt, failed }: { status?: Status; fetchedAt?: number; failed: boolean }) {
  const now = useNow();
  const connected = useConnected();
  if (!status || fetchedAt === undefined) return <p class="status-age">No status yet</p>;
  const age = status.cache.age_seconds + Math.max(0, Math.round((now - fetchedAt) / 1000));
  const every = status.cache.refresh_every_seconds;
  // Two refreshes missed: the repository is slow even if nothing failed yet.
  const late = every > 0 && age > 2 * every + 30;
  const stale = status.cache.error !== null || failed || late;
  return (
    <p class={`status-age${stale ? ' stale' : ''}`} data-stale={stale ? 'true' : 'false'} role="status" title={`generated ${when(status.summary.generated_at)}`}>
      <span data-status-age={age}>Status {span(age)} old</span>
      {status.cache.error ? (
        <span class="stale-why">: the repository did not answer the last refresh ({status.cache.error})</span>
      ) : late ? (
        <span class="stale-why">: not refreshed for {span(age)} (every {span(every)}): the repository is slow</span>
      ) : null}
      <span class={`live-dot${connected ? ' on' : ''}`}>{connected ? ' · live' : ' · reconnecting'}</span>
    </p>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading" line the page is served with
render(<App />, root);
