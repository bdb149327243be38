/**
 * The command line of the sources and of lineage, registered on `backup` and `restore`:
 *
 *   backup --asset NAME --postgres URL | --mysql URL | --sqlite FILE | --git PATH|URL | --from-s3 URL
 *          | --stdin-from-command CMD [--stdin-filename NAME]   [--source-password-file FILE]
 *          [--lineage ROLE=REF ...] [--lineage-file run.json] [--param K=V ...] [--metric K=V ...]
 *   restore SNAP --to-postgres URL | --to-mysql URL [--clean] | --to-git DIR | --to-s3 URL
 *   restore SNAP --with-lineage --target DIR
 *
 * Each form parses its flags and calls one function of sources/ or control/.
 */
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { addFlags, emptyLineageRequest, parseLineageFile, resolveLineage, type LineageRequest } from '../control/lineage-input.js';
import { retentionUntil, withRetention } from '../engine/copy-retention.js';
import { defaultSplitters } from '../repo/chunker/default-splitters.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot } from '../repo/snapshot.js';
import type { RestoreOutcome, RestoreRequest } from '../sources/adapter.js';
import type { SourceConfig } from '../sources/config.js';
import { OutcomeError, UsageError } from './errors.js';
import { formatBytes, formatRate } from './output.js';
import { startProgress } from './progress.js';
import { withRepo, type RepoFlags, SNAPSHOTS_AND_INDEX } from './repo-options.js';
import { splitSpec } from './snapshot-spec.js';

