/**
 * Commands that work from the DR plan (validate, assets, status, backup --asset, serve): finding
 * lifeboat.yaml, loading it, and opening the repositories it names by name — the primary with
 * the command's own flags (-r, --password-file, the environment), replicas and the archive with
 * their password_file, else the primary's password.
 */
import type { Command } from 'commander';
import { loadPlan, type DrPlan } from '../control/plan.js';
import type { RepositoryAccess } from '../control/status.js';
import { openRepository, type Repository } from '../repo/repository.js';
import type { Storage } from '../storage/storage.js';
import { UsageError } from './errors.js';
import { defaultConfigFile, openRepo, openTargetStorage, readPassword, type RepoFlags } from './repo-options.js';

export interface PlanFlags {
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

/** -c/--config and --json, for commands that read lifeboat.yaml but open no repository. */
export function withPlanOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'lifeboat.yaml (env LIFEBOAT_CONFIG; default ./lifeboat.yaml, else ~/.config/lifeboat/lifeboat.yaml)')
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('-q, --quiet', 'no notes on stderr');
}

/** The lifeboat.yaml a command reads: --config, LIFEBOAT_CONFIG, ./lifeboat.yaml, ~/.config/lifeboat/lifeboat.yaml. */
export function planFile(flags: PlanFlags): string {
  const file = flags.config ?? process.env.LIFEBOAT_CONFIG ?? defaultConfigFile();
  if (!file) {
    throw new UsageError('no lifeboat.yaml here or in ~/.config/lifeboat/: pass --config FILE or set LIFEBOAT_CONFIG (docs/config.md shows one; "lifeboat quickstart" writes an example)');
  }
  return file;
}

export function readPlan(flags: PlanFlags): Promise<DrPlan> {
  return loadPlan(planFile(flags));
}

/** The repositories of `plan`, opened on first use and closed together. */
export function planAccess(flags: RepoFlags, plan: DrPlan): RepositoryAccess {
  const opened = new Map<string, Promise<{ repo: Repository; storage?: Storage; close(): Promise<void> }>>();
  let primaryPassword: string | undefined;
  const primary = () => {
    if (!opened.has('')) {
      opened.set(
        '',
        openRepo({ ...flags, config: flags.config ?? planFileOrUndefined(flags) }).then((ctx) => ({ repo: ctx.repo, close: ctx.close })),
      );
    }
    return opened.get('')!.then((o) => o.repo);
  };
  async function openNamed(name: string) {
    const named = plan.repositories.find((r) => r.name === name);
    if (!named) throw new UsageError(`"${name}" is not a repository of ${plan.file}`);
    primaryPassword ??= await readPassword({ file: flags.passwordFile, configured: plan.primary?.passwordFile });
    const password = await readPassword({ envPrefix: `LIFEBOAT_${envName(name)}`, configured: named.passwordFile, fallback: primaryPassword, purpose: `password of ${name}` });
    const storage = await openTargetStorage({ url: named.url, s3: named.s3, passwordFile: named.passwordFile }, flags.cache !== false);
    try {
      return { repo: await openRepository(storage, password), close: () => storage.close() };
    } catch (err) {
      await storage.close();
      throw err;
    }
  }
  return {
    primaryName: flags.repo ?? process.env.LIFEBOAT_REPOSITORY ?? plan.primary?.name ?? '(none)',
    primary,
    open(name) {
      if (!opened.has(name)) {
        const p = openNamed(name);
        p.catch(() => opened.delete(name)); // a failed open is tried again next time
        opened.set(name, p);
      }
      return opened.get(name)!.then((o) => o.repo);
    },
    async close() {
      const all = [...opened.values()];
      opened.clear();
      await Promise.allSettled(all.map(async (p) => (await p).close()));
    },
  };
}

function planFileOrUndefined(flags: PlanFlags): string | undefined {
  try {
    return planFile(flags);
  } catch {
    return undefined;
  }
}

/** A repository name as an environment variable part: dr-site → DR_SITE (LIFEBOAT_DR_SITE_PASSWORD). */
function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}
