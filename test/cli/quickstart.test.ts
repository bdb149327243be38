/**
 * The README's quickstart, as a new user runs it: it leaves a lifeboat.yaml with the three tiers,
 * two repositories with every Tier 1 and 2 asset backed up and replicated, and `lifeboat status`
 * there says every objective is met.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, runCliJson } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';

test('quickstart runs the DR loop and leaves a working lifeboat.yaml with three tiers', async (t) => {
  const dir = path.join(await tempDir(t), 'qs');
  const env = { LIFEBOAT_PASSWORD: undefined, LIFEBOAT_REPOSITORY: undefined, LIFEBOAT_CATALOG: path.join(dir, 'catalog.sqlite') };
  const r = await runCli(['quickstart', '--dir', dir], { env, timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\$ lifeboat status\n/);
  assert.match(r.stdout, /✔ ok\s+demo-llm\s+1\s+model/);
  const yaml = await fs.readFile(path.join(dir, 'lifeboat.yaml'), 'utf8');
  for (const tier of ['1:', '2:', '3:']) assert.match(yaml, new RegExp(`^  ${tier}`, 'm'));

  const status = await runCliJson<{ assets: Array<{ name: string; tier: number; rpo_state: string; replicas: Array<{ missing_snapshots: number }> }>; summary: { objectives_met: boolean } }>(['status'], { cwd: dir, env });
  assert.equal(status.result.code, 0, status.result.stderr);
  assert.deepEqual(status.json.assets.map((a) => [a.name, a.tier, a.rpo_state]), [['demo-llm', 1, 'ok'], ['prompts', 2, 'ok'], ['manifests', 3, 'git']]);
  assert.deepEqual(status.json.assets[0].replicas.map((x) => x.missing_snapshots), [0], 'both snapshots of the model are at the second site');
  const again = await runCli(['quickstart', '--dir', dir], { env });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /has a quickstart already/);
});
