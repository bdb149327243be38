/**
 * Retention never removes a dataset version that a kept model version references, whatever the
 * keep policy says, and --dry-run says why it stays; a backup's replication brings the replica the
 * dataset versions its model names.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, runCliJson } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

test('forget --keep-last 1 keeps the dataset version the kept model was trained on, and says so', async (t) => {
  const dir = await tempDir(t);
  await createRepo(path.join(dir, 'repo'));
  const r = ['-r', repoUrl(path.join(dir, 'repo'))];
  const cli = (args: string[]) => runCli([...args, ...r]);
  await fs.mkdir(path.join(dir, 'data'));
  await fs.mkdir(path.join(dir, 'model'));
  for (const v of [1, 2]) {
    await writeRandomFile(path.join(dir, 'data', 'train.jsonl'), 4000, `data-${v}`);
    assert.equal((await cli(['backup', '--asset', 'tickets', path.join(dir, 'data')])).code, 0);
  }
  await writeRandomFile(path.join(dir, 'model', 'w.bin'), 4000, 'model');
  const model = await cli(['backup', '--asset', 'llm', path.join(dir, 'model'), '--lineage', 'dataset=tickets@v1']);
  assert.equal(model.code, 0, model.stderr);

  const plan = await runCliJson<{ assets: Array<{ asset: string; kept: Array<{ reasons: string[] }>; removed: unknown[] }> }>(['forget', '--keep-last', '1', '--dry-run', ...r]);
  assert.equal(plan.result.code, 0, plan.result.stderr);
  const tickets = plan.json.assets.find((a) => a.asset === 'tickets')!;
  assert.equal(tickets.removed.length, 0, 'tickets@v1 is not removed: llm@v1 names it');
  assert.ok(tickets.kept.some((k) => k.reasons.some((x) => /protected: .*llm@v1/.test(x))), JSON.stringify(tickets.kept));

  assert.equal((await cli(['forget', '--keep-last', '1'])).code, 0);
  const left = await runCliJson<Array<{ asset: string; assetVersion: number }>>(['snapshots', ...r]);
  assert.deepEqual(left.json.map((s) => `${s.asset}@v${s.assetVersion}`).sort(), ['llm@v1', 'tickets@v1', 'tickets@v2']);
});
