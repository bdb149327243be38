/** A report as Markdown, for a ticket or a chat message: the verdict first, then steps, preflight and each step's output. */
import { formatDuration } from '../base/duration.js';
import type { Report } from './reports.js';

export function headline(r: Report): string {
  const what = r.mode === 'drill' ? 'Drill' : 'Recovery';
  const verdict = r.verdict === 'met' ? 'RTO met' : r.verdict === 'missed' ? 'RTO MISSED' : 'FAILED';
  return `${what} of ${r.asset}: ${verdict} (${formatSeconds(r.total_seconds)} against an RTO of ${formatRto(r.rto_seconds)})`;
}

/** "12.3 s", "4 min 05 s", "1 h 02 min". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function formatRto(s: number): string {
  return s > 0 ? formatDuration(Math.round(s * 1000)) : 'none';
}

const cell = (s: string | number | null | undefined) => String(s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function reportMarkdown(r: Report): string {
  const rows: Array<[string, string]> = [
    ['Report', `\`${r.id}\` (revision ${r.revision})`],
    ['Asset', `${r.asset} (Tier ${r.tier})`],
    ['Runbook', r.runbook],
    ['Mode', r.mode],
    ['Snapshot', r.snapshot ? `\`${r.snapshot.slice(0, 12)}\`` : '-'],
    ['Restore directory', r.restore_dir ? `\`${r.restore_dir}\`` : '-'],
    ['Started', r.started_at],
    ['Finished', r.finished_at],
    ['Host', r.host],
    ['Total', formatSeconds(r.total_seconds)],
    ['RTO', formatRto(r.rto_seconds)],
    ['Verdict', `**${r.verdict}**`],
  ];
  if (r.error) rows.push(['Why', cell(r.error)]);
  if (r.seed !== undefined) rows.push(['Drill seed', String(r.seed)]);
  if (r.resumed_at.length) rows.push(['Resumed', r.resumed_at.join(', ')]);
  const out = [`# ${headline(r)}`, '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), ''];
  out.push('## Steps', '', '| # | Step | Kind | Status | Started | Seconds | Attempts | Error |', '|---|---|---|---|---|---|---|---|');
  r.steps.forEach((s, i) => out.push(`| ${i + 1} | ${cell(s.name)} | ${s.kind} | ${s.status} | ${s.started_at ?? '-'} | ${s.seconds.toFixed(2)} | ${s.attempts} | ${cell(s.error)} |`));
  out.push('', `## Preflight (${r.preflight_seconds.toFixed(1)} s)`, '', '| Check | Subject | Status | Message |', '|---|---|---|---|');
  for (const c of r.preflight) out.push(`| ${c.check} | ${cell(c.subject)} | ${c.status} | ${cell(c.message)} |`);
  const outputs = r.steps.filter((s) => s.output_tail || (s.error && s.error.includes('\n')));
  if (outputs.length) out.push('', '## Output');
  for (const s of outputs) {
    const text = [s.output_tail.trimEnd(), s.error && s.error.includes('\n') ? s.error : ''].filter(Boolean).join('\n');
    out.push('', `### ${s.name}`, '', '```text', text.replace(/```/g, "'''"), '```');
  }
  return out.join('\n') + '\n';
}