export interface SourceFlags extends RepoFlags {
  asset?: string;
  tier?: number;
  tag?: string[];
  meta?: string[];
  host?: string;
  parent?: string;
  force?: boolean;
  retainDays?: number;
  postgres?: string;
  mysql?: string;
  sqlite?: string;
  git?: string;
  fromS3?: string;
  fromS3Endpoint?: string;
  fromS3Profile?: string;
  fromS3Versions?: boolean;
  stdinFromCommand?: string;
  stdinFilename?: string;
  sourcePasswordFile?: string;
  lineage: string[];
  lineageFile?: string;
  param: string[];
  metric: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function withSourceOptions(cmd: Command): Command {
  return cmd
    .option('--postgres <url>', 'back up a PostgreSQL database: pg_dump -Fc of postgres://USER@HOST:PORT/DB (password: --source-password-file, PGPASSWORD or ~/.pgpass)')
    .option('--mysql <url>', 'back up a MariaDB/MySQL database: mariadb-dump --single-transaction of mysql://USER@HOST:PORT/DB (password: --source-password-file or MYSQL_PWD)')
    .option('--sqlite <file>', 'back up an SQLite database with the online backup API (safe while its application writes)')
    .option('--git <path-or-url>', 'back up a git repository as a bundle of all refs (a URL is mirrored first)')
    .option('--from-s3 <url>', 'back up every object under s3://BUCKET/PREFIX with its metadata')
    .option('--from-s3-endpoint <url>', 'S3 endpoint of --from-s3 (default the AWS environment)')
    .option('--from-s3-profile <name>', 'AWS profile (credentials) for --from-s3')
    .option('--from-s3-versions', 'with --from-s3: every version and delete marker of a versioned bucket')
    .option('--stdin-from-command <cmd>', 'back up the stdout of a shell command as one file; a non-zero exit makes no snapshot')
    .option('--stdin-filename <name>', 'the file name of --stdin-from-command\'s output in the snapshot', 'stdin')
    .option('--source-password-file <file>', 'the database password, from a file (never on the command line)')
    .option('--lineage <role=ref>', 'what this version was made from: ROLE=ASSET@vN (a version here), ROLE=git:URL@COMMIT, ROLE=URI (repeatable)', collect, [])
    .option('--lineage-file <file>', 'lineage, params and metrics from a JSON file (lifeboat\'s form or an MLflow run export)')
    .option('--param <key=value>', 'a training parameter to record with the lineage (repeatable)', collect, [])
    .option('--metric <key=value>', 'a metric (a number) to record with the lineage (repeatable)', collect, []);
}

/** The source the flags name, if any; two sources, or a source and paths, are a usage error. */
export function sourceFromFlags(flags: SourceFlags, paths: string[]): SourceConfig | undefined {
  const given: SourceConfig[] = [];
  if (flags.postgres) given.push({ kind: 'postgres', url: flags.postgres, passwordFile: flags.sourcePasswordFile });
  if (flags.mysql) given.push({ kind: 'mysql', url: flags.mysql, passwordFile: flags.sourcePasswordFile });
  if (flags.sqlite) given.push({ kind: 'sqlite', path: flags.sqlite });
  if (flags.git) given.push(flags.git.includes('://') ? { kind: 'git', url: flags.git } : { kind: 'git', path: flags.git });
  if (flags.fromS3) given.push({ kind: 's3', url: flags.fromS3, endpoint: flags.fromS3Endpoint, profile: flags.fromS3Profile, versions: !!flags.fromS3Versions });
  if (flags.stdinFromCommand) given.push({ kind: 'command', run: flags.stdinFromCommand, filename: flags.stdinFilename ?? 'stdin' });
  if (given.length > 1) throw new UsageError(`give one source: ${given.map((g) => `--${g.kind}`).join(' and ')} were both given`);
  if (given.length === 1 && paths.length > 0) throw new UsageError(`--${given[0].kind} backs up a source, not paths: give no paths with it`);
  if (flags.fromS3Versions && !flags.fromS3) throw new UsageError('--from-s3-versions goes with --from-s3');
  return given[0];
}

export const hasLineage = (f: SourceFlags) => f.lineage.length > 0 || f.param.length > 0 || f.metric.length > 0 || f.lineageFile !== undefined;

/** The lineage the flags give (--lineage-file first, then --lineage, --param, --metric on top). */
export async function lineageRequestOf(flags: SourceFlags): Promise<LineageRequest> {
  return addFlags(flags.lineageFile ? parseLineageFile(await fs.readFile(flags.lineageFile, 'utf8'), flags.lineageFile) : emptyLineageRequest(), flags);
}

/**
 * `backup` with a source flag, or paths with lineage: backs up and prints the snapshot as `backup
 * --json` does. Returns false when neither is given (the paths and lifeboat.yaml forms of
 * backup.ts apply; lineage with no paths goes with the asset's source from lifeboat.yaml).
 */
export async function backupFromFlags(paths: string[], flags: SourceFlags): Promise<boolean> {
  const source = sourceFromFlags(flags, paths);
  if (!source && (!hasLineage(flags) || paths.length === 0)) return false;
  if (!flags.asset) throw new UsageError('a source backup needs --asset NAME (the asset the snapshot belongs to)');
  const meta = Object.fromEntries((flags.meta ?? []).map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--meta takes key=value, got "${kv}"`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }));
  const request = await lineageRequestOf(flags);
  const { allSources } = await import('../sources/all.js');
  const { systemRunner } = await import('../sources/process.js');
  await withRepo(flags, async ({ repo: opened, out }) => {
    const repo = flags.retainDays === undefined ? opened : withRetention(opened, { until: retentionUntil(flags.retainDays) });
    const lineage = await resolveLineage(repo, request);
    const bar = startProgress('backup', !flags.json && !flags.quiet);
    const options = { asset: flags.asset!, tier: flags.tier, tags: flags.tag, meta, host: flags.host, lineage };
    const ctx = { runner: systemRunner, splitters: defaultSplitters(), warn: (m: string) => out.warn(m), onProgress: (n: number) => bar.update(n, 0) };
    const { snapshotId, snapshot } = source
      ? await allSources().get(source.kind).backup(repo, source as never, options, ctx).finally(() => bar.stop())
      : await (await import('../engine/backup.js'))
          .backup(repo, { ...options, paths, parent: flags.force ? null : flags.parent, record: lineage ? { lineage } : undefined, splitters: ctx.splitters, onWarning: ctx.warn, onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal) })
          .finally(() => bar.stop());
    out.result({ id: snapshotId, ...snapshot }, () => describeBackup(snapshotId, snapshot));
    if (snapshot.incomplete.length) throw new OutcomeError('INCOMPLETE', `${snapshot.incomplete.length} file(s) could not be read completely; the snapshot is marked incomplete`);
  }, { prefetch: SNAPSHOTS_AND_INDEX });
  return true;
}

function describeBackup(id: string, s: Snapshot): string {
  const version = s.assetVersion === undefined ? '' : ` (${s.asset}@v${s.assetVersion})`;
  const lines = [
    `snapshot ${id.slice(0, 12)} of ${s.asset}${version} saved from ${s.source ? `${s.source.kind} ${s.source.location}` : s.paths.join(', ')}`,
    `  ${s.summary.files} file(s), ${formatBytes(s.summary.totalBytes)}; ${formatBytes(s.summary.newStoredBytes)} new stored, in ${(s.summary.durationMs / 1000).toFixed(1)} s (${formatRate(s.summary.readBytes, s.summary.durationMs)})`,
  ];
  for (const [k, v] of Object.entries(s.source?.details ?? {})) lines.push(`  ${k}: ${v}`);
  for (const i of s.lineage?.inputs ?? []) lines.push(`  lineage ${i.role}: ${i.kind === 'version' ? `${i.asset}@v${i.assetVersion}` : i.kind === 'git' ? `git ${i.url} @ ${i.commit}` : i.uri}`);
  return lines.join('\n');
}

export interface RestoreTargetFlags extends RepoFlags {
  target?: string;
  toPostgres?: string;
  toMysql?: string;
  toGit?: string;
  toS3?: string;
  toS3Endpoint?: string;
  toS3Profile?: string;
  clean?: boolean;
  targetPasswordFile?: string;
  withLineage?: boolean;
  skipDamaged?: boolean;
}

export function withRestoreTargets(cmd: Command): Command {
  return cmd
    .option('--to-postgres <url>', 'a PostgreSQL snapshot: pg_restore into this database (created when missing), then compare row counts')
    .option('--to-mysql <url>', 'a MariaDB/MySQL snapshot: load into this database (created when missing), then compare row counts')
    .option('--clean', 'with --to-postgres/--to-mysql: replace what the database holds')
    .option('--target-password-file <file>', 'the password of --to-postgres/--to-mysql, from a file')
    .option('--to-git <dir>', 'a git snapshot: a repository with exactly the backed-up refs, in a new or empty directory')
    .option('--to-s3 <url>', 'an S3 snapshot: put every object back under s3://BUCKET/PREFIX, checking ETag and size')
    .option('--to-s3-endpoint <url>', 'S3 endpoint of --to-s3 (default the AWS environment)')
    .option('--to-s3-profile <name>', 'AWS profile (credentials) for --to-s3')
    .option('--with-lineage', 'with --target: also restore the versions the snapshot\'s lineage names, into DIR/lineage/ROLE/ASSET@vN');
}

/** `restore` to a database, a git directory, a bucket, or with lineage. Returns false for a plain --target restore. */
export async function restoreFromFlags(spec: string, flags: RestoreTargetFlags): Promise<boolean> {
  const targets = [flags.toPostgres && 'postgres', flags.toMysql && 'mysql', flags.toGit && 'git', flags.toS3 && 's3'].filter((k): k is 'postgres' | 'mysql' | 'git' | 's3' => !!k);
  if (targets.length > 1) throw new UsageError(`give one target: --to-${targets.join(' and --to-')} were both given`);
  if (targets.length === 1 && flags.target) throw new UsageError(`--to-${targets[0]} and --target are two targets: give one`);
  if (flags.clean && !flags.toPostgres && !flags.toMysql) throw new UsageError('--clean goes with --to-postgres or --to-mysql');
  if (flags.withLineage) {
    if (!flags.target) throw new UsageError('--with-lineage restores into --target DIR');
    await restoreLineage(spec, flags, flags.target);
    return true;
  }
  if (targets.length === 0) return false;
  const kind = targets[0];
  const to = (flags.toPostgres ?? flags.toMysql ?? flags.toGit ?? flags.toS3)!;
  const request: RestoreRequest = { to, clean: flags.clean, passwordFile: flags.targetPasswordFile, s3: kind === 's3' ? { endpoint: flags.toS3Endpoint, profile: flags.toS3Profile } : undefined };
  const { allSources } = await import('../sources/all.js');
  const { systemRunner } = await import('../sources/process.js');
  await withRepo(flags, async ({ repo, out }) => {
    const { systemClock } = await import('../base/clock.js');
    const started = systemClock.now();
    // --skip-damaged: the newest readable snapshot is picked here, and the source restores it by id.
    const chosen = flags.skipDamaged ? await byIdSkippingDamaged(repo, spec, (m) => out.warn(m)) : spec;
    const outcome = await allSources().get(kind).restore(repo, chosen, request, { runner: systemRunner, warn: (m) => out.warn(m) });
    const durationMs = systemClock.now() - started;
    out.result({ ...outcome, durationMs }, () => describeRestore(outcome, durationMs));
    const failed = outcome.checks.filter((c) => !c.ok);
    if (failed.length) throw new OutcomeError('SOURCE_VERIFY', `restored, but ${failed.length} check(s) failed:\n${failed.map((c) => `  ${c.name}: ${c.detail}`).join('\n')}`);
  }, { prefetch: SNAPSHOTS_AND_INDEX });
  return true;
}

async function byIdSkippingDamaged(repo: Repository, spec: string, onWarning: (m: string) => void): Promise<string> {
  const { resolveSnapshot } = await import('../engine/snapshots.js');
  const { snapshot, subpath } = splitSpec(spec);
  const { id } = await resolveSnapshot(repo, snapshot, { skipDamaged: true, onWarning });
  return subpath ? `${id}:${subpath}` : id;
}

function describeRestore(o: RestoreOutcome, ms: number): string {
  return [`restored ${o.snapshotId.slice(0, 12)} (${o.kind}) to ${o.target}: ${o.entries} item(s), ${formatBytes(o.bytes)} in ${(ms / 1000).toFixed(1)} s`, ...o.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`)].join('\n');
}

async function restoreLineage(spec: string, flags: RestoreTargetFlags, target: string): Promise<void> {
  const { restoreWithLineage } = await import('../control/lineage-graph.js');
  await withRepo(flags, async ({ repo, out }) => {
    const result = await restoreWithLineage(repo, spec, target, { skipDamaged: flags.skipDamaged, onWarning: (m) => out.warn(m) });
    out.result(result, () =>
      result.restored.map((r) => `${r.role ? `${r.role}: ` : ''}${r.asset}${r.version === undefined ? '' : `@v${r.version}`} -> ${r.path} (${r.files} file(s), ${formatBytes(r.bytes)}, verified)`).join('\n') + `\nwrote ${target}/lineage.json`,
    );
    if (result.failed.length) throw new OutcomeError('DAMAGE_FOUND', `${result.failed.length} file(s) were NOT restored:\n${result.failed.map((f) => `  ${f.path}: ${f.error}`).join('\n')}`);
  }, { prefetch: SNAPSHOTS_AND_INDEX });
}
