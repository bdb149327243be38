/**
 * Planning a run of a runbook: pure. The steps of the mode (a drill's with its overrides and
 * skips), every variable filled in, and the restore directory decided, so that `--dry-run`,
 * preflight and the executor all see exactly what will run. A drill that would restore anywhere
 * but under the scratch root is refused here, whatever the runbook says.
 */
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { SCRATCH, type RunMode, type Runbook, type StepSpec } from './runbooks.js';
import { mapTexts, substitute, type Variables } from './runbook-vars.js';

export interface PlanVars {
  asset: string;
  /** The snapshot id the run restores. */
  snapshot: string;
  /** The fresh directory a `scratch` target means (a drill's: under the runbook's scratch root). */
  scratchDir: string;
  /** The asset's own paths: a drill must never restore into them. */
  protectedPaths?: readonly string[];
}

export interface RunbookPlan {
  runbook: string;
  mode: RunMode;
  /** Where the restore step restores to (absolute); undefined for a runbook without one. */
  restoreDir?: string;
  /** True when restoreDir is the fresh scratch directory (a drill removes it afterwards). */
  scratch: boolean;
  vars: Variables;
  steps: StepSpec[];
}

export class UnsafeDrillError extends ConfigError {}

export function planRunbook(runbook: Runbook, mode: RunMode, vars: PlanVars): RunbookPlan {
  const specs = runbook.steps[mode];
  const restore = specs.find((s) => s.kind === 'restore' && !s.skip)?.restore;
  const early: Variables = { asset: vars.asset, snapshot: vars.snapshot, restore_dir: '' };
  const target = restore && substitute(restore.target, early);
  const scratch = target === SCRATCH;
  // A database or bucket target (postgres://…, s3://…) is a URL, not a directory.
  const restoreDir = target === undefined ? undefined : scratch ? path.resolve(vars.scratchDir) : isUrl(target) ? target : target && path.resolve(runbook.baseDir, target);
  if (target === '') throw new ConfigError(`asset "${vars.asset}" backs up several paths, so a recovery does not know where to restore it: give it a runbook whose restore step names a target`);
  if (mode === 'drill' && restoreDir !== undefined) checkDrillTarget(runbook, restoreDir, scratch, vars);
  const filled: Variables = { ...early, restore_dir: restoreDir ?? '' };
  const steps = specs.map((s) => mapTexts(s, (text) => substitute(text, filled)));
  for (const s of steps) if (s.restore && restoreDir) s.restore = { ...s.restore, target: restoreDir };
  return { runbook: runbook.name, mode, restoreDir, scratch, vars: filled, steps };
}

/** A drill restores only to scratch: the scratch directory, or a path under the scratch root that is not the asset's own. */
function isUrl(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
}

/** A URL without its credentials and query: the same database or bucket whoever signs in. */
function place(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url;
  }
}

function checkDrillTarget(runbook: Runbook, dir: string, scratch: boolean, vars: PlanVars): void {
  if (isUrl(dir)) {
    // A drill restores a database or a bucket into another one, never over the asset's own source.
    if ((vars.protectedPaths ?? []).some((p) => isUrl(p) && place(p) === place(dir))) {
      throw new UnsafeDrillError(`a drill of "${vars.asset}" would restore into ${place(dir)}, its own source: give the drill a scratch database or bucket (drill: { restore: { target: "postgres://…/${vars.asset}_drill" } })`);
    }
    return;
  }
  const root = runbook.scratchRoot;
  if (!scratch && !inside(dir, root)) {
    throw new UnsafeDrillError(
      `runbook "${runbook.name}" would restore to ${dir} in a drill of "${vars.asset}": a drill never touches a production path. ` +
        `Give the runbook a drill override (drill: { restore: { target: scratch } }) or a target under its scratch_root (${root})`,
    );
  }
  for (const p of vars.protectedPaths ?? []) {
    if (dir === p || inside(dir, p) || inside(p, dir)) throw new UnsafeDrillError(`a drill of "${vars.asset}" would restore to ${dir}, which holds its source ${p}: drill into a scratch directory`);
  }
}

export function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
