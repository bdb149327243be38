/**
 * Where a report's timeline puts things: one bar per step on a time axis from the run's start,
 * four ticks, and the RTO as a line when it falls within 4x the run's length (else a note of
 * how much of it the run used). The standalone HTML report and the dashboard draw this same
 * layout, so a drill reads the same in both.
 */
import { formatRto, formatSeconds } from './report-markdown.js';
import type { Report, StepStatus } from './reports.js';

export interface TimelineBar {
  name: string;
  status: StepStatus;
  /** Left edge and width, in the layout's units (width of a skipped step: 0). */
  x: number;
  width: number;
  /** Top of the step's row. */
  y: number;
  /** The step in one line: status, time, attempts, the first line of its error. */
  title: string;
}

export interface TimelineLayout {
  width: number;
  height: number;
  /** Where the step names end (they are drawn right-aligned to it). */
  labelEdge: number;
  rowHeight: number;
  /** Top and bottom of the plotting area. */
  top: number;
  bottom: number;
  ticks: Array<{ x: number; label: string }>;
  bars: TimelineBar[];
  /** The RTO line, or, when it is off the chart, `x` null and a label saying how much of it the run used. */
  rto: { x: number | null; label: string } | null;
}

export function timelineLayout(r: Report, width = 900): TimelineLayout {
  const labelEdge = 150;
  const rowHeight = 26;
  const top = 24;
  const start = Date.parse(r.started_at);
  const spans = r.steps.map((s) => ({ s, from: s.started_at ? (Date.parse(s.started_at) - start) / 1000 : 0 }));
  const end = Math.max(r.total_seconds, ...spans.map((x) => x.from + x.s.seconds), 0.001);
  const rtoShown = r.rto_seconds > 0 && r.rto_seconds <= end * 4;
  const domain = Math.max(end, rtoShown ? r.rto_seconds : 0) * 1.05;
  const x = (sec: number) => labelEdge + (sec / domain) * (width - labelEdge - 20);
  const height = top + rowHeight * r.steps.length + 30;
  const ticks = [0, 1, 2, 3, 4].map((t) => ({ x: x((domain * t) / 4), label: formatSeconds((domain * t) / 4) }));
  const bars = spans.map(({ s, from }, i): TimelineBar => ({
    name: s.name,
    status: s.status,
    x: x(from),
    width: s.status === 'skipped' ? 0 : Math.max(2, x(from + s.seconds) - x(from)),
    y: top + i * rowHeight,
    title: `${s.name}: ${s.status}, ${s.seconds.toFixed(2)} s${s.attempts > 1 ? `, ${s.attempts} attempts` : ''}${s.error ? ` — ${s.error.split('\n')[0]}` : ''}`,
  }));
  let rto: TimelineLayout['rto'] = null;
  if (rtoShown) rto = { x: x(r.rto_seconds), label: `RTO ${formatRto(r.rto_seconds)}` };
  else if (r.rto_seconds > 0) {
    const used = ((r.total_seconds / r.rto_seconds) * 100).toFixed(r.total_seconds / r.rto_seconds < 0.01 ? 3 : 1);
    rto = { x: null, label: `RTO ${formatRto(r.rto_seconds)} → off the chart (this run used ${used}% of it)` };
  }
  return { width, height, labelEdge, rowHeight, top, bottom: height - 24, ticks, bars, rto };
}
