// The app's pages are plain paths (/, /assets/NAME, /jobs, /drills, /drills/REPORT): the server answers each with
// the app, and links move between them without a page load.
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'overview' } | { page: 'asset'; name: string } | { page: 'jobs' } | { page: 'drills' } | { page: 'drill'; id: string } | { page: 'missing'; path: string };

export function routeOf(pathname: string): Route {
  if (pathname === '/') return { page: 'overview' };
  if (pathname === '/jobs') return { page: 'jobs' };
  if (pathname === '/drills') return { page: 'drills' };
  const drill = /^\/drills\/([^/]+)$/.exec(pathname);
  if (drill) return { page: 'drill', id: decodeURIComponent(drill[1]) };
  const asset = /^\/assets\/([^/]+)$/.exec(pathname);
  if (asset) return { page: 'asset', name: decodeURIComponent(asset[1]) };
  return { page: 'missing', path: pathname };
}

export function navigate(to: string): void {
  if (to === location.pathname) return;
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return routeOf(path);
}
