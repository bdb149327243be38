/**
 * Durations as lifeboat.yaml writes them: a number of milliseconds, or a string such as "250ms",
 * "30s", "15m", "1.5h", "7d", "2w". RPOs, RTOs, schedules and the gateway's timeouts all use it.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Milliseconds for a duration value, or undefined when it does not parse. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(value);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** The shortest exact way to write `ms` ("1h", "90m", "36h", "7d"); non-whole seconds in ms. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** An approximate human age: "45s", "12m", "3.5h", "2.1d". */
export function formatAge(ms: number): string {
  const s = Math.abs(ms) / 1000;
  const sign = ms < 0 ? '-' : '';
  if (s < 90) return `${sign}${Math.round(s)}s`;
  if (s < 90 * 60) return `${sign}${Math.round(s / 60)}m`;
  if (s < 36 * 3600) return `${sign}${(s / 3600).toFixed(1).replace(/\.0$/, '')}h`;
  return `${sign}${(s / 86400).toFixed(1).replace(/\.0$/, '')}d`;
}
