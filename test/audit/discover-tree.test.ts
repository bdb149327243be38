/**
 * Discovery over a generated tree of AI assets: each asset found once with its kind, format and
 * proposed tier, decoys rejected, coverage by a lifeboat.yaml marked, the per-tier summary adding
 * up; an unreadable directory, an unreadable file and a file that vanishes during the walk are
 * reported in `skipped` (injected through the walker's filesystem: the tests run as root, whom
 * permissions do not stop), and a symlink loop does not trap the walk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { discover } from '../../src/control/audit/discover.js';
import { nodeWalkFs, walkFiles, type WalkFs } from '../../src/control/audit/fs-walk.js';
import { parseConfigText } from '../../src/control/config-file.js';
import { planOf } from '../../src/control/plan.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { DECOYS, EXPECTED, writeFixtureTree } from './fixture-tree.js';

async function fixture(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await fs.realpath(await tempDir(t, 'lifeboat-discover-'));
  await writeFixtureTree(path.join(dir, 'tree'), path.join(dir, 'remote.git'));
  return dir;
}

function relative(root: string, p: string): string {
  return path.relative(root, p);
}

test('every asset of the tree is found once, with its kind, format and proposed tier; decoys are rejected', async (t) => {
  const dir = await fixture(t);
  const root = path.join(dir, 'tree');
  const report = await discover({ paths: [root] });
  const found = Object.fromEntries(report.assets.map((a) => [relative(root, a.path), a]));
  assert.deepEqual(Object.keys(found).sort(), Object.keys(EXPECTED).sort(), 'exactly the expected assets');
  for (const [rel, want] of Object.entries(EXPECTED)) {
    const got = found[rel];
    assert.equal(got.kind, want.kind, `${rel}: kind`);
    assert.equal(got.format, want.format, `${rel}: format`);
    assert.equal(got.proposed_tier, want.proposed_tier, `${rel}: tier (${got.reason})`);
    if (want.files !== undefined) assert.equal(got.files, want.files, `${rel}: files`);
    assert.ok(got.reason.length > 10, `${rel}: a reason in words`);
  }
  assert.equal(found['adapters/support-lora'].reason, 'PEFT adapter → Tier 1: fine-tuned, costly to reproduce');
  assert.match(found['deploy-repo'].reason, /^git repository with a reachable remote → Tier 3/);
  assert.equal(found['deploy-repo'].git_remote, path.join(dir, 'remote.git'));
  assert.equal(report.summary.decoys, DECOYS.length, 'each decoy is rejected, and counted');
  for (const decoy of DECOYS) assert.ok(!report.assets.some((a) => a.path === path.join(root, decoy)), `${decoy} is no asset`);
  // A model folder is one asset with all its bytes: the sizes of its files add up.
  const ft = path.join(root, 'models/llama-ft');
  let bytes = 0;
  for (const f of await fs.readdir(ft)) bytes += (await fs.stat(path.join(ft, f))).size;
  assert.equal(found['models/llama-ft'].bytes, bytes);
  assert.deepEqual(report.skipped, [{ path: path.join(root, 'loop/up'), reason: `symlink loop: points to its own ancestor ${root}` }]);
  assert.ok(report.assets.every((a) => a.covered_by === null));
  assert.deepEqual(report.summary.notes.length, 2, 'no lifeboat.yaml and no repository are said');
});

test("coverage honours a source's exclude patterns: what the backup leaves out is not covered", async (t) => {
  const dir = await fixture(t);
  const root = path.join(dir, 'tree');
  const yaml = [
    'repositories: { primary: { url: /srv/lifeboat-repo, role: primary } }',
    'assets:',
    `  llama: { kind: model, tier: 1, source: { path: ${root}/models, exclude: ["llama-70b/", "*.gguf"] } }`,
  ].join('\n');
  const report = await discover({ paths: [root], plan: planOf(parseConfigText(yaml, path.join(dir, 'lifeboat.yaml'))) });
  const by = (rel: string) => report.assets.find((a) => a.path === path.join(root, rel))!;
  assert.equal(by('models/llama-ft').covered_by, 'llama');
  assert.equal(by('models/llama-70b').covered_by, null, 'an excluded folder');
  assert.equal(by('models/qwen-q4.gguf').covered_by, null, 'an excluded base name');
});

test('coverage by lifeboat.yaml: the asset whose source holds a path covers it, with its tier; the summary adds up', async (t) => {
  const dir = await fixture(t);
  const root = path.join(dir, 'tree');
  const yaml = [
    'repositories: { primary: { url: /srv/lifeboat-repo, role: primary } }',
    'assets:',
    `  llama: { kind: model, tier: 1, source: { path: ${root}/models } }`,
    `  chats: { kind: dataset, tier: 2, source: { path: ${root}/datasets/support-chats } }`,
    `  manifests: { kind: code, tier: 3, git_remote: https://git.internal/deploy.git }`,
  ].join('\n');
  const plan = planOf(parseConfigText(yaml, path.join(dir, 'lifeboat.yaml')));
  const report = await discover({ paths: [root], plan });
  const by = (rel: string) => report.assets.find((a) => a.path === path.join(root, rel))!;
  for (const rel of ['models/llama-ft', 'models/llama-70b', 'models/qwen-q4.gguf']) assert.equal(by(rel).covered_by, 'llama', rel);
  assert.equal(by('datasets/support-chats').covered_by, 'chats');
  assert.equal(by('datasets/support-chats').configured_tier, 2, 'configured below the proposed Tier 1: shown');
  assert.equal(by('datasets/web-crawl').covered_by, null);
  assert.equal(by('deploy-repo').covered_by, null, 'a Tier 3 asset has no source and covers no path');

  const tier1 = report.summary.tiers.find((s) => s.tier === 1)!;
  const ones = report.assets.filter((a) => a.proposed_tier === 1);
  const covered = ones.filter((a) => a.covered_by !== null);
  assert.equal(tier1.assets, ones.length);
  assert.equal(tier1.bytes_found, ones.reduce((n, a) => n + a.bytes, 0));
  assert.equal(tier1.bytes_protected, covered.reduce((n, a) => n + a.bytes, 0));
  assert.equal(tier1.bytes_unprotected, tier1.bytes_found - tier1.bytes_protected);
  const largest = ones.filter((a) => a.covered_by === null).sort((a, b) => b.bytes - a.bytes).slice(0, 5);
  assert.deepEqual(tier1.largest_unprotected, largest.map((a) => ({ path: a.path, kind: a.kind, bytes: a.bytes })));
  assert.equal(largest[0].path, path.join(root, 'mlflow/mlflow.db'), 'the biggest first');
  assert.equal(tier1.stored_bytes, null, 'no repository: no stored bytes');
});

/** The real filesystem, except for the failures a test names. */
function faultyFs(faults: { opendir?: string; read?: string; vanish?: string }): WalkFs {
  const fail = (code: string, p: string) => Object.assign(new Error(`${code}: ${p}`), { code, path: p });
  return {
    ...nodeWalkFs,
    async opendir(dir) {
      if (dir === faults.opendir) throw fail('EACCES', dir);
      return nodeWalkFs.opendir(dir);
    },
    async lstat(file) {
      if (file === faults.vanish) throw fail('ENOENT', file);
      return nodeWalkFs.lstat(file);
    },
    async read(file, position, length) {
      if (file === faults.read) throw fail('EACCES', file);
      return nodeWalkFs.read(file, position, length);
    },
  };
}

