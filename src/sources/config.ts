/**
 * The `source:` of an asset in lifeboat.yaml: where its bytes come from and go back to. Each form
 * is a mapping with exactly one key naming the source kind, parsed here into a normalised shape
 * (`kind` plus its settings). The control plane reads only `sourcePaths` and `describeSource`; the
 * adapters that back up and restore each kind live beside this file (registry.ts).
 *
 *   source: { path: /srv/models/llama-ft, exclude: ["*.tmp"] }     # files and directories
 *   source: { path: [/srv/a, /srv/b] }
 *   source: { postgres: { url: postgres://ls@db.internal/labelstudio, password_file: secrets/ls.pgpass } }
 *   source: { mysql: { url: mysql://mlflow@db.internal/mlflow, password_file: secrets/mlflow.password } }
 *   source: { sqlite: { path: /srv/label-studio/label_studio.sqlite3 } }
 *   source: { git: { path: /srv/git/train.git } }                    # or { url: https://git.internal/ml/train.git }
 *   source: { s3: { url: s3://mlflow-artifacts/, endpoint: http://rgw:7480, profile: mlflow, versions: true } }
 *   source: { command: { run: "etcdctl snapshot save /dev/stdout", filename: etcd.db } }
 */
import path from 'node:path';
import { z } from 'zod';

/** Files and directories on this machine. */
export interface PathSourceConfig {
  kind: 'path';
  /** Absolute paths (relative ones are taken from lifeboat.yaml's folder). */
  paths: string[];
  /** Glob patterns (minimatch, matched against the path relative to the source root and against the base name). */
  exclude: string[];
}

/** A PostgreSQL database (pg_dump -Fc) or a MariaDB/MySQL one (mariadb-dump / mysqldump). */
export interface DatabaseSourceConfig<K extends 'postgres' | 'mysql'> {
  kind: K;
  /** postgres://USER@HOST:PORT/DB or mysql://USER@HOST:PORT/DB; a password in it works but belongs in password_file. */
  url: string;
  /** A file holding only the password (one trailing newline ignored). */
  passwordFile?: string;
}

export type PostgresSourceConfig = DatabaseSourceConfig<'postgres'>;
export type MysqlSourceConfig = DatabaseSourceConfig<'mysql'>;

/** An SQLite database file, copied with the online backup API while its application writes. */
export interface SqliteSourceConfig {
  kind: 'sqlite';
  path: string;
}

/** A git repository, as a bundle of all refs: a local repository (`path`) or a remote one (`url`, mirrored first). */
export interface GitSourceConfig {
  kind: 'git';
  path?: string;
  url?: string;
}

/** Every object under an S3 prefix with its metadata; with `versions`, every version on a versioned bucket. */
export interface S3SourceConfig {
  kind: 's3';
  url: string;
  endpoint?: string;
  profile?: string;
  region?: string;
  versions: boolean;
}

/** A command's stdout as one file; a non-zero exit means no snapshot. `run`: a shell line or an argv. */
export interface CommandSourceConfig {
  kind: 'command';
  run: string | string[];
  filename: string;
}

export type SourceConfig = PathSourceConfig | PostgresSourceConfig | MysqlSourceConfig | SqliteSourceConfig | GitSourceConfig | S3SourceConfig | CommandSourceConfig;
export type SourceKind = SourceConfig['kind'];

const text = z.string().min(1);

function databaseForm(scheme: 'postgres' | 'mysql') {
  const schemes = scheme === 'postgres' ? ['postgres:', 'postgresql:'] : ['mysql:', 'mariadb:'];
  return z.strictObject({
    url: text.refine((u) => URL.canParse(u) && schemes.includes(new URL(u).protocol), `must be a ${schemes[0]}//USER@HOST:PORT/DATABASE URL`),
    password_file: text.optional(),
  });
}

