/**
 * The flags of the sources and of lineage on `backup` and `restore`, and what they name: no more.
 * The commands load source-options.ts (the sources, lineage, the control plane) only when these
 * flags ask for it, so a plain backup or restore starts without that code.
 */
import type { Command } from 'commander';
import type { SourceConfig } from '../sources/config.js';
import { UsageError } from './errors.js';
import type { RepoFlags } from './repo-options.js';

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

/** True when `backup` is a source's (or paths with lineage): source-options.ts backupFromFlags does it. */
export function isSourceBackup(flags: SourceFlags, paths: string[]): boolean {
  return sourceFromFlags(flags, paths) !== undefined || (hasLineage(flags) && paths.length > 0);
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

/** True when `restore` goes to a database, a git directory, a bucket, or with lineage: source-options.ts restoreFromFlags does it. */
export function isSourceRestore(flags: RestoreTargetFlags): boolean {
  return !!(flags.toPostgres || flags.toMysql || flags.toGit || flags.toS3 || flags.withLineage || flags.clean);
}