test('an unreadable directory, an unreadable file and a vanished file are skipped, and the walk goes on', async (t) => {
  const dir = await fixture(t);
  const root = path.join(dir, 'tree');
  const faults = { opendir: path.join(root, 'adapters/support-lora'), read: path.join(root, 'models/qwen-q4.gguf'), vanish: path.join(root, 'checkpoints/run-7.pt') };
  const result = await walkFiles([root], { fs: faultyFs(faults) });
  assert.deepEqual(
    result.skipped.sort((a, b) => (a.path < b.path ? -1 : 1)),
    [
      { path: faults.opendir, reason: 'permission denied' },
      { path: faults.vanish, reason: 'vanished during the walk' },
      { path: path.join(root, 'loop/up'), reason: `symlink loop: points to its own ancestor ${root}` },
      { path: faults.read, reason: 'permission denied' },
    ],
  );
  const paths = result.assets.map((a) => relative(root, a.path)).sort();
  const expected = Object.keys(EXPECTED).filter((p) => !['adapters/support-lora', 'models/qwen-q4.gguf', 'checkpoints/run-7.pt'].includes(p)).sort();
  assert.deepEqual(paths, expected, 'the rest is found as before');
});

test('a path named twice, or inside another, is walked once; a file named on its own is one asset', async (t) => {
  const dir = await fixture(t);
  const root = path.join(dir, 'tree');
  const twice = await walkFiles([root, path.join(root, 'models'), root]);
  assert.equal(twice.assets.length, Object.keys(EXPECTED).length);
  const single = await walkFiles([path.join(root, 'datasets/support-chats/train/part-0000.jsonl')]);
  assert.deepEqual(single.assets.map((a) => [a.path, a.kind, a.format, a.files]), [[path.join(root, 'datasets/support-chats/train/part-0000.jsonl'), 'dataset', 'jsonl', 1]]);
});
