import type { Command } from 'commander';
import type { CdcParams } from '../../repo/chunker/chunker.js';
import { copy, type CopyResult } from '../../engine/copy.js';
import { retentionUntil, withRetention } from '../../engine/copy-retention.js';
import { selectSnapshots, type Selection } from '../../engine/copy-plan.js';
import { describeDamaged, listSnapshotsAndDamage, resolveSnapshot } from '../../engine/snapshots.js';
import { withLineageInputs } from '../../control/lineage.js';
import { initRepository, openRepository, type Repository } from '../../repo/repository.js';
import { openStorage } from '../../storage/open.js';
import type { ObjectLockMode } from '../../storage/s3-options.js';
import { UsageError } from '../errors.js';
import { formatBytes, formatRate, makeOutput, type Output } from '../output.js';
import { startProgress } from '../progress.js';
import { interruptSignal, openTargetStorage, readPassword, resolveRepo, resolveTarget, withRepoOptions, type RepoFlags } from '../repo-options.js';
import { withSkipDamaged, type SkipDamagedFlags } from '../snapshot-spec.js';

export interface TargetFlags extends RepoFlags {
  to?: string;
  toPasswordFile?: string;
  lockMode?: ObjectLockMode;
  toEndpoint?: string;
  toProfile?: string;
  toRegion?: string;
  toCaBundle?: string;
}

interface CopyFlags extends TargetFlags, SkipDamagedFlags {
  asset?: string;
  tier?: number;
  all?: boolean;
  init?: boolean;
  retainDays?: number;
}

export interface OpenPair {
  source: Repository;
  destination: Repository;
  out: Output;
  close(): Promise<void>;
}

/** Adds --to and --to-password-file (shared by copy and replicas). */
export function withTargetOptions(cmd: Command): Command {
  return cmd
    .option('--to <url>', 'destination repository: a directory, s3://BUCKET/PREFIX or a name from lifeboat.yaml (env LIFEBOAT_TO_REPOSITORY)')
    .option('--to-password-file <file>', 'destination password (env LIFEBOAT_TO_PASSWORD_FILE or LIFEBOAT_TO_PASSWORD, then its password_file in lifeboat.yaml; default: the source\'s)')
    .option('--to-endpoint <url>', 'S3 endpoint of the destination when it differs from the source\'s (default: the AWS_* environment)')
    .option('--to-region <region>', 'S3 region of the destination')
    .option('--to-profile <name>', 'AWS profile (credentials) for the destination')
    .option('--to-ca-bundle <file>', 'https destination: also trust the CA certificates in this PEM file (default AWS_CA_BUNDLE)');
}

/**
 * Opens the source (-r) and the destination (--to: a URL, a directory or a name of lifeboat.yaml).
 * The destination's password is its own when one is given (flag, environment, lifeboat.yaml), else
 * the source's. With `init`, a destination without a repository gets one with the source's chunker
 * parameters, so direct backups into both deduplicate alike.
 */
