/**
 * A report as one standalone HTML page (no external assets: it is mailed, attached to tickets
 * and opened offline): the verdict, a timeline of the steps drawn as SVG against the RTO line,
 * and the tables of steps and preflight checks.
 */
import { formatRto, formatSeconds, headline } from './report-markdown.js';
import { timelineLayout } from './report-timeline.js';
import type { Report } from './reports.js';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const COLOURS = { ok: '#2e7d32', failed: '#c62828', skipped: '#9e9e9e' } as const;
const VERDICT_COLOURS = { met: '#2e7d32', missed: '#ef6c00', failed: '#c62828' } as const;

/** The steps as bars on a time axis, with the RTO drawn as a line when it falls within 4x the run's length. */
export function timelineSvg(r: Report): string {
  const t = timelineLayout(r);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${t.width} ${t.height}" width="100%" role="img" aria-label="timeline of the steps">`];
  for (const tick of t.ticks) {
    parts.push(`<line x1="${tick.x}" y1="${t.top - 6}" x2="${tick.x}" y2="${t.bottom}" stroke="#e0e0e0"/>`, `<text x="${tick.x}" y="${t.height - 8}" font-size="11" text-anchor="middle" fill="#555">${esc(tick.label)}</text>`);
  }
  for (const bar of t.bars) {
    parts.push(`<text x="${t.labelEdge - 8}" y="${bar.y + 16}" font-size="12" text-anchor="end">${esc(bar.name)}</text>`);
    if (bar.status === 'skipped') parts.push(`<text x="${bar.x}" y="${bar.y + 16}" font-size="11" fill="${COLOURS.skipped}">skipped</text>`);
    else parts.push(`<rect x="${bar.x}" y="${bar.y + 4}" width="${bar.width}" height="${t.rowHeight - 10}" rx="3" fill="${COLOURS[bar.status]}"><title>${esc(bar.title)}</title></rect>`);
  }
  if (t.rto?.x != null) {
    parts.push(`<line x1="${t.rto.x}" y1="${t.top - 10}" x2="${t.rto.x}" y2="${t.bottom}" stroke="#c62828" stroke-width="2" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${t.rto.x - 4}" y="${t.top - 12}" font-size="12" text-anchor="end" fill="#c62828">${esc(t.rto.label)}</text>`);
  } else if (t.rto) {
    parts.push(`<text x="${t.width - 20}" y="${t.top - 12}" font-size="12" text-anchor="end" fill="#c62828">${esc(t.rto.label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

export function reportHtml(r: Report): string {
  const colour = VERDICT_COLOURS[r.verdict];
  const facts: Array<[string, string]> = [
    ['Report', `${r.id} (revision ${r.revision})`],
    ['Asset', `${r.asset} (Tier ${r.tier})`],
    ['Runbook', r.runbook],
    ['Snapshot', r.snapshot ?? '-'],
    ['Restore directory', r.restore_dir ?? '-'],
    ['Started', r.started_at],
    ['Finished', r.finished_at],
    ['Host', r.host],
    ['Total', formatSeconds(r.total_seconds)],
    ['RTO', formatRto(r.rto_seconds)],
  ];
  const steps = r.steps
    .map((s, i) => `<tr class="${s.status}"><td>${i + 1}</td><td>${esc(s.name)}</td><td>${esc(s.kind)}</td><td>${s.status}</td><td>${esc(s.started_at ?? '-')}</td><td class="n">${s.seconds.toFixed(2)}</td><td class="n">${s.attempts}</td><td><pre>${esc(s.error ?? '')}</pre></td></tr>`)
    .join('\n');
  const checks = r.preflight.map((c) => `<tr class="${c.status}"><td>${esc(c.check)}</td><td>${esc(c.subject)}</td><td>${c.status}</td><td>${esc(c.message)}</td></tr>`).join('\n');
  const outputs = r.steps
    .filter((s) => s.output_tail)
    .map((s) => `<details><summary>${esc(s.name)}</summary><pre>${esc(s.output_tail)}</pre></details>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(headline(r))}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222;padding:0 1em}
h1{font-size:1.4em}.verdict{display:inline-block;padding:.2em .7em;border-radius:4px;color:#fff;background:${colour}}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
td.n{text-align:right}tr.failed td,tr.fail td{background:#fdecea}tr.warn td{background:#fff8e1}tr.skipped td{color:#888}
pre{margin:0;white-space:pre-wrap;font-size:12px}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{color:#666}dd{margin:0}
</style></head><body>
<h1>${esc(headline(r))}</h1>
<p><span class="verdict">${esc(r.verdict)}</span> ${esc(r.error ?? '')}</p>
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<h2>Timeline</h2>
${timelineSvg(r)}
<h2>Steps</h2>
<table><tr><th>#</th><th>Step</th><th>Kind</th><th>Status</th><th>Started</th><th>Seconds</th><th>Attempts</th><th>Error</th></tr>
${steps}
</table>
<h2>Preflight (${r.preflight_seconds.toFixed(1)} s)</h2>
<table><tr><th>Check</th><th>Subject</th><th>Status</th><th>Message</th></tr>
${checks}
</table>
${outputs ? `<h2>Output</h2>\n${outputs}` : ''}
</body></html>
`;
}
