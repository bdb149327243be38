/**
 * `lifeboat discover` as a user runs it: as an ordinary user (nobody) on a tree with a directory
 * and a file it may not read (skipped, not fatal); with a lifeboat.yaml whose primary repository
 * holds snapshots of two tiers (covered_by, stored bytes per tier as `stats` counts them); with
 * --write-config (a new file of entries that lifeboat.yaml accepts, never an existing file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DiscoverReport } from '../../src/control/audit/report.js';
import { parseConfigText } from '../../src/control/config-file.js';
import { sourcePaths } from '../../src/sources/config.js';
import { planOf } from '../../src/control/plan.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { EXPECTED, writeFixtureTree } from './fixture-tree.js';

const NOBODY = 65534;
const NO_REPOSITORY = { LIFEBOAT_REPOSITORY: undefined, LIFEBOAT_CONFIG: undefined };

async function fixture(t: Parameters<typeof tempDir>[0]): Promise<{ dir: string; root: string }> {
  const dir = await fs.realpath(await tempDir(t, 'lifeboat-discover-cli-'));
  await fs.chmod(dir, 0o755);
  const root = path.join(dir, 'tree');
  await writeFixtureTree(root, path.join(dir, 'remote.git'));
  return { dir, root };
}

test('as an ordinary user: an unreadable directory and file are skipped, everything else is found, exit 0', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to run the CLI as another user');
  const { dir, root } = await fixture(t);
  await fs.mkdir(path.join(root, 'private/model'), { recursive: true });
  await fs.copyFile(path.join(root, 'models/qwen-q4.gguf'), path.join(root, 'private/model/secret.gguf'));
  await fs.chmod(path.join(root, 'private'), 0o700);
  await fs.copyFile(path.join(root, 'models/qwen-q4.gguf'), path.join(root, 'models/locked.gguf'));
  await fs.chmod(path.join(root, 'models/locked.gguf'), 0o600);

  const { result, json } = await runCliJson<DiscoverReport>(['discover', root], { uid: NOBODY, gid: NOBODY, cwd: dir, env: { HOME: dir, ...NO_REPOSITORY } });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(json.assets.map((a) => path.relative(root, a.path)).sort(), Object.keys(EXPECTED).sort());
  assert.deepEqual(
    json.skipped.sort((a, b) => (a.path < b.path ? -1 : 1)),
    [
      { path: path.join(root, 'loop/up'), reason: `symlink loop: points to its own ancestor ${root}` },
      { path: path.join(root, 'models/locked.gguf'), reason: 'permission denied' },
      { path: path.join(root, 'private'), reason: 'permission denied' },
    ],
  );
  assert.equal(result.stderr, '', 'no progress bar off a terminal, no warning');
});

test('coverage from lifeboat.yaml and stored bytes per tier from its primary repository; --write-config writes entries to review', async (t) => {
  const { dir, root } = await fixture(t);
  const repoDir = path.join(dir, 'repo');
  await createRepo(repoDir);
  const backup = async (asset: string, source: string, tier: number) => {
    const r = await runCliJson<{ id: string }>(['backup', '-r', repoDir, '--asset', asset, source, '--tier', String(tier)]);
    assert.equal(r.result.code, 0, r.result.stderr);
    return r.json.id;
  };
  const model = await backup('llama-ft', path.join(root, 'models/llama-ft'), 1);
  await backup('manifests', path.join(root, 'deploy-repo'), 3);
  const config = path.join(dir, 'lifeboat.yaml');
  await fs.writeFile(config, [
    `repositories: { primary: { url: ${repoDir}, role: primary } }`,
    'assets:',
    `  llama-ft: { kind: model, tier: 1, source: { path: ${root}/models/llama-ft } }`,
    '',
  ].join('\n'));
  const proposals = path.join(dir, 'proposed.yaml');

  const { result, json } = await runCliJson<DiscoverReport>(['discover', root, '-c', config, '--write-config', proposals], { env: NO_REPOSITORY });
  assert.equal(result.code, 0, result.stderr);
  const ft = json.assets.find((a) => a.path === path.join(root, 'models/llama-ft'))!;
  assert.equal(ft.covered_by, 'llama-ft');
  assert.equal(ft.configured_tier, 1);
  assert.equal(json.assets.filter((a) => a.covered_by !== null).length, 1);
  assert.equal(json.summary.repository?.location, repoDir);
  const stats = await runCliJson<{ storedBytes: number }>(['stats', '-r', repoDir, model]);
  assert.equal(json.summary.repository?.stored_bytes['1'], stats.json.storedBytes, 'Tier 1: what its snapshots store');
  assert.ok(json.summary.tiers[2].stored_bytes! > 0, 'Tier 3 has bytes in the repository: the over-investment view');
  assert.equal(json.summary.tiers[1].stored_bytes, 0);

  // The proposals are a valid assets: section once put beside the repositories.
  const written = await fs.readFile(proposals, 'utf8');
  const plan = planOf(parseConfigText(`repositories: { primary: { url: ${repoDir}, role: primary } }\n${written}`, proposals));
  const unprotected = json.assets.filter((a) => a.covered_by === null);
  assert.equal(plan.assets.length, unprotected.length);
  assert.ok(!plan.assets.some((a) => a.name === 'llama-ft'), 'covered assets are not proposed again');
  const byPath = new Map(plan.assets.filter((a) => a.source).map((a) => [sourcePaths(a.source!)[0], a]));
  for (const a of unprotected.filter((u) => u.proposed_tier !== 3)) {
    assert.equal(byPath.get(a.path)?.tier, a.proposed_tier, a.path);
    assert.equal(byPath.get(a.path)?.kind, a.kind, a.path);
  }
  assert.equal(plan.assets.find((a) => a.tier === 3)?.gitRemote, path.join(dir, 'remote.git'));
  assert.match(written, /# PEFT adapter → Tier 1: fine-tuned, costly to reproduce/);

  const again = await runCli(['discover', root, '-c', config, '--write-config', proposals], { env: NO_REPOSITORY });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /exists: --write-config writes a new file for review and never edits one in place/);
  assert.equal(await fs.readFile(proposals, 'utf8'), written, 'the file is left as it was');
});

test('a primary repository that cannot be opened is a note, not a failure; a missing path is a usage error', async (t) => {
  const { dir, root } = await fixture(t);
  const config = path.join(dir, 'lifeboat.yaml');
  await fs.writeFile(config, `repositories: { primary: { url: ${path.join(dir, 'no-repo-here')}, role: primary } }\n`);
  const { result, json } = await runCliJson<DiscoverReport>(['discover', path.join(root, 'models'), '-c', config], { env: NO_REPOSITORY });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(json.summary.repository, null);
  assert.ok(json.summary.notes.some((n) => n.startsWith('the primary repository primary could not be opened')), json.summary.notes.join('\n'));
  assert.match(result.stderr, /warning: the primary repository primary could not be opened/);

  const missing = await runCliJson<{ error: { code: string } }>(['discover', path.join(dir, 'nope')], { env: NO_REPOSITORY });
  assert.equal(missing.result.code, 2);
  assert.equal(missing.json.error.code, 'USAGE');
});
