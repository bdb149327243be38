/**
 * The DR plan: lifeboat.yaml's `tiers:` and `assets:` read together with its `repositories:`, every
 * default filled in and every cross-reference checked. What the file says (the on-disk shape, zod
 * schemas below) and what the control plane runs on (`DrPlan`) are separate types.
 *
 *   tiers:
 *     1: { rpo: 24h, rto: 4h, replicate_to: [dr-site], keep: { last: 7, daily: 14 }, expired: archive }
 *   assets:
 *     llama-ft:  { kind: model, tier: 1, source: { path: /srv/models/llama-ft, exclude: ["*.tmp"] } }
 *     manifests: { kind: code, tier: 3, git_remote: https://git.internal/ml/deploy.git }
 *
 * Problems are errors (the plan cannot be used: ConfigError with every issue and its line) or
 * warnings (it can, but something looks wrong: a Tier 1 asset with no replica, nested sources).
 */
import path from 'node:path';
import { z } from 'zod';
import { describeSource, sourcePaths, sourceSchema, type SourceConfig } from '../sources/config.js';
import { CONFIG_NAME, ConfigError, formatIssues, locate, parseValueAt, readConfigFile, type ConfigFile, type ConfigIssue } from './config-file.js';
import {
  ASSET_KINDS,
  effectivePolicy,
  overridesOf,
  policyFields,
  REPLICAS,
  TIERS,
  type AssetKind,
  type Origin,
  type Policy,
  type PolicyKey,
  type PolicyOverrides,
  type Tier,
} from './policy.js';
import { repositoriesOf, type NamedRepository } from './repositories.js';

export interface Asset {
  name: string;
  kind: AssetKind;
  tier: Tier;
  /** Where it is backed up from; absent for Tier 3 (rebuilt from git). */
  source?: SourceConfig;
  /** Tier 3: the repository it is rebuilt from. */
  gitRemote?: string;
  owner?: string;
  description?: string;
  /** The host that backs it up (`lifeboat serve --host`); absent: any host whose filesystem has its source. */
  host?: string;
  /** The runbook that recovers it (runbooks: section). */
  runbook?: string;
  /** A dead-man URL in healthchecks.io style, pinged around every backup (`/start`, success, `/fail`). */
  ping?: string;
  policy: Policy;
  origin: Record<PolicyKey, Origin>;
}

export interface DrPlan {
  file: string;
  repositories: NamedRepository[];
  /** The repository backups go to: role primary, else the only one; undefined when none is named. */
  primary?: NamedRepository;
  /** Where `expired: archive` sends snapshots past the hot retention; undefined when no repository has role archive. */
  archive?: NamedRepository;
  tiers: Record<Tier, PolicyOverrides>;
  assets: Asset[];
  /** What looks wrong but does not stop the plan. */
  warnings: ConfigIssue[];
}

const tierSchema = z.strictObject(policyFields);

const tierKeySchema = z.enum(['1', '2', '3'], 'tiers are 1, 2 and 3');

function assetSchema(baseDir: string) {
  return z.strictObject({
    kind: z.enum(ASSET_KINDS as [AssetKind, ...AssetKind[]]),
    tier: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    source: sourceSchema(baseDir).optional(),
    git_remote: z.string().min(1).optional(),
    owner: z.string().min(1).optional(),
    description: z.string().optional(),
    host: z.string().min(1).optional(),
    runbook: z.string().regex(CONFIG_NAME, 'a runbook name from the runbooks: section').optional(),
    ping: z.string().refine((s) => /^https?:\/\/[^/]+/.test(s) && URL.canParse(s), 'must be an http:// or https:// URL such as https://hc-ping.com/<uuid>').optional(),
    ...policyFields,
  });
}

const assetNameSchema = z.string().regex(CONFIG_NAME, 'an asset name uses letters, digits, ".", "_" or "-" and starts with a letter or digit');

/**
 * The entries of a mapping section (tiers:, assets:), each key and value validated on its own;
 * entries with mistakes are reported through `section` and left out.
 */
