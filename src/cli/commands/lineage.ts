import type { Command } from 'commander';
import { lineageGraph, type LineageEdge, type LineageNode } from '../../control/lineage-graph.js';
import { withRepo, withRepoOptions, type RepoFlags, SNAPSHOTS_AND_INDEX } from '../repo-options.js';
import { withSkipDamaged, type SkipDamagedFlags } from '../snapshot-spec.js';

/** `lifeboat lineage ASSET@vN`: model <- dataset versions <- code commits, params, metrics, and what is still restorable. */
export function registerLineage(program: Command): void {
  withSkipDamaged(withRepoOptions(program.command('lineage').description('what a version was made from: dataset versions, code commits, params and metrics, and which are still restorable')))
    .argument('<snapshot>', 'ASSET@vN (or any snapshot: id, ASSET@latest)')
    .action(async (spec: string, flags: RepoFlags & SkipDamagedFlags) => {
      await withRepo(flags, async ({ repo, out }) => {
        const graph = await lineageGraph(repo, spec, { skipDamaged: flags.skipDamaged, onWarning: (m) => out.warn(m) });
        out.result(graph, () => render(graph).join('\n'));
      }, { prefetch: SNAPSHOTS_AND_INDEX });
    });
}

const name = (n: LineageNode) => (n.version === undefined ? `${n.asset} ${n.snapshot.slice(0, 12)}` : `${n.asset}@v${n.version}`);
const state = (restorable: boolean) => (restorable ? 'restorable' : 'NOT restorable');

function render(n: LineageNode, indent = ''): string[] {
  const lines = indent ? [] : [`${name(n)}  ${n.snapshot.slice(0, 12)}  ${n.time.replace('T', ' ').slice(0, 19)}  ${state(n.restorable)}`];
  const pad = indent + '  ';
  for (const [k, v] of Object.entries(n.params)) lines.push(`${pad}param  ${k} = ${v}`);
  for (const [k, v] of Object.entries(n.metrics)) lines.push(`${pad}metric ${k} = ${v}`);
  if (n.run) lines.push(`${pad}run    ${n.run.source} ${n.run.id ?? ''}${n.run.name ? ` (${n.run.name})` : ''}`);
  for (const e of n.inputs) {
    lines.push(`${pad}<- ${edge(e)}`);
    if (e.kind === 'version' && e.node) lines.push(...render(e.node, pad + '   '));
  }
  if (!indent && n.inputs.length === 0) lines.push('  (no lineage recorded: back it up with --lineage, --lineage-file, --param, --metric)');
  return lines;
}

function edge(e: LineageEdge): string {
  if (e.kind === 'git') return `${e.role}: git ${e.url} @ ${e.commit}`;
  if (e.kind === 'uri') return `${e.role}: ${e.uri}`;
  const where = e.snapshot ? `${e.snapshot.slice(0, 12)}  ${state(e.restorable)}` : e.forgotten ? `forgotten on ${e.forgotten.slice(0, 10)}: NOT restorable here` : 'not in this repository: NOT restorable here';
  return `${e.role}: ${e.asset}@v${e.version}  ${where}`;
}
