// An asset's drills over time: each drill's measured recovery time as a point, the RTO it was
// measured against as a dashed line, a failed drill (nothing measured) as a cross on the floor.
// The duration axis is logarithmic: a drill takes seconds to minutes while an RTO runs to hours,
// and both must be readable on one chart.
import { formatRto } from '../../src/control/report-markdown.js';
import type { DrillRun } from './api.js';
import { when } from './format.js';

const WIDTH = 640;
const HEIGHT = 220;
const LEFT = 56;
const RIGHT = 16;
const TOP = 14;
const BOTTOM = 36;
const TICKS = [0.01, 0.1, 1, 10, 60, 600, 3600, 86_400, 7 * 86_400];

export interface ChartPoint {
  run: DrillRun;
  x: number;
  y: number;
}

export interface RtoChartLayout {
  points: ChartPoint[];
  /** The RTO as a step line across the runs (it may change between drills). */
  target: string;
  targetLabel: { x: number; y: number; text: string };
  yTicks: Array<{ y: number; label: string }>;
  xLabels: Array<{ x: number; label: string; anchor: 'start' | 'end' | 'middle' }>;
  floor: number;
}

/** Where the chart draws each run (`runs` oldest first). Pure, so the page and its reader agree. */
export function rtoChartLayout(runs: readonly DrillRun[]): RtoChartLayout {
  const times = runs.map((r) => Date.parse(r.started_at));
  const first = Math.min(...times);
  const last = Math.max(...times);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (t: number) => (last === first ? LEFT + plotWidth / 2 : LEFT + plotWidth * (0.04 + (0.92 * (t - first)) / (last - first)));
  const values = runs.flatMap((r) => [r.rto_seconds, ...(r.verdict === 'failed' ? [] : [r.total_seconds])]).filter((v) => v > 0);
  const lo = Math.max(0.01, Math.min(...values) / 3);
  const hi = Math.max(...values) * 3;
  const floor = HEIGHT - BOTTOM;
  const y = (v: number) => TOP + (1 - (Math.log(Math.max(v, lo)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * (floor - TOP);
  const points = runs.map((run, i) => ({ run, x: x(times[i]), y: run.verdict === 'failed' ? floor - 7 : y(run.total_seconds) }));
  let target = `M${LEFT},${y(runs[0].rto_seconds)}`;
  points.forEach((p, i) => {
    if (i > 0 && p.run.rto_seconds !== runs[i - 1].rto_seconds) target += ` H${(points[i - 1].x + p.x) / 2} V${y(p.run.rto_seconds)}`;
  });
  target += ` H${WIDTH - RIGHT}`;
  const newestRto = runs[runs.length - 1].rto_seconds;
  const xLabels: RtoChartLayout['xLabels'] =
    last === first
      ? [{ x: x(first), label: when(runs[0].started_at), anchor: 'middle' }]
      : [
          { x: x(first), label: when(new Date(first).toISOString()), anchor: 'start' },
          { x: x(last), label: when(new Date(last).toISOString()), anchor: 'end' },
        ];
  return {
    points,
    target,
    targetLabel: { x: WIDTH - RIGHT, y: y(newestRto) - 6, text: `RTO ${formatRto(newestRto)}` },
    yTicks: TICKS.filter((t) => t >= lo && t <= hi).map((t) => ({ y: y(t), label: formatRto(t) })),
    xLabels,
    floor,
  };
}

export function RtoChart({ asset, runs }: { asset: string; runs: readonly DrillRun[] }) {
  const chart = rtoChartLayout(runs);
  const measured = chart.points.filter((p) => p.run.verdict !== 'failed');
  return (
    <figure class="rto-chart" data-asset={asset}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${asset}: measured recovery time of ${runs.length} drill(s) against the RTO`}>
        {chart.yTicks.map((t) => (
          <g key={t.label} class="tick">
            <line x1={LEFT} x2={WIDTH - RIGHT} y1={t.y} y2={t.y} />
            <text x={LEFT - 6} y={t.y + 4} text-anchor="end">
              {t.label}
            </text>
          </g>
        ))}
        <line class="axis" x1={LEFT} x2={WIDTH - RIGHT} y1={chart.floor} y2={chart.floor} />
        {chart.xLabels.map((l) => (
          <text key={l.label} class="x-label" x={l.x} y={HEIGHT - 12} text-anchor={l.anchor}>
            {l.label}
          </text>
        ))}
        <path class="rto-target" d={chart.target} />
        <text class="rto-target-label" x={chart.targetLabel.x} y={chart.targetLabel.y} text-anchor="end">
          {chart.targetLabel.text}
        </text>
        {measured.length > 1 ? <polyline class="rto-measured" points={measured.map((p) => `${p.x},${p.y}`).join(' ')} /> : null}
        {chart.points.map((p) => {
          const title = `${when(p.run.started_at)}: ${p.run.verdict === 'failed' ? `failed${p.run.failed_step ? ` at ${p.run.failed_step}` : ' in the preflight'}, nothing measured` : `${p.run.total_seconds.toFixed(2)} s of an RTO of ${formatRto(p.run.rto_seconds)}`}`;
          return p.run.verdict === 'failed' ? (
            <path key={p.run.id} class="point point-failed" data-verdict="failed" data-report={p.run.id} d={`M${p.x - 5},${p.y - 5} l10,10 m0,-10 l-10,10`}>
              <title>{title}</title>
            </path>
          ) : (
            <circle key={p.run.id} class={`point point-${p.run.verdict}`} data-verdict={p.run.verdict} data-report={p.run.id} cx={p.x} cy={p.y} r={5}>
              <title>{title}</title>
            </circle>
          );
        })}
      </svg>
      <figcaption class="muted">
        <span class="key key-met">●</span> RTO met <span class="key key-missed">●</span> RTO missed <span class="key key-failed">✕</span> failed (nothing measured) · dashed: the RTO · durations on a log scale
      </figcaption>
    </figure>
  );
}
