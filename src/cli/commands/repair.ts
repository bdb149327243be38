import type { Command } from 'commander';
import { repairIndex, type RepairIndexResult } from '../../engine/repair-index.js';
import { repairSnapshots, type RepairSnapshotsResult } from '../../engine/repair-snapshots.js';
import { OutcomeError } from '../errors.js';
import { interruptSignal, withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';

/**
 * `repair index`: rebuild the index from the pack headers when index files are damaged or missing.
 * `repair snapshots`: remove the snapshot objects that cannot be read (they block every `latest`).
 */
export function registerRepair(program: Command): void {
  const repair = program.command('repair').description('rebuild parts of a damaged repository');
  withRepoOptions(repair.command('index').description('rebuild the index from the headers of the stored packs, replacing every index file'))
    .action(async (flags: RepoFlags) => {
      const signal = interruptSignal();
      await withRepo(flags, async ({ repo, out }) => {
        const result = await repairIndex(repo, { signal, onWarning: (m) => out.warn(m) });
        out.result(result, () => describe(result));
        if (result.damagedPacks.length) {
          throw new OutcomeError('DAMAGE_FOUND', `${result.damagedPacks.length} pack(s) have a damaged header and are not indexed (left in place): run "lifeboat check" to see which files they affect`);
        }
      }, { cache: false });
    });
  withRepoOptions(repair.command('snapshots').description('remove the snapshot objects that cannot be read, so that latest and ASSET@latest resolve again'))
    .option('--dry-run', 'say which objects would be removed; remove nothing')
    .action(async (flags: RepoFlags & { dryRun?: boolean }) => {
      const signal = interruptSignal();
      await withRepo(flags, async ({ repo, out }) => {
        const result = await repairSnapshots(repo, { dryRun: flags.dryRun, signal, onWarning: (m) => out.warn(m) });
        out.result(result, () => describeSnapshots(result));
        for (const n of result.newer) out.warn(`${n.problem} (left in place)`);
        if (result.locked.length) {
          throw new OutcomeError('DAMAGE_FOUND', `${result.locked.length} unreadable snapshot object(s) are under Object Lock and stay until their retention ends: run "lifeboat repair snapshots" again then, or pass --skip-damaged meanwhile`);
        }
      }, { cache: false });
    });
}

function describeSnapshots(r: RepairSnapshotsResult): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  return [
    `${r.readable} readable snapshot(s) untouched; ${verb} ${r.removed.length} unreadable object(s)`,
    ...r.removed.map((d) => `${verb} snapshot ${d.id.slice(0, 12)}: ${d.problem}`),
    ...r.locked.map((l) => `snapshot ${l.id.slice(0, 12)} is unreadable but locked until ${l.until}: it stays`),
  ].join('\n');
}

function describe(r: RepairIndexResult): string {
  return [
    `indexed ${r.packs} pack(s), ${r.blobs} blob(s): ${r.packsAdded} pack(s) added, ${r.packsDropped} dropped`,
    `wrote ${r.indexesWritten} index file(s), deleted ${r.indexesDeleted} old one(s)`,
    ...r.damagedIndexes.map((d) => `replaced damaged index ${d.index.slice(0, 12)}`),
    ...r.damagedPacks.map((d) => `damaged pack ${d.pack} (left in place, not indexed): ${d.problem}`),
    ...r.lockedIndexes.map((l) => `old index ${l.index.slice(0, 12)} is locked until ${l.until} and stays`),
  ].join('\n');
}
