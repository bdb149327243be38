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
  const run = useCallback(() => {
    const mine = generation.current;
    loader.current().then(
      (data) => mine === generation.current && setState({ data, loading: false, fetchedAt: Date.now() }),
      (error: unknown) => mine === generation.current && setState((s) => ({ ...s, error, loading: false })),
    );
  }, []);
  useEffect(() => {
    generation.current++;
    setState({ loading: true });
    run();
    const timer = everyMs ? setInterval(run, everyMs) : undefined;
    return () => {
      generation.current++;
      clearInterval(timer);
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
