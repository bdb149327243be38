// Small pieces every page uses: the RPO state (colour, word and icon, so it reads without colour),
// bars, progress, copyable commands, errors, links that stay in the app.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { JobProgress } from '../../src/control/scheduler.js';
import type { RpoState } from '../../src/control/rpo.js';
import type { Verdict } from '../../src/control/reports.js';
import { ApiError } from './api.js';
import { bytes } from './format.js';
import { navigate } from './router.js';

const STATE_WORDS: Record<RpoState, string> = { ok: 'OK', at_risk: 'At risk', violated: 'Violated', never: 'Never backed up', git: 'In git' };

/** One path per state: a check, a clock, a cross, an empty circle, a branch. */
const STATE_ICONS: Record<RpoState, string> = {
  ok: 'M3.5 8.5l3 3 6-7',
  at_risk: 'M8 4v4l2.5 2.5M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13',
  violated: 'M4 4l8 8M12 4l-8 8',
  never: 'M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13M3.5 12.5l9-9',
  git: 'M5 2v12M5 6c0 3 6 2 6 5M11 4.5a1.5 1.5 0 1 0 0-.01',
};

export function Icon({ path, label }: { path: string; label?: string }) {
  return (
    <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden={label ? undefined : 'true'} role={label ? 'img' : undefined} aria-label={label}>
      <path d={path} fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}

export function StateBadge({ state }: { state: RpoState }) {
  return (
    <span class={`badge state-${state}`} data-state={state}>
      <Icon path={STATE_ICONS[state]} />
      <span class="badge-word">{STATE_WORDS[state]}</span>
    </span>
  );
}

/** A job's result with the same visual language: ok, failed, interrupted. */
export function ResultBadge({ result }: { result: 'ok' | 'failed' | 'interrupted' | 'running' }) {
  const look = { ok: ['ok', 'OK'], failed: ['violated', 'Failed'], interrupted: ['at_risk', 'Interrupted'], running: ['running', 'Running'] }[result];
  return (
    <span class={`badge state-${look[0]}`} data-result={result}>
      <Icon path={result === 'ok' ? STATE_ICONS.ok : result === 'failed' ? STATE_ICONS.violated : result === 'running' ? 'M2 8h3l2-5 2 10 2-5h3' : STATE_ICONS.at_risk} />
      <span class="badge-word">{look[1]}</span>
    </span>
  );
}

/** A drill's verdict in the same language: met, missed (over the RTO), failed. */
export function VerdictBadge({ verdict }: { verdict: Verdict }) {
  const [look, word] = ({ met: ['ok', 'RTO met'], missed: ['at_risk', 'RTO missed'], failed: ['violated', 'Failed'] } as const)[verdict];
  return (
    <span class={`badge state-${look}`} data-verdict={verdict}>
      <Icon path={STATE_ICONS[look]} />
      <span class="badge-word">{word}</span>
    </span>
  );
}

/** A horizontal bar: `value` of `max`, full (and marked over) past it. */
export function Bar({ value, max, state, label }: { value: number; max: number; state: string; label: string }) {
  const fraction = max > 0 ? Math.min(1, value / max) : 0;
  return (
    <div class={`bar bar-${state}${max > 0 && value > max ? ' bar-over' : ''}`} role="img" aria-label={label}>
      <span style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
    </div>
  );
}

export function Progress({ progress, label }: { progress?: JobProgress; label: string }) {
  const total = progress?.bytesTotal ?? 0;
  const done = progress?.bytesDone ?? 0;
  const percent = total > 0 ? Math.min(100, Math.round((done * 100) / total)) : undefined;
  return (
    <div class="progress">
      <div class="bar bar-running" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <span style={{ width: `${percent ?? 0}%` }} />
      </div>
      <span class="progress-text">
        {progress ? `${bytes(done)} of ${bytes(total)}${percent !== undefined ? ` (${percent}%)` : ''}${progress.files !== undefined ? `, ${progress.files} file(s)` : ''}` : 'starting…'}
      </span>
    </div>
  );
}

/** A command to copy: selected with one click where the clipboard is not available (plain http off loopback). */
export function Command({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async (e: Event) => {
    const code = (e.currentTarget as HTMLElement).parentElement!.querySelector('code')!;
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      getSelection()?.selectAllChildren(code);
    }
  };
  return (
    <div class="command">
      <code>{text}</code>
      <button type="button" class="secondary" onClick={copy}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}

export function ErrorNote({ error, what }: { error: unknown; what: string }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p class="error-note" role="alert">
      Cannot load {what}: {message}
      {error instanceof ApiError && error.status === 401 ? (
        <>
          {' '}
          <a href={location.pathname}>Sign in again</a>
        </>
      ) : null}
    </p>
  );
}

/** A link inside the app: no page load, unless opened in a new tab. */
export function Link({ to, children, class: cls }: { to: string; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={to}
      class={cls}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function Section({ title, id, children, note }: { title: string; id: string; children: ComponentChildren; note?: ComponentChildren }) {
  return (
    <section class="panel" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {note ? <p class="note">{note}</p> : null}
      {children}
    </section>
  );
}
