/**
 * The `repositories:` section of lifeboat.yaml: the repositories of the DR plan by name (the
 * primary, its replicas at other sites, an archive), each with the S3 settings and the password
 * file it needs. Commands then take `-r primary` or `--to dr-site` instead of a URL and its flags,
 * and a command given no repository works on the primary.
 *
 *   repositories:
 *     primary:
 *       url: s3://models-backup/lifeboat
 *       role: primary
 *       password_file: /etc/lifeboat/primary.password
 *       s3: { endpoint: http://rgw-a.internal:7480, profile: site-a }
 *     dr-site:
 *       url: s3://models-dr/lifeboat
 *       role: replica
 *       s3: { endpoint: https://rgw-b.internal, ca_bundle: site-ca.pem, profile: site-b, lock_mode: COMPLIANCE }
 *
 * Relative directories, password files and CA bundles are taken from the file's folder. Credentials are not
 * written here: they come from the profile (~/.aws/credentials) or the AWS environment.
 */
import path from 'node:path';
import { z } from 'zod';
import type { S3Options } from '../storage/s3-options.js';
import { CONFIG_NAME, ConfigError, httpUrlSchema, parseSection, readConfigFile, type ConfigFile } from './config-file.js';

export type RepositoryRole = 'primary' | 'replica' | 'archive';

export interface NamedRepository {
  name: string;
  /** s3://BUCKET/PREFIX or an absolute directory. */
  url: string;
  role?: RepositoryRole;
  /** Absolute path of the file holding the password. */
  passwordFile?: string;
  s3: S3Options;
}

export interface RepositoryCatalog {
  /** The lifeboat.yaml the repositories were read from. */
  file: string;
  repositories: NamedRepository[];
}

const s3Schema = z.strictObject({
  endpoint: httpUrlSchema('http://rgw.internal:7480').optional(),
  region: z.string().min(1).optional(),
  path_style: z.boolean().optional(),
  profile: z.string().min(1).optional(),
  max_in_flight: z.number().int().min(1).max(256).optional(),
  lock_mode: z.enum(['GOVERNANCE', 'COMPLIANCE']).optional(),
  ca_bundle: z.string().min(1).optional(),
});

const repositorySchema = z.strictObject({
  url: z
    .string()
    .min(1)
    .refine((s) => s.startsWith('s3://') || !s.includes('://'), 'must be s3://BUCKET/PREFIX or a directory'),
  role: z.enum(['primary', 'replica', 'archive']).optional(),
  password_file: z.string().min(1).optional(),
  s3: s3Schema.optional(),
});

const sectionSchema = z
  .record(z.string().regex(CONFIG_NAME, 'a repository name uses letters, digits, ".", "_" or "-" and starts with a letter or digit'), repositorySchema)
  .superRefine((repos, ctx) => {
    const primaries = Object.keys(repos).filter((name) => repos[name].role === 'primary');
    if (primaries.length > 1) ctx.addIssue({ code: 'custom', message: `only one repository can have role: primary (${primaries.join(', ')} do)` });
  });

/** Reads the repositories of `file` (an empty list when it has no repositories: section). */
export async function loadRepositories(file: string): Promise<RepositoryCatalog> {
  return repositoriesOf(await readConfigFile(file, 'pass the right path with --config or LIFEBOAT_CONFIG'));
}

export function repositoriesOf(config: ConfigFile): RepositoryCatalog {
  const section = parseSection(config, 'repositories', sectionSchema) ?? {};
  const dir = path.dirname(path.resolve(config.file));
  const fromDir = (file: string | undefined) => (file === undefined ? undefined : path.resolve(dir, file));
  const repositories = Object.entries(section).map(([name, r]): NamedRepository => ({
    name,
    url: r.url.startsWith('s3://') ? r.url : path.resolve(dir, r.url),
    role: r.role,
    passwordFile: fromDir(r.password_file),
    s3: {
      endpoint: r.s3?.endpoint,
      region: r.s3?.region,
      forcePathStyle: r.s3?.path_style,
      profile: r.s3?.profile,
      maxInFlight: r.s3?.max_in_flight,
      lockMode: r.s3?.lock_mode,
      caBundle: fromDir(r.s3?.ca_bundle),
    },
  }));
  return { file: config.file, repositories };
}

/** The repository a command given none works on: the one with role: primary, else the only one. */
export function defaultRepository(catalog: RepositoryCatalog): NamedRepository {
  const { repositories, file } = catalog;
  const primary = repositories.find((r) => r.role === 'primary') ?? (repositories.length === 1 ? repositories[0] : undefined);
  if (primary) return primary;
  if (repositories.length === 0) throw new ConfigError(`no repository given, and ${file} names none: use -r/--repo, set LIFEBOAT_REPOSITORY, or add a repositories: section`);
  throw new ConfigError(`no repository given, and ${file} names ${repositories.length} without a primary: use -r with one of ${names(catalog)}, or give one role: primary`);
}

/**
 * The repository of the catalog that `value` names, or undefined when `value` is a URL or a path.
 * A bare word that the catalog does not name is a directory only if one exists there: a typo of a
 * name must not become a new repository in the working directory (write ./NAME for that).
 */
export function namedRepository(catalog: RepositoryCatalog, value: string, isDirectory: (p: string) => boolean): NamedRepository | undefined {
  if (!CONFIG_NAME.test(value)) return undefined;
  const found = catalog.repositories.find((r) => r.name === value);
  if (found || isDirectory(value)) return found;
  throw new ConfigError(`"${value}" is neither a repository of ${catalog.file} (${names(catalog) || 'it names none'}) nor a directory here; for a new repository in a directory, write ./${value}`);
}

function names(catalog: RepositoryCatalog): string {
  return catalog.repositories.map((r) => r.name).join(', ');
}
