/**
 * Lineage, the pure part: retention keeps the dataset versions a kept model version names (also
 * through a derived dataset), a copy's selection grows by them, references match across replicas by
 * asset, number and tree; and lineage files, lifeboat's own and MLflow run exports, are read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLineageFile, addFlags, emptyLineageRequest } from '../../src/control/lineage-input.js';
import { inputSnapshot, protectedByLineage, withLineageInputs, type VersionInput } from '../../src/control/lineage.js';
import type { StoredSnapshot } from '../../src/engine/snapshots.js';
import type { LineageInput } from '../../src/repo/snapshot.js';

function snap(id: string, asset: string, assetVersion: number, inputs: LineageInput[] = []): StoredSnapshot {
  return { id, snapshot: { asset, assetVersion, tree: `tree-${asset}-${assetVersion}`, time: `2026-01-0${assetVersion}`, lineage: inputs.length ? { inputs, params: {}, metrics: {} } : undefined } } as StoredSnapshot;
}
const uses = (role: string, asset: string, v: number): VersionInput => ({ role, kind: 'version', asset, assetVersion: v, snapshot: 'whatever', tree: `tree-${asset}-${v}` });

const raw = snap('raw1', 'raw-tickets', 1);
const curated = snap('cur3', 'support-tickets', 3, [uses('source', 'raw-tickets', 1)]);
const curated4 = snap('cur4', 'support-tickets', 4);
const model = snap('m7', 'llama-ft', 7, [uses('dataset', 'support-tickets', 3), { role: 'code', kind: 'git', url: 'https://git/x', commit: 'abc1' }]);
const oldModel = snap('m6', 'llama-ft', 6, [uses('dataset', 'support-tickets', 4)]);
const all = [raw, curated, curated4, oldModel, model];

test('protectedByLineage: what kept versions name stays, transitively, with the reason; nothing else', () => {
  const reasons = protectedByLineage(all, ['m7']);
  assert.deepEqual([...reasons.keys()].sort(), ['cur3', 'raw1']);
  assert.equal(reasons.get('cur3'), 'dataset of llama-ft@v7, which is kept');
  assert.equal(reasons.get('raw1'), 'source of support-tickets@v3, which is kept');
  assert.deepEqual([...protectedByLineage(all, ['m7', 'cur3']).keys()], ['raw1'], 'a version kept anyway is not listed again');
  assert.deepEqual([...protectedByLineage(all, ['cur4', 'raw1']).keys()], [], 'forgetting a model frees what only it named');
});

test('a reference matches by asset, number and tree, so it holds in a replica where snapshot ids differ', () => {
  const replicaCopy = { ...curated, id: 'other-id-in-the-replica' };
  assert.equal(inputSnapshot([replicaCopy], uses('dataset', 'support-tickets', 3))?.id, 'other-id-in-the-replica');
  assert.equal(inputSnapshot([{ ...curated, snapshot: { ...curated.snapshot, tree: 'another tree' } }], uses('dataset', 'support-tickets', 3)), undefined, 'another content under the same number is not it');
});

test('withLineageInputs: a copy of a model brings the versions it names, oldest first', () => {
  assert.deepEqual(withLineageInputs(all, [model]).map((s) => s.id), ['raw1', 'cur3', 'm7']);
  assert.deepEqual(withLineageInputs(all, [curated4]).map((s) => s.id), ['cur4']);
});

test('lineage files: lifeboat\'s form and an MLflow run export', () => {
  const own = parseLineageFile(JSON.stringify({ lineage: { dataset: 'support-tickets@v7', code: 'git:https://git.internal/ml/train.git@3f2a9c1' }, params: { lr: '2e-5' }, metrics: { eval_loss: 1.23 } }), 'run.json');
  assert.deepEqual(own.refs, [{ role: 'dataset', ref: 'support-tickets@v7' }, { role: 'code', ref: 'git:https://git.internal/ml/train.git@3f2a9c1' }]);
  assert.deepEqual(own.metrics, { eval_loss: 1.23 });
  const mlflow = {
    run: {
      info: { run_id: '5f1c', run_name: 'ft-7', experiment_id: '3', status: 'FINISHED', start_time: 1764662400000, end_time: 1764666000000 },
      data: {
        params: [{ key: 'lr', value: '2e-5' }, { key: 'epochs', value: '3' }],
        metrics: [{ key: 'eval_loss', value: 1.5, step: 0, timestamp: 1 }, { key: 'eval_loss', value: 1.23, step: 2, timestamp: 3 }],
        tags: [{ key: 'mlflow.source.git.commit', value: '3f2a9c1' }, { key: 'mlflow.source.git.repoURL', value: 'https://git.internal/ml/train.git' }, { key: 'lifeboat.lineage.dataset', value: 'support-tickets@v7' }],
      },
      inputs: { dataset_inputs: [{ dataset: { name: 'tickets', digest: 'e3b0c442' } }] },
    },
  };
  const r = parseLineageFile(JSON.stringify(mlflow), 'run.json');
  assert.deepEqual(r.params, { lr: '2e-5', epochs: '3' });
  assert.deepEqual(r.metrics, { eval_loss: 1.23 }, 'the last step of a metric');
  assert.deepEqual(r.refs, [
    { role: 'code', ref: 'git:https://git.internal/ml/train.git@3f2a9c1' },
    { role: 'dataset', ref: 'support-tickets@v7' },
    { role: 'mlflow-dataset', ref: 'mlflow-dataset://tickets@e3b0c442' },
  ]);
  assert.equal(r.run?.id, '5f1c');
  assert.equal(r.run?.start, '2025-12-02T08:00:00.000Z');
  assert.throws(() => parseLineageFile('{"nothing": 1}', 'x.json'), /names no lineage/);
  assert.throws(() => addFlags(emptyLineageRequest(), { metric: ['loss=low'] }), /metric loss must be a number/);
  assert.throws(() => addFlags(emptyLineageRequest(), { lineage: ['dataset'] }), /--lineage takes key=value/);
});
