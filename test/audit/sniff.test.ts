/**
 * Sniffing: a name says what to look for, a few bytes decide. Every format from its magic bytes;
 * the same name with other bytes is a decoy; names that promise nothing are not read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectationOf, servingArgsOf, sniff } from '../../src/control/audit/sniff.js';
import { classifySqlite, tablesInHead } from '../../src/control/audit/sqlite-kind.js';
import { remoteOf } from '../../src/control/audit/git-remote.js';
import { buildGguf, buildSafetensors } from '../repo/tensor-fixtures.js';

const b = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

test('each format is recognised by its first (and last) bytes, and the same name with other bytes is a decoy', () => {
  const st = buildSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: new Uint8Array(8) }]);
  const gguf = buildGguf([{ name: 't', ggmlType: 0, dims: [2], data: new Uint8Array(8) }]);
  const cases: Array<[string, Uint8Array, Uint8Array | undefined, string]> = [
    ['model.safetensors', st, undefined, 'safetensors'],
    ['m.gguf', gguf, undefined, 'gguf'],
    ['ckpt.pt', b([0x50, 0x4b, 0x03, 0x04]), undefined, 'pytorch-zip'],
    ['pytorch_model.bin', b([0x80, 0x02, 0x8a, 0x0a]), undefined, 'pytorch-pickle'],
    ['model.onnx', b([0x08, 0x07, 0x12, 0x07], 'pytorch'), undefined, 'onnx'],
    ['train.jsonl', b('{"a": 1}\n{"a": 2}\n'), undefined, 'jsonl'],
    ['data.parquet', b('PAR1', [0, 0, 0, 0, 0, 0, 0, 0]), b([1, 2, 3, 4], 'PAR1'), 'parquet'],
    ['data.arrow', b([0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0], [0, 0, 0, 0]), undefined, 'arrow'],
    ['labels.csv', b('path,label\na.jpg,cat\n'), undefined, 'csv'],
    ['cat.png', b([0x89], 'PNG\r\n'), undefined, 'image'],
    ['cat.jpg', b([0xff, 0xd8, 0xff, 0xe0]), undefined, 'image'],
    ['label_studio.sqlite3', b('SQLite format 3\0', [0x10, 0]), undefined, 'sqlite'],
    ['vllm.yaml', b('model: x\ntensor-parallel-size: 2\n'), undefined, 'vllm-args'],
    ['tgi.env', b('MODEL_ID=x\nMAX_INPUT_LENGTH=4096\n'), undefined, 'tgi-args'],
    ['server.args', b('-m /models/q4.gguf --n-gpu-layers 99 --ctx-size 8192\n'), undefined, 'llama.cpp-args'],
    ['chat.jinja', b('{% for m in messages %}{{ m.content }}{% endfor %}'), undefined, 'prompt-template'],
  ];
  for (const [name, head, tail, format] of cases) {
    assert.deepEqual(sniff(name, Math.max(head.length, 64), head, tail ?? head.subarray(-8)), { format }, name);
  }
  const decoys: Array<[string, Uint8Array, Uint8Array?]> = [
    ['model.safetensors', b('not a model at all, just text')],
    ['model.safetensors', b([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], '{')], // a header longer than the file
    ['m.gguf', b('GGUF', [9, 0, 0, 0])], // no such version
    ['ckpt.pt', b('plain text')],
    ['train.jsonl', b([0, 1, 2, 3, 4])],
    ['train.jsonl', b('no json here\n')],
    ['data.parquet', b('PAR1 but the end is missing'), b('xxxxxxxx')],
    ['cat.png', b('GIF? no')],
    ['chat.jinja', b('no template markers')],
  ];
  for (const [name, head, tail] of decoys) assert.ok(sniff(name, 64, head, tail ?? head) && 'decoy' in sniff(name, 64, head, tail ?? head)!, `${name}: ${Buffer.from(head).toString('latin1')}`);
  assert.equal(sniff('notes.yaml', 64, b('just: yaml\n')), undefined, 'a YAML file that configures no server is no decoy');
  assert.equal(expectationOf('README.md', 10), undefined, 'names that promise nothing are not read');
  assert.equal(expectationOf('huge.yaml', 10 << 20), undefined, 'text configurations are sniffed only when small');
});

test('databases by their tables, git remotes without credentials, serving flags', () => {
  assert.equal(classifySqlite(['project', 'task', 'task_completion', 'htx_user']), 'label-studio');
  assert.equal(classifySqlite(['experiments', 'runs', 'metrics', 'params', 'alembic_version']), 'mlflow');
  assert.equal(classifySqlite(['task', 'todo']), undefined);
  assert.deepEqual(tablesInHead(b('SQLite format 3\0...CREATE TABLE "task" (id)...CREATE TABLE IF NOT EXISTS project(x)')), ['task', 'project']);
  const config = '[core]\n\tbare = false\n[remote "backup"]\n\turl = /srv/git/x.git\n[remote "origin"]\n\turl = https://ci:s3cret-token@git.internal/ml/deploy.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n';
  assert.equal(remoteOf(config), 'https://git.internal/ml/deploy.git', 'origin first, its token removed');
  assert.equal(remoteOf('[core]\n\tbare = false\n'), undefined);
  assert.equal(servingArgsOf('--max-model-len 4096'), 'vllm-args');
  assert.equal(servingArgsOf('{"max_position_embeddings": 4096}'), undefined, "a model's config.json is no serving configuration");
});