/** The on-disk forms, each parsed into its SourceConfig (relative paths from `baseDir`). */
const FORMS: Record<SourceKind, (baseDir: string) => z.ZodType<SourceConfig>> = {
  path: (baseDir) =>
    z
      .strictObject({ path: z.union([text, z.array(text).min(1)]), exclude: z.array(text).default([]) })
      .transform((v): SourceConfig => ({ kind: 'path', paths: (Array.isArray(v.path) ? v.path : [v.path]).map((p) => path.resolve(baseDir, p)), exclude: v.exclude })),
  postgres: (baseDir) => z.strictObject({ postgres: databaseForm('postgres') }).transform(({ postgres: v }): SourceConfig => ({ kind: 'postgres', url: v.url, passwordFile: v.password_file && path.resolve(baseDir, v.password_file) })),
  mysql: (baseDir) => z.strictObject({ mysql: databaseForm('mysql') }).transform(({ mysql: v }): SourceConfig => ({ kind: 'mysql', url: v.url, passwordFile: v.password_file && path.resolve(baseDir, v.password_file) })),
  sqlite: (baseDir) => z.strictObject({ sqlite: z.strictObject({ path: text }) }).transform(({ sqlite: v }): SourceConfig => ({ kind: 'sqlite', path: path.resolve(baseDir, v.path) })),
  git: (baseDir) =>
    z
      .strictObject({ git: z.strictObject({ path: text.optional(), url: text.optional() }).refine((v) => (v.path === undefined) !== (v.url === undefined), 'give exactly one of path (a local repository) or url (a remote one)') })
      .transform(({ git: v }): SourceConfig => ({ kind: 'git', path: v.path && path.resolve(baseDir, v.path), url: v.url })),
  s3: () =>
    z
      .strictObject({
        s3: z.strictObject({
          url: text.regex(/^s3:\/\/[^/]+/, 'must be s3://BUCKET/PREFIX'),
          endpoint: text.regex(/^https?:\/\/[^/]+/, 'must be an http:// or https:// URL').optional(),
          profile: text.optional(),
          region: text.optional(),
          versions: z.boolean().default(false),
        }),
      })
      .transform(({ s3: v }): SourceConfig => ({ kind: 's3', url: v.url, endpoint: v.endpoint, profile: v.profile, region: v.region, versions: v.versions })),
  command: () =>
    z
      .strictObject({ command: z.strictObject({ run: z.union([text, z.array(text).min(1)]), filename: text.refine((f) => !f.includes('/') && f !== '.' && f !== '..', 'a file name, without "/"') }) })
      .transform(({ command: v }): SourceConfig => ({ kind: 'command', run: v.run, filename: v.filename })),
};

const KINDS = Object.keys(FORMS) as SourceKind[];

/** Every form a `source:` may take; `baseDir` resolves relative paths. */
export function sourceSchema(baseDir: string): z.ZodType<SourceConfig> {
  return z
    .record(z.string(), z.unknown())
    .superRefine((value, ctx) => {
      const kinds = Object.keys(value).filter((k) => (KINDS as string[]).includes(k));
      if (kinds.length === 0) ctx.addIssue({ code: 'custom', message: `a source needs one of ${KINDS.join(', ')} (e.g. source: { path: /srv/models/llama-ft })` });
      if (kinds.length > 1) ctx.addIssue({ code: 'custom', message: `a source has exactly one kind, not ${kinds.join(' and ')}` });
    })
    .transform((value, ctx): SourceConfig => {
      const kind = KINDS.find((k) => k in value)!;
      const parsed = FORMS[kind](baseDir).safeParse(value);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) {
        const keys = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
        ctx.addIssue({ code: 'custom', message: issue.message, path: [...issue.path, ...keys] });
      }
      return z.NEVER;
    });
}

/** The local filesystem paths a source reads (to find which host has it, and overlaps between assets). */
export function sourcePaths(source: SourceConfig): string[] {
  switch (source.kind) {
    case 'path':
      return source.paths;
    case 'sqlite':
      return [source.path];
    case 'git':
      return source.path ? [source.path] : [];
    default:
      return [];
  }
}

/** One line for people, never with a password: "/srv/models/llama-ft (excluding *.tmp)", "postgres://ls@db/labelstudio". */
export function describeSource(source: SourceConfig): string {
  switch (source.kind) {
    case 'path':
      return source.paths.join(', ') + (source.exclude.length ? ` (excluding ${source.exclude.join(', ')})` : '');
    case 'postgres':
    case 'mysql':
      return withoutPassword(source.url);
    case 'sqlite':
      return `sqlite ${source.path}`;
    case 'git':
      return `git ${source.path ?? withoutPassword(source.url!)}`;
    case 's3':
      return `${source.url}${source.versions ? ' (every version)' : ''}${source.endpoint ? ` at ${source.endpoint}` : ''}`;
    case 'command':
      return `${typeof source.run === 'string' ? source.run : source.run.join(' ')} > ${source.filename}`;
  }
}

/** A URL with its password (if any) removed. */
export function withoutPassword(url: string): string {
  if (!URL.canParse(url)) return url.replace(/(:\/\/[^/:@]*):[^@/]*@/, '$1@');
  const u = new URL(url);
  u.password = '';
  return u.toString();
}

/** Everything a source reads from — its paths and its database or bucket URL: what a drill must never restore over. */
export function sourceLocations(source: SourceConfig): string[] {
  const url = 'url' in source && typeof source.url === 'string' ? [source.url] : [];
  return [...sourcePaths(source), ...url];
}
