/**
 * The PostgreSQL source against the real server: the conformance suite, a backup taken while
 * Label-Studio-like and MLflow-like writers keep committing (restored into a fresh database, the
 * invariants hold and the row counts are the backup's), and each way it fails: pg_dump killed
 * mid-dump, the server ending the dump's connection, a missing database, an unknown role, no
 * pg_dump, a pg_dump older than the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { openSnapshotReader } from '../../src/engine/snapshot-files.js';
import { postgresSource } from '../../src/sources/postgres.js';
import { systemRunner, type ProcessRunner } from '../../src/sources/process.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir, type TestContextLike } from '../helpers/tmp-dir.js';
import { context, killingRunner, sourceConformance } from './conformance.js';
import { dropPgDatabase, freshPgDatabase, pgClient, pgQuery, pgUrl, uniqueName } from './databases.js';
import { INVARIANT_QUERIES, labelStudioSchema, labelStudioWrite, mlflowSchema, mlflowWrite } from './schemas.js';

async function labelStudioDatabase(t: TestContextLike, tasks = 200): Promise<string> {
  const db = await freshPgDatabase(t, 'ls');
  for (const sql of labelStudioSchema('postgres')) await pgQuery(db, sql);
  await pgQuery(db, `INSERT INTO tasks (project_id, data) SELECT 1 + g % 3, jsonb_build_object('text', 'ticket ' || g || repeat(md5(g::text), 8)) FROM generate_series(1, ${tasks}) g`);
  await pgQuery(db, 'UPDATE projects p SET task_count = (SELECT count(*) FROM tasks t WHERE t.project_id = p.id)');
  return db;
}

async function tableDigest(db: string): Promise<string> {
  const [row] = await pgQuery<{ d: string }>(db, "SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS d FROM tasks t");
  return row.d;
}

/** pg_dump's version answer replaced, the real tool otherwise. */
function versionRunner(fake: string): ProcessRunner {
  return { spawn: (tool, args, o) => systemRunner.spawn(tool === 'pg_dump' && args[0] === '--version' ? 'echo' : tool, tool === 'pg_dump' && args[0] === '--version' ? [fake] : args, o) };
}

const SECRET = 'pg-secret-do-not-store-9f3b';

sourceConformance({
  adapter: postgresSource,
  async prepare(t) {
    const db = await labelStudioDatabase(t);
    const dir = await tempDir(t);
    const passwordFile = path.join(dir, 'pg.password');
    await fs.writeFile(passwordFile, SECRET + '\n');
    const digest = await tableDigest(db);
    return {
      config: { kind: 'postgres', url: pgUrl(db), passwordFile },
      secret: SECRET,
      async restoreTo(t2) {
        const target = uniqueName('restored');
        t2.after(() => dropPgDatabase(target));
        return { to: pgUrl(target) };
      },
      async checkRestored(outcome, request) {
        const target = new URL(request.to).pathname.slice(1);
        assert.equal(await tableDigest(target), digest, 'the restored tasks are the backed-up ones, JSONB included');
        assert.equal(outcome.kind, 'postgres');
      },
    };
  },
  async failures(t) {
    const db = await labelStudioDatabase(t, 60_000);
    const config = { kind: 'postgres' as const, url: pgUrl(db) };
    return [
      { name: 'pg_dump killed mid-dump', config, runner: killingRunner('pg_dump', 64 * 1024), code: 'SOURCE', message: /pg_dump was killed by SIGKILL/ },
      { name: 'missing database', config: { ...config, url: pgUrl('lbt_no_such_db') }, code: 'SOURCE_NOT_FOUND', message: /database "lbt_no_such_db" does not exist/ },
      { name: 'unknown role', config: { ...config, url: pgUrl(db, 'lbt_nobody') }, code: 'SOURCE_AUTH', message: /role "lbt_nobody" does not exist/ },
      { name: 'pg_dump missing', config, runner: { spawn: (tool, args, o) => ({ ...systemRunner.spawn(tool === 'pg_dump' ? 'lbt-no-pg_dump' : tool, args, o), tool }) }, code: 'SOURCE_TOOL_MISSING', message: /install the Debian package postgresql-client/ },
      { name: 'pg_dump older than the server', config, runner: versionRunner('pg_dump (PostgreSQL) 13.4'), code: 'SOURCE_TOOL_MISSING', message: /pg_dump 13 cannot dump PostgreSQL 15: install the Debian package postgresql-client-15/ },
    ];
  },
});

test('postgres: the server ending the dump\'s connection mid-dump leaves no snapshot', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const db = await labelStudioDatabase(t, 60_000);
  // When pg_dump has written its first bytes, the server terminates its backend (as a restart or failover would).
  const runner: ProcessRunner = {
    spawn(tool, args, o) {
      const child = systemRunner.spawn(tool, args, o);
      if (tool !== 'pg_dump' || args[0] === '--version') return child;
      let done = false;
      child.stdout.on('data', () => {
        if (done) return;
        done = true;
        void pgQuery('postgres', "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pg_dump'", [db]);
      });
      return child;
    },
  };
  await assert.rejects(postgresSource.backup(repo, { kind: 'postgres', url: pgUrl(db) }, { asset: 'ls' }, context({ runner, tmpDir: dir })), (err: Error & { code: string }) => {
    assert.equal(err.code, 'SOURCE');
    assert.match(err.message, /pg_dump exited with code 1: .*(terminating connection|server closed the connection|connection to server was lost|PQgetCopyData\(\) failed)/s);
    return true;
  });
  assert.deepEqual(await listSnapshots(repo), []);
});

