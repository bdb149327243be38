import type { Command } from 'commander';
import { replicationLag } from '../../engine/replication.js';
import { listSnapshotsAndDamage } from '../../engine/snapshots.js';
import type { Repository } from '../../repo/repository.js';
import type { Output } from '../output.js';
import { formatBytes, table } from '../output.js';
import { withRepo, withRepoOptions, type RepoFlags } from '../repo-options.js';
import { openPair } from './copy.js';
import { describeLag } from './replicas.js';

interface SnapshotsFlags extends RepoFlags {
  asset?: string;
  replicas?: string;
  toPasswordFile?: string;
  withDamaged?: boolean;
}

export function registerSnapshots(program: Command): void {
  withRepoOptions(program.command('snapshots').description('list snapshots, oldest first'))
    .option('--asset <name>', 'only this asset')
    .option('--replicas <url>', 'also show the replication lag of this replica (URL, directory or name from lifeboat.yaml) per asset (JSON: { snapshots, replication })')
    .option('--to-password-file <file>', 'the replica\'s password (env LIFEBOAT_TO_PASSWORD_FILE or LIFEBOAT_TO_PASSWORD; default: this repository\'s)')
    .option('--with-damaged', 'JSON: { snapshots, damaged } instead of an array, damaged listing the snapshot objects that cannot be read (with --replicas always there)')
    .action(async (flags: SnapshotsFlags) => {
      if (!flags.replicas) return withRepo(flags, ({ repo, out }) => show(repo, out, flags));
      const pair = await openPair({ ...flags, to: flags.replicas });
      try {
        await show(pair.source, pair.out, flags, pair.destination);
      } finally {
        await pair.close();
      }
    });
}

async function show(repo: Repository, out: Output, flags: SnapshotsFlags, replica?: Repository): Promise<void> {
  const listing = await listSnapshotsAndDamage(repo);
  // Not filtered by --asset: the asset of an unreadable snapshot is inside it.
  const damaged = listing.damaged.map(({ id, error }) => ({ id, problem: error.message }));
  for (const d of damaged) out.warn(`snapshot ${d.id.slice(0, 12)} is unreadable and left out (${d.problem}); while it is there, latest and ASSET@latest are refused (exit 13; see --skip-damaged); run "lifeboat check"`);
  const all = listing.snapshots.filter((s) => !flags.asset || s.snapshot.asset === flags.asset);
  const list = all.map(({ id, snapshot }) => ({ id, ...snapshot }));
  const replication = replica ? await replicationLag(repo, replica, { asset: flags.asset }) : undefined;
  // The array is the document scripts know; the object form carries the damaged ids when asked for (or with --replicas).
  const document = replication ? { snapshots: list, replication, damaged } : flags.withDamaged ? { snapshots: list, damaged } : list;
  out.result(document, () => {
    const text =
      table(
        ['ID', 'Time', 'Asset', 'Tier', 'Size', 'Tags', 'State'],
        all.map(({ id, snapshot: s }) => [
          id.slice(0, 12),
          s.time.replace('T', ' ').slice(0, 19),
          s.asset,
          s.tier === undefined ? '-' : String(s.tier),
          formatBytes(s.summary.totalBytes),
          s.tags.join(',') || '-',
          s.incomplete.length ? `incomplete (${s.incomplete.length})` : 'ok',
        ]),
      ) + `\n${all.length} snapshot(s)${damaged.length ? `; ${damaged.length} unreadable, left out (see the warnings)` : ''}`;
    return replication ? `${text}\n\n${describeLag(replication)}` : text;
  });
}
