/**
 * A verification (`lifeboat check`, or serve's periodic one) as a job record, so that `status`,
 * the dashboard and the metrics know when the repository was last read back and what was found,
 * whichever ran it.
 */
import type { CheckReport } from '../engine/check.js';
import type { JobOutcome } from './jobs.js';

/** What a finished check found, as a job's outcome: failed with DAMAGE_FOUND when it found damage. */
export function verificationOutcome(report: CheckReport, subsetPercent: number, durationMs: number): JobOutcome {
  const details = {
    subsetPercent,
    packs: report.packs,
    packsChecked: report.packsRead,
    bytesRead: report.bytesRead,
    durationMs,
    errors: report.errors.slice(0, 20),
    damagedBlobs: report.damagedBlobs.length,
    affected: report.affected.slice(0, 20),
  };
  if (report.ok) return { result: 'ok', details };
  const problems = [...report.errors, ...report.damagedBlobs.map((d) => `blob ${d.blob.slice(0, 12)} in pack ${d.pack.slice(0, 12)}: ${d.problem}`)];
  return { result: 'failed', details, error: { code: 'DAMAGE_FOUND', message: `verification found damage: ${problems.slice(0, 3).join('; ')}` } };
}
