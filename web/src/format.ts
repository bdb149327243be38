// How the pages write sizes, ages and times: the CLI's own formatting, so both read the same.
import { formatAge } from '../../src/base/duration.js';
import { formatBytes } from '../../src/cli/output.js';

export { formatBytes as bytes };

/** "3.5h" for a number of seconds. */
export function span(seconds: number): string {
  return formatAge(seconds * 1000);
}

/** "3.5h ago". */
export function ago(seconds: number): string {
  return `${span(seconds)} ago`;
}

/** A time in the reader's own zone, to the minute. */
export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Seconds since `iso`, on the reader's clock. */
export function secondsSince(iso: string, now: number): number {
  return Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
}

export function ratio(r: number): string {
  return r > 0 ? `${r.toFixed(r >= 10 ? 0 : 1)}×` : '–';
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}
