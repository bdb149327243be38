/**
 * The `source:` forms of lifeboat.yaml: each kind parses into its normalised shape (relative paths
 * from the file's folder), a mistake is reported at its line, and people see no password.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { readConfigFile } from '../../src/control/config-file.js';
import { planOf } from '../../src/control/plan.js';
import { describeSource, sourcePaths } from '../../src/sources/config.js';
import { tempDir } from '../helpers/tmp-dir.js';

const HEAD = `repositories:
  primary: { url: /srv/repo, role: primary }
  dr: { url: /srv/dr, role: replica }
assets:
`;

async function plan(dir: string, assets: string) {
  const file = path.join(dir, 'lifeboat.yaml');
  await fs.writeFile(file, HEAD + assets);
  return planOf(await readConfigFile(file, ''));
}

test('every source form parses into its kind, relative paths taken from the file\'s folder', async (t) => {
  const dir = await tempDir(t);
  const p = await plan(dir, `  ls-db: { kind: annotations, tier: 1, source: { postgres: { url: "postgres://ls@db:5432/labelstudio", password_file: secrets/ls } } }
  mlflow-db: { kind: registry, tier: 1, source: { mysql: { url: "mysql://mlflow@db/mlflow" } } }
  ls-sqlite: { kind: annotations, tier: 1, source: { sqlite: { path: data/label_studio.sqlite3 } } }
  train-code: { kind: code, tier: 2, source: { git: { url: "https://git.internal/ml/train.git" } } }
  artifacts: { kind: model, tier: 1, source: { s3: { url: "s3://mlflow-artifacts/", endpoint: "http://rgw:7480", versions: true } } }
  etcd: { kind: config, tier: 2, source: { command: { run: "etcdctl snapshot save /dev/stdout", filename: etcd.db } } }
`);
  const by = Object.fromEntries(p.assets.map((a) => [a.name, a.source]));
  assert.deepEqual(by['ls-db'], { kind: 'postgres', url: 'postgres://ls@db:5432/labelstudio', passwordFile: path.join(dir, 'secrets/ls') });
  assert.deepEqual(by['ls-sqlite'], { kind: 'sqlite', path: path.join(dir, 'data/label_studio.sqlite3') });
  assert.deepEqual(by['artifacts'], { kind: 's3', url: 's3://mlflow-artifacts/', endpoint: 'http://rgw:7480', profile: undefined, region: undefined, versions: true });
  assert.deepEqual(by['etcd'], { kind: 'command', run: 'etcdctl snapshot save /dev/stdout', filename: 'etcd.db' });
  assert.deepEqual(sourcePaths(by['ls-sqlite']!), [path.join(dir, 'data/label_studio.sqlite3')]);
  assert.deepEqual(sourcePaths(by['ls-db']!), []);
});

test('a wrong source is reported at its line; a password in a URL is never shown', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(
    plan(dir, `  a:
    kind: annotations
    tier: 1
    source:
      postgres:
        url: "mysql://x@db/y"
  b:
    kind: code
    tier: 2
    source: { git: { path: a, url: b } }
  c:
    kind: config
    tier: 2
    source: { command: { run: x, filenam: y } }
`),
    (err: Error) => {
      assert.match(err.message, /lifeboat.yaml:10: assets.a.source.postgres.url: must be a postgres:\/\/USER@HOST:PORT\/DATABASE URL/);
      assert.match(err.message, /lifeboat.yaml:14: assets.b.source.git: give exactly one of path/);
      assert.match(err.message, /lifeboat.yaml:18: assets.c.source.command.filenam: Unrecognized key/);
      return true;
    },
  );
  assert.equal(describeSource({ kind: 'postgres', url: 'postgres://ls:hunter2@db/labelstudio' }), 'postgres://ls@db/labelstudio');
});
