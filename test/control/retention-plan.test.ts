/**
 * Which policy applies to which snapshots: with --keep-* flags one policy for every asset and
 * deletion; with lifeboat.yaml each asset's tier policy (or its own keep:), `expired:` deciding
 * archive or delete, assets the file does not name left alone, and `expired: archive` with no
 * archive repository keeping what would go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/control/config-file.js';
import { planOf } from '../../src/control/plan.js';
import { NO_ARCHIVE_REASON, planRetention, removals } from '../../src/control/retention-plan.js';
import type { StoredSnapshot } from '../../src/engine/snapshots.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');

const snap = (asset: string, day: number, tier?: number): StoredSnapshot => {
  const time = new Date(Date.parse('2024-12-01T06:00:00Z') + day * 86_400_000).toISOString();
  return { id: `${asset}-${day}`, snapshot: { asset, time, tier } as StoredSnapshot['snapshot'] };
};

const repositories = (archive: boolean) => `
repositories:
  primary: { url: /srv/lifeboat, role: primary }
  dr-site: { url: /srv/dr, role: replica }
${archive ? '  cold: { url: /srv/cold, role: archive }\n' : ''}`;

const plan = (archive = true) =>
  planOf(
    parseConfigText(
      `${repositories(archive)}
tiers:
  1: { keep: { last: 2 }${archive ? ', expired: archive' : ''} }   # without: the default, archive
  2: { keep: { daily: 1 }, expired: delete }
assets:
  llama-ft: { kind: model, tier: 1, source: { path: /srv/models/llama-ft } }
  prompts: { kind: config, tier: 2, source: { path: /srv/prompts } }
  adapters: { kind: adapter, tier: 1, source: { path: /srv/adapters }, keep: { last: 1 }, expired: delete }
  manifests: { kind: code, tier: 3, git_remote: https://git.internal/deploy.git }
`,
      '/etc/lifeboat/lifeboat.yaml',
    ),
  );

const snapshots = [
  ...[0, 1, 2, 3].map((d) => snap('llama-ft', d, 1)),
  ...[0, 1, 2].map((d) => snap('prompts', d, 2)),
  ...[0, 1].map((d) => snap('adapters', d, 1)),
  ...[0, 1].map((d) => snap('scratch', d)),
  snap('manifests', 0),
];

const ids = (list: StoredSnapshot[]) => list.map((s) => s.id).sort();

test('from lifeboat.yaml: each asset by its own policy; archive or delete as its expired: says', () => {
  const p = planRetention(snapshots, { from: 'file', plan: plan() }, {}, NOW);
  assert.equal(p.archive, 'cold');
  assert.deepEqual(
    p.assets.map((a) => [a.asset, a.expired, a.decisions.filter((d) => d.keep).map((d) => d.snapshot.id)]),
    [
      ['adapters', 'delete', ['adapters-1']],
      ['llama-ft', 'archive', ['llama-ft-3', 'llama-ft-2']],
      ['manifests', 'delete', ['manifests-0']], // Tier 3's empty policy keeps everything
      ['prompts', 'delete', ['prompts-2']],
    ],
  );
  const r = removals(p);
  assert.deepEqual(ids(r.archive), ['llama-ft-0', 'llama-ft-1']);
  assert.deepEqual(ids(r.delete), ['adapters-0', 'prompts-0', 'prompts-1']);
  assert.deepEqual(p.leftAlone, [{ asset: 'scratch', snapshots: 2 }], 'an asset the file does not name is left alone');
});

test('from lifeboat.yaml: --asset and --tier narrow it', () => {
  assert.deepEqual(planRetention(snapshots, { from: 'file', plan: plan() }, { asset: 'prompts' }, NOW).assets.map((a) => a.asset), ['prompts']);
  const tier1 = planRetention(snapshots, { from: 'file', plan: plan() }, { tier: 1 }, NOW);
  assert.deepEqual(tier1.assets.map((a) => a.asset), ['adapters', 'llama-ft']);
});

test('expired: archive with no archive repository keeps what would go, and says why', () => {
  const p = planRetention(snapshots, { from: 'file', plan: plan(false) }, { asset: 'llama-ft' }, NOW);
  assert.equal(p.archive, undefined);
  assert.deepEqual(removals(p), { archive: [], delete: [] });
  const old = p.assets[0].decisions.find((d) => d.snapshot.id === 'llama-ft-0')!;
  assert.deepEqual([old.keep, old.reasons], [true, [NO_ARCHIVE_REASON]]);
});

test('from flags: one policy for every asset (the file plays no part), and what goes is deleted', () => {
  const p = planRetention(snapshots, { from: 'flags', keep: { last: 1 } }, {}, NOW);
  assert.deepEqual(p.assets.map((a) => a.asset), ['adapters', 'llama-ft', 'manifests', 'prompts', 'scratch']);
  assert.equal(removals(p).archive.length, 0);
  assert.equal(removals(p).delete.length, snapshots.length - 5);
  assert.deepEqual(p.leftAlone, []);
  const tier2 = planRetention(snapshots, { from: 'flags', keep: { last: 1 } }, { tier: 2 }, NOW);
  assert.deepEqual(tier2.assets.map((a) => a.asset), ['prompts'], 'with flags, --tier selects the snapshots recorded with that tier');
});

test('a protected snapshot stays in either mode', () => {
  const protect = new Map([['prompts-0', 'dataset of llama-ft@abc']]);
  for (const source of [{ from: 'flags' as const, keep: { last: 1 } }, { from: 'file' as const, plan: plan() }]) {
    const p = planRetention(snapshots, source, { asset: 'prompts' }, NOW, protect);
    assert.deepEqual(ids(removals(p).delete), ['prompts-1'], source.from);
  }
});