function entries<T>(config: ConfigFile, name: string, keySchema: z.ZodType, valueSchema: (key: string) => z.ZodType<T>, section: <R>(read: () => R, fallback: R) => R): Record<string, T> {
  const raw = config.root[name];
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return section(() => parseValueAt(config, [name], raw, z.record(z.string(), z.unknown()), `${config.file}: the ${name} section is invalid`) as Record<string, T>, {});
  }
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const ok = section(() => (parseValueAt(config, [name, key], key, keySchema, `${config.file}: ${name}.${key}`), true), false);
    if (!ok) continue;
    const parsed = section(() => ({ value: parseValueAt(config, [name, key], value ?? {}, valueSchema(key), `${config.file}: ${name}.${key} is invalid`) }), undefined);
    if (parsed) out[key] = parsed.value;
  }
  return out;
}

/** Reads `file` as a DR plan; throws ConfigError listing every error with its line. */
export async function loadPlan(file: string): Promise<DrPlan> {
  return planOf(await readConfigFile(file, 'pass the right path with --config or LIFEBOAT_CONFIG'));
}

export function planOf(config: ConfigFile): DrPlan {
  const baseDir = path.dirname(path.resolve(config.file));
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  // Each section is parsed on its own, so one file reports the mistakes of all of them at once.
  const section = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(...(err.issues.length ? err.issues : [{ file: config.file, line: undefined, key: '', message: err.message }]));
      return fallback;
    }
  };
  const { repositories } = section(() => repositoriesOf(config), { file: config.file, repositories: [] as NamedRepository[] });
  // Each tier and each asset on its own: one mistake must not hide the checks of the others.
  const tierSection = entries(config, 'tiers', tierKeySchema, () => tierSchema, section);
  const assetSchemaHere = assetSchema(baseDir);
  const assetSection = entries(config, 'assets', assetNameSchema, () => assetSchemaHere, section);

  if (tierSection['3'] && Object.keys(tierSection['3']).length > 0) {
    errors.push(locate(config, ['tiers', '3'], 'Tier 3 is rebuilt from git and never backed up: it takes no policy (write 3: {})'));
  }
  const tiers = { 1: {}, 2: {}, 3: {} } as Record<Tier, PolicyOverrides>;
  for (const t of TIERS) if (tierSection[String(t)]) tiers[t] = overridesOf(tierSection[String(t)]);

  const primary = repositories.find((r) => r.role === 'primary') ?? (repositories.length === 1 ? repositories[0] : undefined);
  const archives = repositories.filter((r) => r.role === 'archive');
  if (archives.length > 1) errors.push(locate(config, ['repositories', archives[1].name, 'role'], `only one repository can have role: archive (${archives.map((a) => a.name).join(', ')} do)`));
  const replicas = repositories.filter((r) => r.role === 'replica').map((r) => r.name);
  const names = new Set(repositories.map((r) => r.name));

  const assets: Asset[] = Object.entries(assetSection).map(([name, a]) => {
    const { policy, origin } = effectivePolicy(a.tier, a.kind, tiers[a.tier], overridesOf(a));
    policy.replicateTo = [...new Set(policy.replicateTo.flatMap((r) => (r === REPLICAS ? replicas : [r])))];
    return {
      name,
      kind: a.kind,
      tier: a.tier,
      source: a.tier === 3 ? undefined : a.source,
      gitRemote: a.git_remote,
      owner: a.owner,
      description: a.description,
      host: a.host,
      runbook: a.runbook,
      ping: a.ping,
      policy,
      origin,
    };
  });

  const at = (keyPath: Array<string | number>, message: string) => locate(config, keyPath, message);
  for (const t of TIERS) {
    for (const r of tiers[t].replicateTo ?? []) {
      if (!names.has(r)) errors.push(at(['tiers', String(t), 'replicate_to'], `"${r}" is not a repository of the repositories: section (${[...names].join(', ') || 'it names none'})`));
    }
  }
  for (const asset of assets) checkAsset(asset, assetSection[asset.name], { at, errors, warnings, names, primary, archive: archives[0] });
  checkOverlaps(assets, at, errors, warnings);

  if (errors.length > 0) throw new ConfigError(formatIssues(`${config.file} has ${errors.length} error(s)`, errors), errors);
  return { file: config.file, repositories, primary, archive: archives[0], tiers, assets, warnings };
}

interface CheckContext {
  at(keyPath: Array<string | number>, message: string): ConfigIssue;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  names: Set<string>;
  primary?: NamedRepository;
  archive?: NamedRepository;
}

