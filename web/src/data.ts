// Loading a document and keeping it fresh. On a failed reload the last document stays on the
// page beside the error: a slow or unreachable repository must not blank the dashboard.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Resource<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  /** When `data` was fetched (the reader's clock, ms). */
  fetchedAt?: number;
  reload(): void;
}

export function useResource<T>(load: () => Promise<T>, key: string, everyMs?: number): Resource<T> {
  const [state, setState] = useState<Omit<Resource<T>, 'reload'>>({ loading: true });
  const loader = useRef(load);
  loader.current = load;
  const generation = useRef(0);
  const loaded = useRef(false);
  const retry = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const run = useCallback(() => {
    const mine = generation.current;
    loader.current().then(
      (data) => {
        if (mine !== generation.current) return;
        loaded.current = true;
        setState({ data, loading: false, fetchedAt: Date.now() });
      },
      (error: unknown) => {
        if (mine !== generation.current) return;
        setState((s) => ({ ...s, error, loading: false }));
        // Nothing to show yet (the server computes its first status): try again soon rather than at the next period.
        clearTimeout(retry.current);
        if (!loaded.current) retry.current = setTimeout(() => mine === generation.current && run(), 3000);
      },
    );
  }, []);
  useEffect(() => {
    generation.current++;
    loaded.current = false;
    setState({ loading: true });
    run();
    const timer = everyMs ? setInterval(run, everyMs) : undefined;
    return () => {
      generation.current++;
      clearInterval(timer);
      clearTimeout(retry.current);
    };
  }, [key, everyMs, run]);
  return { ...state, reload: run };
}

/** Re-renders every `ms` so that ages written on the page keep moving. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** Calls `reload` each time `version` changes after the first render (e.g. a new status: the server has looked at the repository again). */
export function useReloadOn(version: unknown, reload: () => void): void {
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    reload();
  }, [version]);
}
