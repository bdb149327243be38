// What an asset version was made from, as a graph read from the top: the newest version that
// records lineage, each input under it (a dataset version with its own inputs in turn, a code
// commit, a URI), with params and metrics. A version missing from the repository is marked; a
// version with no lineage recorded says so plainly.
import type { LineageEdge, LineageNode } from '../../src/control/lineage-graph.js';
import { shortId, when } from './format.js';
import { Link } from './ui.js';

export function LineageView({ node }: { node: LineageNode | null }) {
  if (!node) return <p class="empty" data-empty="lineage">No lineage recorded: no snapshot of this asset names the dataset, code or model it was made from.</p>;
  return (
    <div class="lineage">
      <p class="note">The newest version with lineage, and what it was made from (inputs below the version they went into):</p>
      <ul class="lineage-graph">
        <NodeItem node={node} role={null} />
      </ul>
    </div>
  );
}

function NodeItem({ node, role }: { node: LineageNode; role: string | null }) {
  const facts = Object.entries({ ...node.params, ...node.metrics }).map(([k, v]) => `${k} ${v}`);
  return (
    <li class="lineage-node" data-node={`${node.asset}@v${node.version ?? '?'}`}>
      <div class="lineage-head">
        {role ? <span class="tag">{role}</span> : null} <Link to={`/assets/${encodeURIComponent(node.asset)}`}>{node.asset}</Link>
        {node.version !== undefined ? `@v${node.version}` : ''} <span class="muted">{when(node.time)} · <code>{shortId(node.snapshot)}</code>{node.run ? ` · run ${node.run.name ?? node.run.id ?? node.run.source}` : ''}</span>
      </div>
      {facts.length ? <p class="muted lineage-facts">{facts.join(' · ')}</p> : null}
      {node.inputs.length ? (
        <ul>
          {node.inputs.map((edge, i) => (
            <EdgeItem key={`${edge.role}:${i}`} edge={edge} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function EdgeItem({ edge }: { edge: LineageEdge }) {
  if (edge.kind === 'version' && edge.node) return <NodeItem node={edge.node} role={edge.role} />;
  return (
    <li class="lineage-node" data-input={edge.kind}>
      <div class="lineage-head">
        <span class="tag">{edge.role}</span> {describe(edge)}
      </div>
    </li>
  );
}

function describe(edge: LineageEdge): string {
  if (edge.kind === 'git') return `${edge.url} at ${shortId(edge.commit)}`;
  if (edge.kind === 'uri') return edge.uri;
  // A version input with no node: not in this repository (or already shown above: a cycle).
  return `${edge.asset}@v${edge.version}${edge.snapshot ? ` (${shortId(edge.snapshot)})` : ' — not in this repository'}`;
}
