import type { Command } from 'commander';
import { hostName, systemClock } from '../../base/clock.js';
import { messageOf } from '../../base/error-codes.js';
import { finishedJob, saveJobRecord } from '../../control/jobs.js';
import { verificationOutcome } from '../../control/verification.js';
import { check } from '../../engine/check.js';
import { OutcomeError, UsageError } from '../errors.js';
import { interruptSignal, withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';

export function registerCheck(program: Command): void {
  withRepoOptions(program.command('check').description('verify the repository: structure, and optionally the stored data'))
    .option('--read-data', 'read back and verify every pack and blob')
    .option('--read-data-subset <percent>', 'read back this share of packs, chosen at random (e.g. 10%)')
    .action(async (flags: RepoFlags & { readData?: boolean; readDataSubset?: string }) => {
      const signal = interruptSignal();
      const readData = flags.readData ? 1 : flags.readDataSubset ? parsePercent(flags.readDataSubset) : 0;
      await withRepo(flags, async ({ repo, out }) => {
        const startedMs = systemClock.now();
        const report = await check(repo, { readData, signal, onWarning: (m) => out.warn(m) });
        // Recorded like serve's verifications, so that status and the dashboard know this one too.
        const finishedMs = systemClock.now();
        const outcome = verificationOutcome(report, readData * 100, finishedMs - startedMs);
        const times = { startedAt: new Date(startedMs).toISOString(), finishedAt: new Date(finishedMs).toISOString() };
        await saveJobRecord(repo, finishedJob('verify', outcome, { host: hostName(), ...times })).catch((err: unknown) => out.warn(`the verification was not recorded in the repository (status will not show it): ${messageOf(err)}`));
        out.result(report, () => {
          const lines = [
            `${report.snapshots} snapshot(s), ${report.packs} pack(s), ${report.blobs} blob(s); ${report.packsRead} pack(s) read back`,
            ...report.errors.map((e) => `error: ${e}`),
            ...report.damagedBlobs.map((d) => `damaged blob ${d.blob.slice(0, 12)} in pack ${d.pack.slice(0, 12)}: ${d.problem}`),
            ...report.affected.map((a) => `affected: snapshot ${a.snapshot.slice(0, 12)} (${a.asset}) file ${a.path}`),
          ];
          if (report.unreferencedPacks.length) {
            // Data that is missing may be in packs the index lost: rebuilding it finds them.
            lines.push(report.ok
              ? `${report.unreferencedPacks.length} pack(s) not in any index (left by an interrupted backup; harmless)`
              : `${report.unreferencedPacks.length} pack(s) not in any index may hold the missing data: run "lifeboat repair index", then check again`);
          }
          lines.push(report.ok ? 'no errors found' : 'the repository has errors');
          return lines.join('\n');
        });
        if (!report.ok) throw new OutcomeError('DAMAGE_FOUND', 'check found errors (see above)');
      }, { cache: false }); // what the repository holds, not the local copies of it
    });
}

function parsePercent(text: string): number {
  const n = Number(text.replace(/%$/, ''));
  if (!(n > 0 && n <= 100)) throw new UsageError(`--read-data-subset takes a percentage between 0 and 100, got "${text}"`);
  return n / 100;
}
