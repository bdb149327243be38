/**
 * A database asset drilled for real: Label Studio's PostgreSQL is backed up from lifeboat.yaml,
 * and `lifeboat drill` restores it into a scratch database, verifies the row counts recorded at
 * backup and the archive, and reports the RTO met; a drill that would restore over the asset's
 * own database is refused by validate and by the drill itself, touching nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { runCli, runCliJson } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp-dir.js';
import { dropPgDatabase, freshPgDatabase, pgQuery, pgUrl, uniqueName } from '../sources/databases.js';
import { labelStudioSchema } from '../sources/schemas.js';

test('drill of a PostgreSQL asset into a scratch database: row counts verified, RTO met; over its own database: refused', async (t) => {
  const dir = await tempDir(t);
  const db = await freshPgDatabase(t, 'lsdrill');
  for (const sql of labelStudioSchema('postgres')) await pgQuery(db, sql);
  await pgQuery(db, "INSERT INTO tasks (project_id, data) SELECT 1 + g % 3, jsonb_build_object('text', 'ticket ' || g) FROM generate_series(1, 300) g");
  const scratch = uniqueName('lsscratch');
  t.after(() => dropPgDatabase(scratch));
  const yaml = (target: string) =>
    [
      'repositories:',
      '  primary: { url: ./repo, role: primary }',
      'runbooks:',
      '  restore-db:',
      '    steps:',
      `      - restore: { target: "${pgUrl(db)}" }`,
      '      - verify: {}',
      `    drill: { restore: { target: "${target}" } }`,
      'assets:',
      `  label-studio: { kind: annotations, tier: 1, source: { postgres: { url: "${pgUrl(db)}" } }, runbook: restore-db }`,
      '',
    ].join('\n');
  await fs.writeFile(path.join(dir, 'lifeboat.yaml'), yaml(pgUrl(scratch)));
  const env = { LIFEBOAT_REPOSITORY: undefined, LIFEBOAT_STATE_DIR: path.join(dir, 'state') };
  const cli = (args: string[]) => runCli(args, { cwd: dir, env });
  assert.equal((await cli(['init'])).code, 0);
  const backed = await cli(['backup', '--asset', 'label-studio']);
  assert.equal(backed.code, 0, backed.stderr);

  const drill = await runCliJson<{ verdict: string; steps: Array<{ kind: string; status: string; output_tail: string; error: string | null }> }>(['drill', '--asset', 'label-studio'], { cwd: dir, env });
  assert.equal(drill.result.code, 0, drill.result.stderr + JSON.stringify(drill.json));
  assert.equal(drill.json.verdict, 'met');
  assert.deepEqual(drill.json.steps.map((s) => [s.kind, s.status]), [['restore', 'ok'], ['verify', 'ok']]);
  const [{ n }] = await pgQuery<{ n: string }>(scratch, 'SELECT count(*)::text AS n FROM tasks');
  assert.equal(n, '300', 'the scratch database holds the backup');

  await fs.writeFile(path.join(dir, 'lifeboat.yaml'), yaml(pgUrl(db)));
  const validate = await cli(['validate']);
  assert.equal(validate.code, 2);
  assert.match(validate.stdout, /would restore into postgres:\/\/127\.0\.0\.1:5432\/.*its own source/);
  await pgQuery(db, "INSERT INTO tasks (project_id, data) VALUES (1, '{\"text\": \"written after the backup\"}')");
  const unsafe = await cli(['drill', '--asset', 'label-studio']);
  assert.notEqual(unsafe.code, 0);
  const [{ m }] = await pgQuery<{ m: string }>(db, 'SELECT count(*)::text AS m FROM tasks');
  assert.equal(m, '301', 'the production database was not touched');
});
