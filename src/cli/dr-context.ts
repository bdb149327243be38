/**
 * What `recover`, `drill` and `doctor` share: lifeboat.yaml read as a DR plan with its runbooks,
 * the repository to restore from (-r, else the primary), an opener that opens each repository
 * once with its own settings and password (the same precedence as every command), and where
 * reports and resume state go.
 */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../base/clock.js';
import { readConfigFile } from '../control/config-file.js';
import { planOf } from '../control/plan.js';
import type { NamedRepository } from '../control/repositories.js';
import type { DrContext } from '../control/runbook-run.js';
import { runbooksOf } from '../control/runbooks.js';
import type { RunEvent } from '../control/runbook-exec.js';
import { openRepository, type Repository } from '../repo/repository.js';
import type { Storage } from '../storage/storage.js';
import { UsageError } from './errors.js';
import { defaultConfigFile, openTargetStorage, readPassword, resolveRepo, type RepoFlags } from './repo-options.js';

export interface DrFlags extends RepoFlags {
  reportDir?: string;
}

export function withReportDir(cmd: Command): Command {
  return cmd.option('--report-dir <dir>', 'also write each report here as JSON, Markdown and HTML (env LIFEBOAT_REPORT_DIR; default: LIFEBOAT_STATE_DIR/reports)');
}

/** LIFEBOAT_STATE_DIR, else $XDG_STATE_HOME/lifeboat, else ~/.local/state/lifeboat: resume state and local report copies. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LIFEBOAT_STATE_DIR) return path.resolve(env.LIFEBOAT_STATE_DIR);
  return path.join(env.XDG_STATE_HOME ? path.resolve(env.XDG_STATE_HOME) : path.join(os.homedir(), '.local', 'state'), 'lifeboat');
}

export interface LoadedDr {
  ctx: DrContext;
  close(): Promise<void>;
}

export async function loadDrContext(flags: DrFlags, onEvent?: (e: RunEvent) => void): Promise<LoadedDr> {
  const file = flags.config ?? process.env.LIFEBOAT_CONFIG ?? defaultConfigFile();
  if (!file) throw new UsageError('no lifeboat.yaml: pass --config FILE (or set LIFEBOAT_CONFIG); runbooks, assets and their repositories are read from it');
  const config = await readConfigFile(file, 'pass the right path with --config or LIFEBOAT_CONFIG');
  const plan = planOf(config);
  const runbooks = runbooksOf(config);
  const storages: Storage[] = [];
  const opened = new Map<string, Promise<Repository>>();
  const openNamed = (named: NamedRepository): Promise<Repository> => {
    const key = `${named.name} ${named.url}`;
    let p = opened.get(key);
    if (!p) {
      p = (async () => {
        const password = await readPassword({ file: flags.passwordFile, configured: named.passwordFile, purpose: `password of ${named.name}` });
        const storage = await openTargetStorage({ url: named.url, s3: named.s3, passwordFile: named.passwordFile }, flags.cache !== false);
        storages.push(storage);
        return openRepository(storage, password);
      })();
      p.catch(() => opened.delete(key));
      opened.set(key, p);
    }
    return p;
  };
  const state = stateRoot();
  const ctx: DrContext = {
    plan,
    runbooks,
    repository: await chosenRepository(flags, plan.repositories),
    openRepository: openNamed,
    clock: systemClock,
    env: process.env,
    reportDir: flags.reportDir ?? process.env.LIFEBOAT_REPORT_DIR ?? path.join(state, 'reports'),
    stateDir: path.join(state, 'runs'),
    onEvent,
  };
  return { ctx, close: async () => void (await Promise.all(storages.map((s) => s.close()))) };
}

/** -r/--repo or LIFEBOAT_REPOSITORY (a name of lifeboat.yaml or a URL); undefined: the plan's primary. */
async function chosenRepository(flags: DrFlags, repositories: NamedRepository[]): Promise<NamedRepository | undefined> {
  const value = flags.repo ?? process.env.LIFEBOAT_REPOSITORY;
  if (value === undefined) return undefined;
  const named = repositories.find((r) => r.name === value);
  const target = await resolveRepo(flags);
  return { name: named?.name ?? value, url: target.url, role: named?.role, passwordFile: target.passwordFile, s3: target.s3 };
}