function checkAsset(asset: Asset, written: Record<string, unknown>, c: CheckContext): void {
  const key = (k: string) => ['assets', asset.name, k];
  if (asset.tier === 3) {
    if (written.source !== undefined) c.warnings.push(c.at(key('source'), 'Tier 3 is rebuilt from git and never backed up: this source is ignored (move the asset to Tier 2 to back it up)'));
    if (!asset.gitRemote) c.warnings.push(c.at(key('tier'), 'a Tier 3 asset is rebuilt from git: name its git_remote so a recovery knows where from'));
    if (asset.kind === 'model' || asset.kind === 'adapter' || asset.kind === 'dataset' || asset.kind === 'annotations' || asset.kind === 'registry') {
      c.warnings.push(c.at(key('tier'), `a ${asset.kind} in Tier 3 is never backed up: weights, data and annotations are rarely reproducible from code (Tier 1 or 2?)`));
    }
    return;
  }
  if (!asset.source) c.errors.push(c.at(key('tier'), `a Tier ${asset.tier} asset needs a source: (e.g. source: { path: /srv/models/${asset.name} }), or tier: 3 with a git_remote`));
  if (!c.primary) c.errors.push(c.at(['assets', asset.name], 'assets are backed up to the primary repository: add a repositories: section with one role: primary'));
  for (const r of asset.policy.replicateTo) {
    if (!c.names.has(r)) c.errors.push(c.at(key('replicate_to'), `"${r}" is not a repository of the repositories: section (${[...c.names].join(', ') || 'it names none'})`));
    else if (r === c.primary?.name) c.errors.push(c.at(key('replicate_to'), `"${r}" is the primary itself: replicate to another site`));
  }
  if (asset.tier === 1 && asset.policy.replicateTo.length === 0) {
    c.warnings.push(c.at(key('tier'), 'a Tier 1 asset with no replica: one site is one disaster away from losing it (add a repository with role: replica, or replicate_to)'));
  }
  if (asset.policy.expired === 'archive' && !c.archive) {
    const message = 'expired: archive needs a repository with role: archive';
    if (asset.origin.expired === 'default') c.warnings.push(c.at(key('tier'), `${message}; until there is one, snapshots past the keep policy are kept, never deleted`));
    else c.errors.push(c.at(asset.origin.expired === 'asset' ? key('expired') : ['tiers', String(asset.tier), 'expired'], message));
  }
}

/** Two assets backing up the same path store it twice and race for it: an error. One inside another: a warning. */
function checkOverlaps(assets: Asset[], at: CheckContext['at'], errors: ConfigIssue[], warnings: ConfigIssue[]): void {
  const claimed: Array<{ asset: string; path: string }> = [];
  for (const asset of assets) {
    for (const p of asset.source ? sourcePaths(asset.source) : []) {
      for (const other of claimed) {
        if (other.asset === asset.name) continue;
        if (other.path === p) errors.push(at(['assets', asset.name, 'source'], `${p} is also the source of asset "${other.asset}": two assets must not back up the same path`));
        else if (inside(p, other.path) || inside(other.path, p)) {
          warnings.push(at(['assets', asset.name, 'source'], `${p} and the source of asset "${other.asset}" (${other.path}) overlap: their common files are backed up twice (use exclude:)`));
        }
      }
      claimed.push({ asset: asset.name, path: p });
    }
  }
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export function assetByName(plan: DrPlan, name: string): Asset | undefined {
  return plan.assets.find((a) => a.name === name);
}

export { describeSource };

/** The top-level sections lifeboat.yaml may have; anything else is most likely a typo. */
export const KNOWN_SECTIONS = ['repositories', 'tiers', 'assets', 'runbooks', 'gateway', 'serve'];

export interface Validation {
  file: string;
  plan?: DrPlan;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/**
 * Everything `lifeboat validate` reports about the plan sections of a parsed file, as values;
 * `more` are the checks of other sections that need the plan (the runbooks').
 */
export function validatePlan(config: ConfigFile, more: Array<(config: ConfigFile, plan: DrPlan) => ConfigIssue[]> = []): Validation {
  const warnings: ConfigIssue[] = Object.keys(config.root)
    .filter((s) => !KNOWN_SECTIONS.includes(s))
    .map((s) => locate(config, [s], `unknown section (lifeboat.yaml has ${KNOWN_SECTIONS.join(', ')})`));
  try {
    const plan = planOf(config);
    return { file: config.file, plan, errors: more.flatMap((check) => check(config, plan)), warnings: [...warnings, ...plan.warnings] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { file: config.file, errors: err.issues.length ? [...err.issues] : [{ file: config.file, line: undefined, key: '', message: err.message }], warnings };
  }
}
