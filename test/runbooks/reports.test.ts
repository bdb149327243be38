/**
 * Reports in the repository (sealed objects of kind report: one per run, its newest revision,
 * damaged ones left out) and as documents for people: Markdown for a ticket, a standalone HTML
 * page with the timeline and the RTO line.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { reportHtml, timelineSvg } from '../../src/control/report-html.js';
import { oneSentence } from '../../src/control/runbook-run.js';
import { reportMarkdown } from '../../src/control/report-markdown.js';
import { copyReports, findReport, listReports, newestRevisions, saveReport, type Report } from '../../src/control/reports.js';
import { assembleReport, verdictOf } from '../../src/control/runbook-report.js';
import { objectKey } from '../../src/repo/repository.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const T0 = Date.parse('2025-03-01T12:00:00Z');

function sample(over: Partial<Report> = {}): Report {
  const base = { id: '20250301T120000Z-a1b2c3', revision: 1, asset: 'llama-ft', tier: 1, runbook: 'serve-model', mode: 'drill' as const, snapshot: 'ab'.repeat(32), rto_seconds: 60, restore_dir: '/scratch/llama-ft-x', host: 'gpu-01', program: 'lifeboat test', resumed_at: [] };
  const steps = [
    { name: 'restore', kind: 'restore', status: 'ok' as const, started_at: '2025-03-01T12:00:00.000Z', seconds: 20, attempts: 1, output_tail: 'restored 3 file(s)', error: null, on_failure: 'stop' as const },
    { name: 'smoke', kind: 'smoke', status: 'failed' as const, started_at: '2025-03-01T12:00:20.000Z', seconds: 10, attempts: 3, output_tail: 'HTTP 503 <oops> | pipe', error: 'POST http://127.0.0.1:8000/v1/completions answered HTTP 503 (expected 200)', on_failure: 'stop' as const },
    { name: 'switch', kind: 'switch', status: 'skipped' as const, started_at: null, seconds: 0, attempts: 0, output_tail: '', error: null, on_failure: 'stop' as const },
  ];
  return { ...assembleReport(base, steps, [{ check: 'space', subject: '/scratch', status: 'ok', message: 'restoring llama-ft needs 5.0 MiB; /scratch has 1.0 GiB free' }], { startMs: T0, endMs: T0 + 30_000, preflightSeconds: 0.4 }, 'step smoke failed: …'), ...over };
}

test('verdicts: failed on a stopping failure, missed over the RTO, met otherwise; a continue step changes nothing', () => {
  const ok = sample().steps[0];
  const soft = { ...sample().steps[1], on_failure: 'continue' as const };
  assert.equal(verdictOf([ok], 30, 60, false), 'met');
  assert.equal(verdictOf([ok], 61, 60, false), 'missed');
  assert.equal(verdictOf([ok, soft], 30, 60, false), 'met');
  assert.equal(verdictOf([ok, sample().steps[1]], 30, 60, false), 'failed');
  assert.equal(verdictOf([], 0, 60, true), 'failed', 'a preflight failure');
  const r = sample();
  assert.deepEqual([r.started_at, r.finished_at, r.total_seconds, r.preflight_seconds, r.verdict], ['2025-03-01T12:00:00.000Z', '2025-03-01T12:00:30.000Z', 30, 0.4, 'failed']);
});

test('saved in the repository and listed back: one report per run, its highest revision, a damaged one left out', async (t) => {
  const repo = await createRepo(path.join(await tempDir(t), 'repo'));
  const first = sample();
  await saveReport(repo, first);
  await saveReport(repo, { ...first, revision: 2, verdict: 'met', error: null });
  const other = sample({ id: '20250302T080000Z-ffeedd', started_at: '2025-03-02T08:00:00.000Z', asset: 'dataset' });
  const otherId = await saveReport(repo, other);
  const damagedId = await saveReport(repo, sample({ id: '20250303T000000Z-000000', started_at: '2025-03-03T00:00:00.000Z' }));
  const bytes = await repo.storage.get(objectKey('report', damagedId));
  bytes[bytes.length - 1] ^= 1;
  await repo.storage.delete(objectKey('report', damagedId));
  await repo.storage.put(objectKey('report', damagedId), bytes);
  const damaged: string[] = [];
  const reports = await listReports(repo, (id) => damaged.push(id));
  assert.deepEqual(reports.map((r) => [r.id, r.revision, r.verdict]), [[first.id, 2, 'met'], [other.id, 1, 'failed']]);
  assert.deepEqual(damaged, [damagedId]);
  assert.ok(otherId !== damagedId);
  assert.equal(findReport(reports, '20250302')?.asset, 'dataset');
  assert.throws(() => findReport(reports, '2025030'), /ambiguous \(2 reports\)/);
  assert.equal(findReport(reports, 'nope'), undefined);
  assert.deepEqual(newestRevisions([{ ...first, revision: 3 }, first]).map((r) => r.revision), [3]);
});

test('Markdown: the verdict first, tables whose cells cannot break the table, each step\'s output', () => {
  const md = reportMarkdown(sample());
  assert.match(md, /^# Drill of llama-ft: FAILED \(30\.0 s against an RTO of 1m\)\n/);
  assert.match(md, /\| 2 \| smoke \| smoke \| failed \| 2025-03-01T12:00:20.000Z \| 10.00 \| 3 \| POST http:\/\/127.0.0.1:8000\/v1\/completions answered HTTP 503 \(expected 200\) \|/);
  assert.match(md, /\| space \| \/scratch \| ok \| restoring llama-ft needs 5.0 MiB; \/scratch has 1.0 GiB free \|/);
  assert.match(md, /### smoke\n\n```text\nHTTP 503 <oops> \| pipe\n```/);
});

test('HTML: standalone, escaped, the steps on a timeline with the RTO line, or the RTO off the chart', () => {
  const html = reportHtml(sample());
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script|<link|src=|url\(/);
  assert.match(html, /HTTP 503 &#60;oops&#62;/);
  assert.doesNotMatch(html, /<oops>/);
  const svg = timelineSvg(sample());
  assert.equal((svg.match(/<rect /g) ?? []).length, 2, 'a bar per step that ran');
  assert.match(svg, />skipped</);
  const rto = /<line x1="([\d.]+)"[^>]*stroke="#c62828"/.exec(svg);
  assert.ok(rto, 'the RTO line is drawn');
  const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.ok(bars[1][0] + bars[1][1] < Number(rto[1]), 'the 30 s run ends before the 60 s RTO line');
  assert.ok(Math.abs(bars[1][0] - (bars[0][0] + bars[0][1])) < 0.01, 'smoke starts where restore ended');
  const longRto = timelineSvg(sample({ rto_seconds: 4 * 3600 }));
  assert.match(longRto, /RTO 4h → off the chart \(this run used 0.208% of it\)/);
});

test('copyReports brings a replica the reports it lacks, re-sealed with its own key', async (t) => {
  const dir = await tempDir(t);
  const [primary, replica] = await Promise.all([createRepo(path.join(dir, 'primary')), createRepo(path.join(dir, 'replica'))]);
  await saveReport(primary, sample());
  await saveReport(replica, sample());
  await saveReport(primary, sample({ revision: 2, verdict: 'met' }));
  await saveReport(primary, sample({ id: '20250302T000000Z-bbbbbb' }));
  assert.equal(await copyReports(primary, replica), 2);
  assert.deepEqual((await listReports(replica)).map((r) => [r.id, r.revision]), [['20250301T120000Z-a1b2c3', 2], ['20250302T000000Z-bbbbbb', 1]]);
  assert.equal(await copyReports(primary, replica), 0, 'nothing twice');
});

test("a report's one-line error: a list the step's error introduces is named by its first item", () => {
  assert.equal(oneSentence('2 of 3 file(s) in /srv/x do not match snapshot abc:\n  model.safetensors: header does not parse\n  b: differs'), '2 of 3 file(s) in /srv/x do not match snapshot abc (first: model.safetensors: header does not parse)');
  assert.equal(oneSentence('exit code 3\nstderr: no leaderboard'), 'exit code 3');
  assert.equal(oneSentence('nothing listed:'), 'nothing listed:');
});