export async function openPair(flags: TargetFlags, init = false): Promise<OpenPair> {
  const out = makeOutput(!!flags.json, !!flags.quiet);
  const value = flags.to ?? process.env.LIFEBOAT_TO_REPOSITORY;
  if (!value) throw new UsageError('no destination given: use --to or set LIFEBOAT_TO_REPOSITORY');
  const sourceTarget = await resolveRepo(flags);
  const target = await resolveTarget(flags, value, { endpoint: flags.toEndpoint, region: flags.toRegion, profile: flags.toProfile, lockMode: flags.lockMode, caBundle: flags.toCaBundle });
  const sourceStorage = await openTargetStorage(sourceTarget, flags.cache !== false);
  const targetStorage = await openStorage(target.url, { s3: target.s3 }).catch(async (err) => {
    await sourceStorage.close();
    throw err;
  });
  const close = async () => {
    await Promise.allSettled([sourceStorage.close(), targetStorage.close()]);
  };
  try {
    const password = await readPassword({ file: flags.passwordFile, configured: sourceTarget.passwordFile });
    const source = await openRepository(sourceStorage, password);
    const targetPassword = await readPassword({ file: flags.toPasswordFile, envPrefix: 'LIFEBOAT_TO', configured: target.passwordFile, fallback: password });
    let destination: Repository;
    if (init && !(await targetStorage.head('config'))) {
      destination = await initRepository(targetStorage, targetPassword, { config: { chunker: source.config.chunker, packSize: source.config.packSize, zstdLevel: source.config.zstdLevel } });
      out.info(`created repository ${destination.config.id.slice(0, 12)} at ${targetStorage.location} (chunker parameters of the source)`);
    } else {
      destination = await openRepository(targetStorage, targetPassword);
    }
    return { source, destination, out, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The chunker parameters (gear seed included) of another repository, for init --copy-chunker-params-from. */
export async function chunkerParamsOf(flags: RepoFlags, value: string, passwordFile: string | undefined): Promise<CdcParams> {
  const target = await resolveTarget(flags, value, {});
  const storage = await openStorage(target.url, { s3: target.s3 });
  try {
    const password = await readPassword({ file: passwordFile, envPrefix: 'LIFEBOAT_FROM', configured: target.passwordFile, purpose: `password of ${value}` });
    return (await openRepository(storage, password)).config.chunker;
  } finally {
    await storage.close();
  }
}

export function registerCopy(program: Command): void {
  withSkipDamaged(withTargetOptions(withRepoOptions(program.command('copy').description('copy snapshots to another repository (replication), re-encrypted with its key'))))
    .argument('[snapshots...]', 'snapshot ids, id prefixes, latest or ASSET@latest')
    .option('--asset <name>', 'the snapshots of this asset')
    .option('--tier <n>', 'the snapshots of this tier', Number)
    .option('--all', 'every snapshot')
    .option('--init', 'create the destination repository when it does not exist (with the source\'s chunker parameters)')
    .option('--retain-days <n>', 'write packs, indexes and snapshots with Object Lock retention of n days (S3 with Object Lock)', Number)
    .option('--lock-mode <mode>', 'Object Lock mode for --retain-days: GOVERNANCE (default) or COMPLIANCE', parseLockMode)
    .action(async (specs: string[], flags: CopyFlags) => {
      if (specs.length === 0 && flags.asset === undefined && flags.tier === undefined && !flags.all) {
        throw new UsageError('say what to copy: snapshot ids, --asset, --tier or --all');
      }
      if (flags.tier !== undefined && !Number.isInteger(flags.tier)) throw new UsageError('--tier takes a whole number (1, 2, 3)');
      const signal = interruptSignal();
      const pair = await openPair(flags, flags.init);
      try {
        const ids = await Promise.all(specs.map(async (spec) => (await resolveSnapshot(pair.source, spec, { skipDamaged: flags.skipDamaged, onWarning: (m) => pair.out.warn(m) })).id));
        let destination = pair.destination;
        if (flags.retainDays !== undefined) {
          const until = retentionUntil(flags.retainDays);
          destination = withRetention(destination, { until, onProtect: (r) => pair.out.info(`snapshot ${r.snapshotId.slice(0, 12)}: retention of ${r.packsChecked} older pack(s) and ${r.indexesChecked} index file(s) extended to ${until.toISOString()} where it ended earlier`) });
        }
        const bar = startProgress('copy', !flags.json && !flags.quiet);
        const selected = await withLineage(pair, { ids: specs.length ? ids : undefined, asset: flags.asset, tier: flags.tier, all: flags.all });
        const result = await copy(pair.source, destination, {
          ids: selected,
          onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal),
          onWarning: (m) => pair.out.warn(m),
          signal,
        }).finally(() => bar.stop());
        pair.out.result({ source: pair.source.storage.location, destination: pair.destination.storage.location, ...result }, () => describe(result, pair.destination.storage.location));
      } finally {
        await pair.close();
      }
    });
}

/** The selection's snapshots and the dataset versions their lineage names (control/lineage.ts): a model is copied with its data. */
async function withLineage(pair: OpenPair, selection: Selection): Promise<string[]> {
  const { snapshots: all, damaged } = await listSnapshotsAndDamage(pair.source);
  // Named ids were resolved already; a selection by asset, tier or all cannot include what cannot be read.
  if (!selection.ids && damaged.length) pair.out.warn(`${describeDamaged(damaged.map((d) => d.id), pair.source.storage.location)} and are not copied; run "lifeboat check"`);
  const chosen = selectSnapshots(all, selection);
  const grown = withLineageInputs(all, chosen);
  if (grown.length > chosen.length) pair.out.info(`also copying ${grown.length - chosen.length} version(s) that the lineage of the selected snapshots names`);
  return grown.map((s) => s.id);
}

function describe(r: CopyResult, where: string): string {
  const lines = r.snapshots.map((s) => `${s.status === 'copied' ? 'copied ' : 'present'} ${s.sourceId.slice(0, 12)} -> ${s.destinationId.slice(0, 12)}  ${s.asset}  ${s.time.replace('T', ' ').slice(0, 19)}${s.status === 'copied' ? `  ${s.blobs} blob(s), ${formatBytes(s.bytes)}` : ''}`);
  if (r.snapshots.length === 0) lines.push('no snapshot matches');
  lines.push(
    `${r.copied} snapshot(s) copied to ${where}, ${r.present} already there; ${r.blobs} blob(s) sent (${formatBytes(r.bytesRead)} read), ` +
      `${r.packs} pack(s) written (${formatBytes(r.bytesWritten)}) in ${(r.durationMs / 1000).toFixed(1)} s (${formatRate(r.bytesRead, r.durationMs)})`,
  );
  return lines.join('\n');
}

function parseLockMode(value: string): ObjectLockMode {
  const mode = value.toUpperCase();
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw new UsageError(`--lock-mode takes GOVERNANCE or COMPLIANCE, not "${value}"`);
  return mode;
}
