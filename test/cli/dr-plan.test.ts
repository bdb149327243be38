/**
 * The DR plan through the CLI, as a user meets it: `validate` names every mistake with its line
 * (exit 2), `backup --all` backs up each asset of lifeboat.yaml into the primary and copies it to
 * its replica, `status` says whether each promise holds and exits 4 when one is broken, `--due`
 * backs up only what is due, and the catalog is a cache that `catalog rebuild` recreates.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, runCliJson } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { repoUrl, TEST_BACKEND } from '../helpers/test-backend.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { RGW } from '../storage/rgw-endpoint.js';

interface StatusDoc {
  assets: Array<{ name: string; tier: number; kind: string; rpo_state: string; rpo_seconds: number; last_snapshot: { id: string; time: string } | null; age_seconds: number | null; replicas: Array<{ repository: string; lag_seconds: number | null; missing_snapshots: number | null }>; last_backup: { result: string } | null }>;
  summary: { assets: number; ok: number; violated: number; never: number; git: number; objectives_met: boolean };
}

async function put(file: string, size: number, seed: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeRandomFile(file, size, seed);
}

async function site(t: Parameters<typeof tempDir>[0], assets: string) {
  const dir = await tempDir(t);
  const where = (name: string) => (TEST_BACKEND === 's3' ? `${repoUrl(path.join(dir, name))}, s3: { endpoint: ${RGW.endpoint}, path_style: true }` : `./${name}`);
  await fs.writeFile(
    path.join(dir, 'lifeboat.yaml'),
    ['repositories:', `  primary: { url: ${where('primary')}, role: primary }`, `  dr-site: { url: ${where('dr')}, role: replica }`, 'assets:', assets, ''].join('\n'),
  );
  const env = { LIFEBOAT_REPOSITORY: undefined, LIFEBOAT_CATALOG: path.join(dir, 'catalog.sqlite') };
  const cli = (args: string[]) => runCli(args, { cwd: dir, env });
  const json = <T>(args: string[]) => runCliJson<T>(args, { cwd: dir, env });
  assert.equal((await cli(['init', '-r', 'primary'])).code, 0);
  assert.equal((await cli(['init', '-r', 'dr-site'])).code, 0);
  return { dir, cli, json };
}

test('backup --all, then status: every asset ok and replicated; Tier 3 listed from git; the snapshot records tier and kind; exclude is honoured', async (t) => {
  const { dir, cli, json } = await site(
    t,
    [
      '  llama-ft: { kind: model, tier: 1, source: { path: models/llama-ft, exclude: ["*.tmp", "cache/"] } }',
      '  label-studio: { kind: annotations, tier: 1, source: { path: ls } }',
      '  prompts: { kind: config, tier: 2, source: { path: prompts } }',
      '  manifests: { kind: code, tier: 3, git_remote: https://git.internal/ml/deploy.git }',
    ].join('\n'),
  );
  await put(path.join(dir, 'models/llama-ft/model.bin'), 1 << 20, 'w');
  await put(path.join(dir, 'models/llama-ft/partial.tmp'), 1000, 't');
  await put(path.join(dir, 'models/llama-ft/cache/x.bin'), 1000, 'c');
  await put(path.join(dir, 'ls/export.json'), 5000, 'l');
  await put(path.join(dir, 'prompts/system.txt'), 300, 'p');

  const before = await json<StatusDoc>(['status']);
  assert.equal(before.result.code, 4, 'nothing backed up yet: an objective is not met');
  assert.deepEqual(before.json.assets.map((a) => [a.name, a.rpo_state]), [['label-studio', 'never'], ['llama-ft', 'never'], ['prompts', 'never'], ['manifests', 'git']]);

  const backed = await json<{ backups: Array<{ asset: string; result: string; snapshot: { id: string; tier: number; kind: string; exclude?: string[] }; replicated: Array<{ repository: string; result: string }> }> }>(['backup', '--all']);
  assert.equal(backed.result.code, 0, backed.result.stderr);
  assert.deepEqual(backed.json.backups.map((b) => [b.asset, b.result, b.snapshot.tier, b.snapshot.kind]), [['llama-ft', 'ok', 1, 'model'], ['label-studio', 'ok', 1, 'annotations'], ['prompts', 'ok', 2, 'config']]);
  assert.ok(backed.json.backups.every((b) => b.replicated.length === 1 && b.replicated[0].repository === 'dr-site' && b.replicated[0].result === 'ok'));

  const files = await json<{ entries: Array<{ path: string }> }>(['ls', 'llama-ft@latest']);
  assert.deepEqual(files.json.entries.map((e) => e.path).sort(), ['model.bin'], 'excluded: *.tmp and cache/');

  const after = await json<StatusDoc>(['status']);
  assert.equal(after.result.code, 0, after.result.stderr);
  assert.deepEqual(after.json.summary, { ...after.json.summary, assets: 4, ok: 3, violated: 0, never: 0, git: 1, objectives_met: true });
  const llama = after.json.assets.find((a) => a.name === 'llama-ft')!;
  assert.equal(llama.rpo_seconds, 86400);
  assert.equal(llama.last_snapshot?.id, backed.json.backups[0].snapshot.id);
  assert.deepEqual(llama.replicas.map((r) => [r.repository, r.lag_seconds, r.missing_snapshots]), [['dr-site', 0, 0]]);
  assert.equal(llama.last_backup?.result, 'ok');
  assert.equal(after.json.assets.find((a) => a.name === 'label-studio')!.rpo_seconds, 3600, 'annotations: hourly');

  const text = await cli(['status']);
  assert.match(text.stdout, /✔ ok\s+llama-ft\s+1\s+model/);
  assert.match(text.stdout, /○ git\s+manifests\s+3\s+code/);

  // Nothing is due right after: --due backs up nothing.
  const due = await json<{ backups: unknown[] }>(['backup', '--due']);
  assert.equal(due.result.code, 0, due.result.stderr);
  assert.deepEqual(due.json.backups, []);
});

test('an RPO violated: status exits 4 naming it; the catalog is only a cache: deleted and rebuilt, the same status', async (t) => {
  const { dir, json, cli } = await site(t, '  quick: { kind: dataset, tier: 2, rpo: 2s, source: { path: data } }\n  slow: { kind: dataset, tier: 2, source: { path: data2 } }');
  await put(path.join(dir, 'data/a.jsonl'), 2000, 'd');
  await put(path.join(dir, 'data2/b.jsonl'), 2000, 'e');
  assert.equal((await cli(['backup', '--all'])).code, 0);
  await new Promise((r) => setTimeout(r, 2100));
  const status = await json<StatusDoc>(['status']);
  assert.equal(status.result.code, 4);
  assert.match(status.result.stderr, /RPO not met for quick \(violated\)/);
  assert.equal(status.json.assets[0].name, 'quick', 'what fails comes first');
  assert.equal(status.json.assets[0].rpo_state, 'violated');

  const catalog = path.join(dir, 'catalog.sqlite');
  await fs.rm(catalog);
  const rebuilt = await json<{ snapshots: number; jobs: number }>(['catalog', 'rebuild']);
  assert.equal(rebuilt.result.code, 0, rebuilt.result.stderr);
  assert.deepEqual([rebuilt.json.snapshots, rebuilt.json.jobs], [2, 2], 'two snapshots and two job records, from the repository alone');
  const again = await json<StatusDoc>(['status']);
  const strip = (d: StatusDoc) => d.assets.map(({ age_seconds: _, ...a }) => a);
  assert.deepEqual(strip(again.json), strip(status.json));
});

test('validate: exit 0 with warnings; a broken file exits 2 listing every error at its line, and backup refuses it too', async (t) => {
  const { dir, json, cli } = await site(t, '  m: { kind: model, tier: 1, source: { path: m } }');
  const ok = await json<{ valid: boolean; warnings: Array<{ message: string }> }>(['validate']);
  assert.equal(ok.result.code, 0);
  assert.equal(ok.json.valid, true);
  assert.ok(ok.json.warnings.some((w) => /expired: archive needs a repository with role: archive/.test(w.message)));

  const file = path.join(dir, 'lifeboat.yaml');
  await fs.appendFile(file, '  n: { kind: model, tier: 1, source: { path: m } }\n  o: { kind: model, tier: 7, source: { path: o } }\n');
  const bad = await json<{ valid: boolean; errors: Array<{ line: number; key: string; message: string }> }>(['validate']);
  assert.equal(bad.result.code, 2);
  assert.equal(bad.json.valid, false);
  assert.deepEqual(bad.json.errors.map((e) => [e.line, e.key]), [[7, 'assets.o.tier'], [6, 'assets.n.source']]);
  const text = await cli(['validate']);
  assert.match(text.stdout, /error: .*lifeboat\.yaml:6: assets\.n\.source: .*m is also the source of asset "m"/);
  const backup = await cli(['backup', '--all']);
  assert.equal(backup.code, 2);
  assert.match(backup.stderr, /lifeboat\.yaml:7: assets\.o\.tier/);
});

test('assets: the effective policy with where each value came from, and hints of misclassification', async (t) => {
  const { dir, json } = await site(t, '  cfg: { kind: config, tier: 2, rpo: 12h, source: { path: serving } }\n  base: { kind: model, tier: 1, source: { path: models/base } }');
  await put(path.join(dir, 'serving/vllm.yaml'), 100, 'v');
  await put(path.join(dir, 'serving/lora/adapter_model.safetensors'), 100, 'a');
  await put(path.join(dir, 'models/base/model.safetensors'), 100, 'b');
  await put(path.join(dir, 'models/other-ft/model.gguf'), 100, 'o');
  const r = await json<{ assets: Array<{ name: string; policy: Record<string, { value: unknown; from: string }>; hints: Array<{ message: string }> }>; warnings: Array<{ path: string | null; message: string }> }>(['assets']);
  assert.equal(r.result.code, 0, r.result.stderr);
  const cfg = r.json.assets.find((a) => a.name === 'cfg')!;
  assert.deepEqual(cfg.policy.rpo, { value: '12h', from: 'asset' });
  assert.deepEqual(cfg.policy.rto, { value: '1d', from: 'default' });
  assert.match(cfg.hints[0].message, /holds model weights \(adapter_model\.safetensors\) but is a config in Tier 2/);
  assert.ok(r.json.warnings.some((w) => w.path?.endsWith('models/other-ft') && /in no asset's source/.test(w.message)), JSON.stringify(r.json.warnings));
  const defaults = await json<{ tiers: Record<string, Record<string, unknown> | null> }>(['assets', '--defaults']);
  assert.equal(defaults.json.tiers['1']?.rpo, '1d');
  assert.equal(defaults.json.tiers['3'], null);
});

test('check is recorded as a verification: status shows when the repository was last read back and how much of it', async (t) => {
  const { dir, cli, json } = await site(t, '  eval-set: { kind: dataset, tier: 2, source: { path: data } }');
  await put(path.join(dir, 'data/eval.bin'), 300_000, 'e');
  assert.equal((await cli(['backup', '--asset', 'eval-set'])).code, 0);
  type Verified = { assets: Array<{ verification: { result: string; packs_checked: number | null; errors: string[] } | null }> };
  assert.equal((await json<Verified>(['status'])).json.assets[0].verification, null, 'never verified yet');

  const checked = await cli(['check', '-r', 'primary', '--read-data']);
  assert.equal(checked.code, 0, checked.stderr);
  assert.doesNotMatch(checked.stderr, /not recorded/);
  const after = (await json<Verified>(['status'])).json.assets[0].verification;
  assert.equal(after?.result, 'ok');
  assert.ok((after?.packs_checked ?? 0) >= 1, `every pack was read back: ${JSON.stringify(after)}`);
});

test('backup --asset NAME --lineage: the asset of lifeboat.yaml records what it was made from; lineage with --all is refused', async (t) => {
  const { dir, cli, json } = await site(t, ['  eval-set: { kind: dataset, tier: 2, source: { path: data } }', '  ft: { kind: model, tier: 2, source: { path: model } }'].join('\n'));
  await put(path.join(dir, 'data/eval.bin'), 20_000, 'e');
  await put(path.join(dir, 'model/w.bin'), 20_000, 'm');
  assert.equal((await cli(['backup', '--asset', 'eval-set'])).code, 0);
  const ft = await json<{ asset: string; lineage: { inputs: Array<{ role: string; kind: string; asset?: string; assetVersion?: number }>; params: Record<string, string> } }>(['backup', '--asset', 'ft', '--lineage', 'dataset=eval-set@v1', '--param', 'lr=3e-4']);
  assert.equal(ft.result.code, 0, ft.result.stderr);
  assert.deepEqual(ft.json.lineage.inputs.map((i) => [i.role, i.kind, i.asset, i.assetVersion]), [['dataset', 'version', 'eval-set', 1]]);
  assert.deepEqual(ft.json.lineage.params, { lr: '3e-4' });
  const all = await cli(['backup', '--all', '--lineage', 'dataset=eval-set@v1']);
  assert.equal(all.code, 2);
  assert.match(all.stderr, /describe one version: give --asset NAME/);
  const missing = await cli(['backup', '--asset', 'ft', '--lineage', 'dataset=eval-set@v9']);
  assert.equal(missing.code, 1, 'a version that is not there: refused');
  assert.match(missing.stderr, /eval-set@v9/);
});