async function writer(db: string, write: (i: number) => string[]): Promise<{ stop(): Promise<number>; committed(): number }> {
  const client = await pgClient(db);
  let stopped = false;
  let commits = 0;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      await client.query('BEGIN');
      for (const sql of write(i)) await client.query(sql);
      await client.query('COMMIT');
      commits++;
    }
  })();
  return {
    committed: () => commits,
    async stop() {
      stopped = true;
      await loop;
      await client.end();
      return commits;
    },
  };
}

test('postgres: a backup taken while Label Studio and MLflow writers commit restores into a fresh database with the invariants and the backup\'s row counts', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const db = await labelStudioDatabase(t, 20_000);
  for (const sql of mlflowSchema('postgres')) await pgQuery(db, sql);
  const writers = [await writer(db, (i) => labelStudioWrite('postgres', i)), await writer(db, (i) => mlflowWrite('postgres', i))];
  while (writers.some((w) => w.committed() < 20)) await new Promise((r) => setTimeout(r, 10));
  const before = writers.map((w) => w.committed());
  let result;
  try {
    result = await postgresSource.backup(repo, { kind: 'postgres', url: pgUrl(db) }, { asset: 'labelstudio', kind: 'annotations' }, context({ tmpDir: dir }));
  } finally {
    const during = (await Promise.all(writers.map((w) => w.stop()))).map((n, i) => n - before[i]);
    assert.ok(during.every((n) => n > 0), `both writers committed during the backup (${during.join(', ')} transactions)`);
  }
  const reader = await openSnapshotReader(repo, result.snapshotId);
  const manifest = JSON.parse((await reader.readBytes('manifest.json')).toString());
  await reader.close();
  assert.equal(manifest.pgDumpVersion.split('.')[0], manifest.serverVersion.split('.')[0]);
  const target = uniqueName('fresh');
  t.after(() => dropPgDatabase(target));
  const outcome = await postgresSource.restore(repo, 'labelstudio@v1', { to: pgUrl(target) }, context({ tmpDir: dir }));
  assert.ok(outcome.checks.every((c) => c.ok), JSON.stringify(outcome.checks));
  for (const sql of INVARIANT_QUERIES) assert.deepEqual(await pgQuery(target, sql), [], `invariant holds after restore: ${sql}`);
  for (const table of ['public.tasks', 'public.annotations', 'public.model_versions', 'public.metrics']) {
    const [{ n }] = await pgQuery<{ n: string }>(target, `SELECT count(*) AS n FROM ${table}`);
    assert.equal(Number(n), manifest.rows[table], `${table}: the restored rows are the backup's`);
  }
  const [{ n: live }] = await pgQuery<{ n: string }>(db, 'SELECT count(*) AS n FROM public.annotations');
  assert.ok(Number(live) > manifest.rows['public.annotations'], 'the writer went on after the dump\'s snapshot');
  // Restoring over the same database again needs --clean, and then gives the same state.
  await assert.rejects(postgresSource.restore(repo, 'labelstudio@v1', { to: pgUrl(target) }, context({ tmpDir: dir })), /add --clean/);
  const again = await postgresSource.restore(repo, 'labelstudio@v1', { to: pgUrl(target), clean: true }, context({ tmpDir: dir }));
  assert.ok(again.checks.every((c) => c.ok));
});

test('postgres: the password reaches pg_dump through a pgpass file, never its command line', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const db = await labelStudioDatabase(t, 10);
  const seen: Array<{ args: string[]; passfile?: string; content?: string }> = [];
  const runner: ProcessRunner = {
    spawn(tool, args, o) {
      const passfile = o?.env?.PGPASSFILE;
      if (tool === 'pg_dump' && args[0] !== '--version') seen.push({ args, passfile, content: passfile ? String(require_('fs').readFileSync(passfile)) : undefined });
      return systemRunner.spawn(tool, args, o);
    },
  };
  await postgresSource.backup(repo, { kind: 'postgres', url: `postgres://postgres:p%40ss:word@127.0.0.1:5432/${db}` }, { asset: 'x' }, context({ runner, tmpDir: dir }));
  assert.equal(seen.length, 1);
  assert.ok(!seen[0].args.join(' ').includes('p@ss'), 'no password in argv');
  assert.equal(seen[0].content, '*:*:*:*:p@ss\\:word\n', 'the pgpass line, with ":" escaped');
  await assert.rejects(fs.access(seen[0].passfile!), 'the pgpass file is removed afterwards');
  const [snap] = await listSnapshots(repo);
  assert.ok(!JSON.stringify(snap.snapshot).includes('p@ss'));
});

import { createRequire } from 'node:module';
const require_ = createRequire(import.meta.url);
void pg;
