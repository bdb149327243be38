/**
 * What `lifeboat validate` says of runbooks, beyond what the section's schema catches (unknown
 * step kinds, a switch with no gateway or command, a retried restore, unknown variables): an
 * asset naming a runbook that does not exist, and a drill that would restore to a production
 * path. Each problem comes with its line.
 */
import path from 'node:path';
import { ConfigError, locate, type ConfigFile, type ConfigIssue } from './config-file.js';
import type { DrPlan } from './plan.js';
import { sourceLocations } from '../sources/config.js';
import { planRunbook, UnsafeDrillError } from './runbook-plan.js';
import { runbooksOf, type Runbook, type RunbookSet } from './runbooks.js';

/** Every error of the runbooks: section and of the assets' runbook: keys; empty when all is well. */
export function checkRunbooks(config: ConfigFile, plan: DrPlan): ConfigIssue[] {
  let set: RunbookSet;
  try {
    set = runbooksOf(config);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  const issues: ConfigIssue[] = [];
  const used = new Set<string>();
  for (const asset of plan.assets) {
    if (!asset.runbook) continue;
    const runbook = set.runbooks.get(asset.runbook);
    if (!runbook) {
      const known = [...set.runbooks.keys()];
      issues.push(locate(config, ['assets', asset.name, 'runbook'], `"${asset.runbook}" is not a runbook of the runbooks: section (${known.join(', ') || 'it has none'})`));
      continue;
    }
    used.add(runbook.name);
    const problem = drillProblem(runbook, asset.name, asset.source ? sourceLocations(asset.source) : []);
    if (problem) issues.push(locate(config, drillKeyPath(config, runbook), problem));
  }
  for (const runbook of set.runbooks.values()) {
    if (used.has(runbook.name)) continue;
    const problem = drillProblem(runbook, 'ASSET', []);
    if (problem) issues.push(locate(config, drillKeyPath(config, runbook), problem));
  }
  return dedupe(issues);
}

function drillProblem(runbook: Runbook, asset: string, sources: readonly string[]): string | undefined {
  try {
    planRunbook(runbook, 'drill', { asset, snapshot: 'SNAPSHOT', scratchDir: path.join(runbook.scratchRoot, `${asset}-check`), protectedPaths: sources });
    return undefined;
  } catch (err) {
    if (err instanceof UnsafeDrillError) return err.message;
    throw err;
  }
}

/** The drill's restore override if it has one, else the restore step. */
function drillKeyPath(config: ConfigFile, runbook: Runbook): Array<string | number> {
  const section = (config.root.runbooks as Record<string, { steps?: unknown[]; drill?: Record<string, unknown> }>)[runbook.name];
  const restore = runbook.steps.recovery.find((s) => s.kind === 'restore');
  if (restore && section.drill?.[restore.name] !== undefined) return ['runbooks', runbook.name, 'drill', restore.name];
  if (section.drill?.restore !== undefined) return ['runbooks', runbook.name, 'drill', 'restore'];
  const index = (section.steps ?? []).findIndex((s) => typeof s === 'object' && s !== null && 'restore' in s);
  return ['runbooks', runbook.name, 'steps', Math.max(index, 0), 'restore'];
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.line}:${i.key}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
