/**
 * Drill and recovery reports: the record of one run of a runbook, every step timed, the total
 * measured against the asset's RTO. Each is stored in the repository as a sealed object of kind
 * `report` (docs/format.md, section 14), so a replica — the second site — knows every drill and
 * recovery too, and as files (JSON, Markdown, HTML) in a report directory for people.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FormatError, RepoError } from '../repo/errors.js';
import { LifeboatError } from '../base/errors.js';
import { listIds, loadObject, parseJson, saveObject, type Repository } from '../repo/repository.js';
import type { CheckResult } from './preflight.js';
import type { RunMode } from './runbooks.js';

export const REPORT_VERSION = 1;

export type Verdict = 'met' | 'missed' | 'failed';
export type StepStatus = 'ok' | 'failed' | 'skipped';

export interface StepRecord {
  name: string;
  kind: string;
  status: StepStatus;
  /** null for a step that never started (skipped). */
  started_at: string | null;
  seconds: number;
  attempts: number;
  output_tail: string;
  error: string | null;
  /** `continue`: its failure did not stop the run (and does not fail it). */
  on_failure: 'stop' | 'continue';
}

export interface Report {
  version: number;
  /** The run's id (not the object's): `<UTC time>-<6 hex>`; a resumed run keeps it. */
  id: string;
  /** 1, then one more each time the run is resumed; readers take the highest. */
  revision: number;
  asset: string;
  tier: number;
  runbook: string;
  snapshot: string | null;
  mode: RunMode;
  started_at: string;
  finished_at: string;
  /** From the first step's start (of the first attempt, for a resumed run) to the last step's end. */
  total_seconds: number;
  rto_seconds: number;
  verdict: Verdict;
  steps: StepRecord[];
  /** The checks run before any step; a failed one means no step ran. */
  preflight: CheckResult[];
  /** How long the preflight took (not part of total_seconds). */
  preflight_seconds: number;
  restore_dir: string | null;
  host: string;
  /** A drill: the seed that picked the asset. */
  seed?: number;
  /** Why the run failed, in one sentence; null when it did not. */
  error: string | null;
  resumed_at: string[];
  program: string;
}

/** A fresh run id: sortable by time, unique enough across hosts. */
export function newReportId(nowMs: number): string {
  const time = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${time}-${randomBytes(3).toString('hex')}`;
}

/** Seals and stores the report; returns the object's id. */
export async function saveReport(repo: Repository, report: Report): Promise<string> {
  return saveObject(repo, 'report', Buffer.from(JSON.stringify(report)));
}

/**
 * Every readable report, oldest first, one per run (its highest revision). A damaged report is
 * left out and passed to `onDamaged`: one bad object must not hide the others.
 */
export async function listReports(repo: Repository, onDamaged?: (objectId: string, err: RepoError) => void): Promise<Report[]> {
  const ids = await listIds(repo.storage, 'report');
  const loaded = await Promise.all(
    ids.map(async (id) => {
      try {
        const report = parseJson<Report>(await loadObject(repo, 'report', id), `report ${id.slice(0, 12)}`);
        if (typeof report.version !== 'number' || report.version > REPORT_VERSION) throw new FormatError(`report ${id.slice(0, 12)} has version ${report.version}, newer than this lifeboat reads: upgrade lifeboat`);
        return report;
      } catch (err) {
        if (!(err instanceof RepoError)) throw err;
        onDamaged?.(id, err);
        return undefined;
      }
    }),
  );
  return newestRevisions(loaded.filter((r): r is Report => r !== undefined));
}

/** One report per run id (the highest revision), oldest run first. Pure. */
export function newestRevisions(reports: readonly Report[]): Report[] {
  const byId = new Map<string, Report>();
  for (const r of reports) {
    const seen = byId.get(r.id);
    if (!seen || r.revision > seen.revision) byId.set(r.id, r);
  }
  return [...byId.values()].sort((a, b) => a.started_at.localeCompare(b.started_at) || a.id.localeCompare(b.id));
}

/** The report whose id is `idOrPrefix` (or starts with it); undefined when none; an error when several. */
export function findReport(reports: readonly Report[], idOrPrefix: string): Report | undefined {
  const matches = reports.filter((r) => r.id === idOrPrefix || r.id.startsWith(idOrPrefix));
  if (matches.length > 1 && !matches.some((r) => r.id === idOrPrefix)) {
    throw new LifeboatError('USAGE', `report prefix ${idOrPrefix} is ambiguous (${matches.length} reports): give more characters`);
  }
  return matches.find((r) => r.id === idOrPrefix) ?? matches[0];
}

/** The report as files in `dir`: `<id>.json`, `<id>.md` and a standalone `<id>.html`. Returns their paths. */
export async function writeReportFiles(dir: string, report: Report): Promise<string[]> {
  const { reportMarkdown } = await import('./report-markdown.js');
  const { reportHtml } = await import('./report-html.js');
  await fs.mkdir(dir, { recursive: true });
  const files: Array<[string, string]> = [
    [`${report.id}.json`, JSON.stringify(report, null, 2) + '\n'],
    [`${report.id}.md`, reportMarkdown(report)],
    [`${report.id}.html`, reportHtml(report)],
  ];
  const written: string[] = [];
  for (const [name, text] of files) {
    const file = path.join(dir, name);
    const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, file);
    written.push(file);
  }
  return written;
}

/**
 * Brings the reports `destination` lacks (by run id and revision) from `source`, re-sealed with
 * the destination's key: replication calls it so that the second site knows every drill and
 * recovery too. Returns how many were copied.
 */
export async function copyReports(source: Repository, destination: Repository): Promise<number> {
  const [from, to] = await Promise.all([listReports(source), listReports(destination)]);
  const have = new Set(to.map((r) => `${r.id} ${r.revision}`));
  const missing = from.filter((r) => !have.has(`${r.id} ${r.revision}`));
  for (const r of missing) await saveReport(destination, r);
  return missing.length;
}
