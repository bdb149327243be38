/**
 * The command line of sources, versions and lineage, run as a user runs it: backup --postgres and
 * restore --to-postgres with their JSON; a failing command leaves no snapshot; --git and --to-git;
 * a model version with its lineage, a refused missing dataset version, versions, lineage,
 * restore --with-lineage, and a copy that brings the dataset versions a model names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCli, runCliJson } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { dropPgDatabase, freshPgDatabase, pgQuery, pgUrl, uniqueName } from './databases.js';

async function newRepo(dir: string): Promise<string> {
  const repo = path.join(dir, 'repo');
  const init = await runCli(['init', '-r', repo]);
  assert.equal(init.code, 0, init.stderr);
  return repo;
}

test('cli: backup --postgres, restore --to-postgres (--clean to replace), with their JSON documents', async (t) => {
  const dir = await tempDir(t);
  const repo = await newRepo(dir);
  const db = await freshPgDatabase(t, 'cli');
  await pgQuery(db, "CREATE TABLE annotations (id serial PRIMARY KEY, result jsonb); INSERT INTO annotations (result) SELECT jsonb_build_object('n', g) FROM generate_series(1, 500) g");
  const { result, json: snap } = await runCliJson<{ id: string; assetVersion: number; source: { kind: string; details: Record<string, string> } }>(['backup', '-r', repo, '--asset', 'labelstudio', '--tier', '1', '--postgres', pgUrl(db)]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(snap.assetVersion, 1);
  assert.equal(snap.source.kind, 'postgres');
  assert.match(snap.source.details.pgDumpVersion, /^15\./);
  const target = uniqueName('cli_restored');
  t.after(() => dropPgDatabase(target));
  const restored = await runCliJson<{ kind: string; checks: Array<{ name: string; ok: boolean }>; target: string }>(['restore', '-r', repo, 'labelstudio@v1', '--to-postgres', pgUrl(target)]);
  assert.equal(restored.result.code, 0, restored.result.stderr);
  assert.deepEqual(restored.json.checks.map((c) => [c.name, c.ok]), [['rows public.annotations', true]]);
  const again = await runCli(['restore', '-r', repo, 'labelstudio@v1', '--to-postgres', pgUrl(target)]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists[\s\S]*add --clean/);
  assert.equal((await runCli(['restore', '-r', repo, 'labelstudio@v1', '--to-postgres', pgUrl(target), '--clean'])).code, 0);
  const usage = await runCli(['restore', '-r', repo, 'labelstudio@v1', '--to-postgres', pgUrl(target), '--target', dir]);
  assert.equal(usage.code, 2, 'two targets are a usage error');
  const asFile = await runCli(['restore', '-r', repo, 'labelstudio@v1', '--target', path.join(dir, 'files')]);
  assert.equal(asFile.code, 0, 'a dump restores as files too');
  assert.ok((await fs.readdir(path.join(dir, 'files'))).includes(`${db}.pgdump`));
});

test('cli: --stdin-from-command stores the output as one file; a failing command exits 1 and leaves no snapshot', async (t) => {
  const dir = await tempDir(t);
  const repo = await newRepo(dir);
  const failed = await runCliJson<{ error: { code: string; message: string } }>(['backup', '-r', repo, '--asset', 'etcd', '--stdin-from-command', 'echo partial; exit 4']);
  assert.equal(failed.result.code, 1);
  assert.equal(failed.json.error.code, 'SOURCE');
  assert.match(failed.json.error.message, /exited with code 4/);
  assert.deepEqual((await runCliJson<unknown[]>(['snapshots', '-r', repo])).json, []);
  const ok = await runCli(['backup', '-r', repo, '--asset', 'etcd', '--stdin-from-command', 'printf "snapshot bytes"', '--stdin-filename', 'etcd.db']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((await runCli(['restore', '-r', repo, 'etcd@v1', '--target', path.join(dir, 'out')])).code, 0);
  assert.equal(await fs.readFile(path.join(dir, 'out', 'etcd.db'), 'utf8'), 'snapshot bytes');
  const two = await runCli(['backup', '-r', repo, '--asset', 'x', '--sqlite', 'a.db', '--git', dir]);
  assert.equal(two.code, 2, 'two sources are a usage error');
});

test('cli: --git backs up every ref; --to-git brings them back', async (t) => {
  const dir = await tempDir(t);
  const repo = await newRepo(dir);
  const work = path.join(dir, 'train');
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' };
  execFileSync('sh', ['-c', `git init -q -b main ${work} && cd ${work} && echo a > f && git add f && git commit -qm one && git tag v1`], { env });
  assert.equal((await runCli(['backup', '-r', repo, '--asset', 'train-code', '--git', work])).code, 0);
  const back = path.join(dir, 'back');
  const r = await runCliJson<{ checks: Array<{ ok: boolean }> }>(['restore', '-r', repo, 'train-code@v1', '--to-git', back]);
  assert.equal(r.result.code, 0, r.result.stderr);
  assert.equal(execFileSync('git', ['-C', back, 'show-ref'], { encoding: 'utf8' }), execFileSync('git', ['-C', work, 'show-ref'], { encoding: 'utf8' }));
});

test('cli: a model version records its lineage; a missing dataset version is refused; versions, lineage, restore --with-lineage and copy follow it', async (t) => {
  const dir = await tempDir(t);
  const repo = await newRepo(dir);
  const data = path.join(dir, 'tickets');
  await fs.mkdir(data);
  await fs.writeFile(path.join(data, 'train.jsonl'), '{"text": "one"}\n');
  assert.equal((await runCli(['backup', '-r', repo, '--asset', 'support-tickets', data])).code, 0);
  await fs.appendFile(path.join(data, 'train.jsonl'), '{"text": "two"}\n');
  await fs.writeFile(path.join(data, 'eval.jsonl'), '{"text": "three"}\n');
  assert.equal((await runCli(['backup', '-r', repo, '--asset', 'support-tickets', data])).code, 0);
  const model = path.join(dir, 'model');
  await fs.mkdir(model);
  await fs.writeFile(path.join(model, 'adapter.bin'), 'weights');
  const refused = await runCliJson<{ error: { code: string; message: string } }>(['backup', '-r', repo, '--asset', 'llama-ft', model, '--lineage', 'dataset=support-tickets@v7']);
  assert.equal(refused.result.code, 1);
  assert.equal(refused.json.error.code, 'LINEAGE');
  assert.match(refused.json.error.message, /support-tickets has no version v7/);
  await fs.writeFile(path.join(dir, 'run.json'), JSON.stringify({ run: { info: { run_id: 'r-42', status: 'FINISHED' }, data: { params: [{ key: 'epochs', value: '3' }], metrics: [{ key: 'accuracy', value: 0.91, step: 1 }], tags: [] } } }));
  const backed = await runCliJson<{ assetVersion: number; lineage: { inputs: Array<Record<string, unknown>>; params: Record<string, string>; metrics: Record<string, number>; run: { id: string } } }>([
    'backup', '-r', repo, '--asset', 'llama-ft', model,
    '--lineage', 'dataset=support-tickets@v2', '--lineage', 'code=git:https://git.internal/ml/train.git@3f2a9c1',
    '--param', 'lr=2e-5', '--metric', 'eval_loss=1.23', '--lineage-file', path.join(dir, 'run.json'),
  ]);
  assert.equal(backed.result.code, 0, backed.result.stderr);
  const { lineage } = backed.json;
  assert.deepEqual(lineage.inputs.map((i) => [i.role, i.kind, i.asset ?? i.url, i.assetVersion ?? i.commit]), [['dataset', 'version', 'support-tickets', 2], ['code', 'git', 'https://git.internal/ml/train.git', '3f2a9c1']]);
  assert.deepEqual(lineage.params, { epochs: '3', lr: '2e-5' });
  assert.deepEqual(lineage.metrics, { accuracy: 0.91, eval_loss: 1.23 });
  assert.equal(lineage.run.id, 'r-42');

  const versions = await runCliJson<{ versions: Array<{ version: number; files: number; changes: { added: number; modified: number } | null }> }>(['versions', '-r', repo, 'support-tickets']);
  assert.deepEqual(versions.json.versions.map((v) => [v.version, v.files, v.changes && [v.changes.added, v.changes.modified]]), [[1, 1, null], [2, 2, [1, 1]]]);

  const graph = await runCliJson<{ restorable: boolean; inputs: Array<{ role: string; restorable?: boolean; version?: number }> }>(['lineage', '-r', repo, 'llama-ft@v1']);
  assert.equal(graph.json.restorable, true);
  assert.deepEqual(graph.json.inputs.map((i) => [i.role, i.version, i.restorable]), [['dataset', 2, true], ['code', undefined, undefined]]);

  const out = path.join(dir, 'recovered');
  const withLineage = await runCliJson<{ restored: Array<{ role: string | null; path: string }> }>(['restore', '-r', repo, 'llama-ft@v1', '--with-lineage', '--target', out]);
  assert.equal(withLineage.result.code, 0, withLineage.result.stderr);
  assert.equal(await fs.readFile(path.join(out, 'llama-ft@v1', 'adapter.bin'), 'utf8'), 'weights');
  assert.equal(await fs.readFile(path.join(out, 'lineage', 'dataset', 'support-tickets@v2', 'train.jsonl'), 'utf8'), '{"text": "one"}\n{"text": "two"}\n', 'exactly the dataset version the model names');
  assert.equal(JSON.parse(await fs.readFile(path.join(out, 'lineage.json'), 'utf8')).inputs[0].version, 2);

  const replica = path.join(dir, 'replica');
  const copied = await runCli(['copy', '-r', repo, '--to', replica, '--init', 'llama-ft@v1']);
  assert.equal(copied.code, 0, copied.stderr);
  const there = await runCliJson<Array<{ asset: string; assetVersion: number }>>(['snapshots', '-r', replica]);
  assert.deepEqual(there.json.map((s) => `${s.asset}@v${s.assetVersion}`).sort(), ['llama-ft@v1', 'support-tickets@v2'], 'the model came with the dataset version it names, and only that one');
  const remote = await runCliJson<{ inputs: Array<{ restorable?: boolean }> }>(['lineage', '-r', replica, 'llama-ft@v1']);
  assert.equal(remote.json.inputs[0].restorable, true, 'the lineage holds in the replica');
});
