/**
 * lifeboat.yaml entries for what discovery found unprotected, for a person to review and merge:
 * an `assets:` section with a name, kind, tier and source for each, and the reason as a comment.
 * Written to a new file, never into the user's lifeboat.yaml.
 */
import path from 'node:path';
import { stringify } from 'yaml';
import { CONFIG_NAME } from '../config-file.js';
import type { DiscoveredAsset } from './report.js';

export function configEntries(assets: readonly DiscoveredAsset[], taken: Iterable<string> = []): string {
  const used = new Set(taken);
  const lines = [
    '# Proposed by `lifeboat discover`: review each entry, then merge the assets: section into lifeboat.yaml.',
    '# Tiers: 1 irreplaceable, 2 reproducible but slow, 3 rebuilt from git (listed, never backed up).',
    'assets:',
  ];
  const unprotected = assets.filter((a) => a.covered_by === null);
  for (const a of unprotected) {
    const name = uniqueName(a.path, used);
    lines.push(`  # ${a.reason} (${a.kind}, ${a.format}, ${a.files} file(s), ${a.bytes} bytes)`);
    const entry: Record<string, unknown> = { kind: a.kind, tier: a.proposed_tier };
    if (a.path.startsWith('s3://')) {
      lines.push(`  # ${name}: an S3 prefix; add it with the S3 source form once lifeboat.yaml has one for ${a.path}`);
      continue;
    }
    if (a.proposed_tier === 3) entry.git_remote = a.git_remote ?? 'REPLACE-WITH-THE-REMOTE-URL';
    else entry.source = { path: a.path };
    lines.push(`  ${name}: ${stringify(entry, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd()}`);
  }
  if (unprotected.length === 0) lines[2] = 'assets: {} # everything discovery found is covered already';
  return lines.join('\n') + '\n';
}

/** A lifeboat.yaml name from the path's last part, made unique with its parent's name or a number. */
function uniqueName(p: string, used: Set<string>): string {
  const base = path.basename(p).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'asset';
  const parent = path.basename(path.dirname(p)).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  const tries = [base, parent ? `${parent}-${base}` : base];
  let name = tries.find((t) => CONFIG_NAME.test(t) && !used.has(t));
  for (let n = 2; !name; n++) if (!used.has(`${base}-${n}`)) name = `${base}-${n}`;
  used.add(name);
  return name;
}
