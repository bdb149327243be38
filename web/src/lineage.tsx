// What an asset version was made from (model ← dataset version ← code commit), when its snapshots
// record it; otherwise the page says plainly that none is recorded.
import type { LineageInput } from '../../src/repo/snapshot.js';
import type { StoredSnapshot } from './api.js';
import { shortId, when } from './format.js';


function describe(i: LineageInput): string {
  if (i.kind === 'version') return `${i.asset}@v${i.assetVersion} (${shortId(i.snapshot)})`;
  if (i.kind === 'git') return `${i.url} at ${shortId(i.commit)}`;
  return i.uri;
}

export function LineageView({ snapshots }: { snapshots: StoredSnapshot[] }) {
  const withLineage = snapshots.filter((s) => (s.lineage?.inputs.length ?? 0) > 0).sort((a, b) => b.time.localeCompare(a.time));
  const newest = withLineage[0];
  if (!newest?.lineage) return <p class="empty" data-empty="lineage">No lineage recorded: no snapshot of this asset names the dataset, code or model it was made from.</p>;
  const { inputs, params, metrics } = newest.lineage;
  return (
    <div class="lineage">
      <p class="note">
        The newest version with lineage, {when(newest.time)} (<code>{shortId(newest.id)}</code>), was made from:
      </p>
      <ul class="lineage-inputs">
        {inputs.map((i) => (
          <li key={`${i.role}:${describe(i)}`}>
            <strong>{i.role}</strong> ← {describe(i)}
          </li>
        ))}
      </ul>
      {Object.keys(params).length + Object.keys(metrics).length > 0 ? (
        <p class="muted">
          {Object.entries({ ...params, ...metrics })
            .map(([k, v]) => `${k} ${v}`)
            .join(' · ')}
        </p>
      ) : null}
    </div>
  );
}
