// Lifeboat, through its CLI (`node bin/lifeboat.js` by default), the way a user runs it.
// Assets follow the lineages an AI team would name: base, ft-partial, ft-full, lora, merged,
// dataset; each version is the next snapshot of its lineage, and the first fine-tune or merge
// names the base snapshot as its parent (what it was derived from). The no-change re-backup
// of a version names that version's own snapshot as parent, as re-running a backup of the
// same directory would.
import { access } from 'node:fs/promises';
import { measured, run } from './measure.js';
import type { BackupTool, ToolContext } from './tool.js';

export class LifeboatUnavailableError extends Error {
  readonly code = 'BENCH_LIFEBOAT_UNAVAILABLE';
}

export function assetOf(version: string): string {
  return version.replace(/-v?\d+$/, '');
}

export function lifeboatTool(ctx: ToolContext, command: string[]): BackupTool {
  const env = { LIFEBOAT_PASSWORD: ctx.password };
  const snapshots = new Map<string, Map<string, string>>(); // repo -> version -> snapshot id
  const idsOf = (repo: string): Map<string, string> => {
    let m = snapshots.get(repo);
    if (!m) snapshots.set(repo, (m = new Map()));
    return m;
  };
  return {
    name: 'lifeboat',
    settings: 'defaults',
    version: async () => {
      const script = command[command.length - 1];
      if (script.endsWith('.js')) {
        await access(script).catch(() => {
          throw new LifeboatUnavailableError(`${script} does not exist: build first (npm run build)`);
        });
      }
      return `lifeboat ${(await run([...command, '--version'])).trim()}`;
    },
    init: async (repo) => {
      await run([...command, 'init', '-r', repo, '--json'], { env });
    },
    backup: async (req) => {
      const ids = idsOf(req.repo);
      const asset = assetOf(req.version);
      const parent = req.again ? ids.get(req.version) : asset !== 'base' && !hasAsset(ids, asset) ? ids.get('base') : undefined;
      const argv = [...command, 'backup', '-r', req.repo, '--asset', asset, '--json', ...(parent ? ['--parent', parent] : []), req.dir];
      const r = await measured(argv, { env });
      const doc = snapshotDoc(r.stdout, argv);
      if (!req.again) ids.set(req.version, doc.id);
      return { ...r, detail: doc.summary };
    },
    restore: async (repo, version, _sourceDir, target) => {
      const id = idsOf(repo).get(version);
      if (!id) throw new Error(`lifeboat: no snapshot of ${version} was taken in ${repo}`);
      const r = await measured([...command, 'restore', '-r', repo, id, '--target', target, '--json'], { env });
      return { ...r, restoredDir: target };
    },
  };
}

function hasAsset(ids: Map<string, string>, asset: string): boolean {
  for (const v of ids.keys()) if (assetOf(v) === asset) return true;
  return false;
}

function snapshotDoc(stdout: string, argv: string[]): { id: string; summary?: unknown } {
  try {
    const doc = JSON.parse(stdout) as { id?: unknown; summary?: unknown };
    if (typeof doc.id === 'string') return { id: doc.id, summary: doc.summary };
  } catch {
    // fall through to the error below
  }
  throw new Error(`${argv.join(' ')} printed no JSON document with an "id": ${stdout.slice(0, 200)}`);
}

/** `lifeboat stats --json` of a repository, kept in the results for the storage work. */
export async function lifeboatStats(command: string[], ctx: ToolContext, repo: string): Promise<unknown> {
  return JSON.parse(await run([...command, 'stats', '-r', repo, '--json'], { env: { LIFEBOAT_PASSWORD: ctx.password } }));
}
