/**
 * The MariaDB/MySQL source against the real MariaDB: the conformance suite, a backup taken while
 * Label-Studio-like and MLflow-like writers commit (restored into a fresh database: invariants and
 * the dump's row counts hold), and its failures: the dump killed, its connection killed by the
 * server, a missing database, a wrong password, no dump tool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { openSnapshotReader } from '../../src/engine/snapshot-files.js';
import { mysqlSource } from '../../src/sources/mysql.js';
import { systemRunner, type ProcessRunner } from '../../src/sources/process.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir, type TestContextLike } from '../helpers/tmp-dir.js';
import { context, killingRunner, sourceConformance } from './conformance.js';
import { freshMysqlDatabase, MARIADB, mysqlQuery, mysqlUrl, uniqueName } from './databases.js';
import { INVARIANT_QUERIES, labelStudioSchema, labelStudioWrite, mlflowSchema, mlflowWrite } from './schemas.js';

async function labelStudioDatabase(t: TestContextLike, tasks = 200): Promise<string> {
  const db = await freshMysqlDatabase(t, 'ls');
  await mysqlQuery(labelStudioSchema('mysql').join(';\n'), db);
  // A recursive CTE makes the rows on the server, in one statement.
  await mysqlQuery(
    `SET SESSION max_recursive_iterations = 1000000; INSERT INTO tasks (project_id, data) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${tasks}) ` +
      `SELECT 1 + n % 3, JSON_OBJECT('text', CONCAT('ticket ', n, ' it''s "quoted" (and; tricky)', REPEAT(MD5(n), 8))) FROM g; ` +
      'UPDATE projects p SET task_count = (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id)',
    db,
  );
  return db;
}

const digest = async (db: string) => (await mysqlQuery("SELECT MD5(GROUP_CONCAT(id, ':', data ORDER BY id SEPARATOR ',')) FROM tasks", db))[0][0];

const SECRET = 'my-Secret_pw-7c1e';

sourceConformance({
  adapter: mysqlSource,
  async prepare(t) {
    const db = await labelStudioDatabase(t);
    const user = uniqueName('u');
    await mysqlQuery(`CREATE USER '${user}'@'%' IDENTIFIED BY '${SECRET}'; GRANT ALL ON *.* TO '${user}'@'%'`);
    t.after(async () => {
      await mysqlQuery(`DROP USER IF EXISTS '${user}'@'%'`);
    });
    const dir = await tempDir(t);
    const passwordFile = path.join(dir, 'my.password');
    await fs.writeFile(passwordFile, SECRET + '\n');
    const before = await digest(db);
    return {
      config: { kind: 'mysql', url: mysqlUrl(db, user), passwordFile },
      secret: SECRET,
      async restoreTo(t2) {
        const target = uniqueName('restored');
        t2.after(async () => {
          await mysqlQuery(`DROP DATABASE IF EXISTS ${target}`);
        });
        return { to: mysqlUrl(target) };
      },
      async checkRestored(_outcome, request) {
        assert.equal(await digest(new URL(request.to).pathname.slice(1)), before, 'the restored tasks are the backed-up ones, JSON included');
      },
    };
  },
  async failures(t) {
    const db = await labelStudioDatabase(t, 60_000);
    const user = uniqueName('w');
    await mysqlQuery(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right-one'`);
    t.after(async () => {
      await mysqlQuery(`DROP USER IF EXISTS '${user}'@'%'`);
    });
    const config = { kind: 'mysql' as const, url: mysqlUrl(db) };
    const missing: ProcessRunner = { spawn: (tool, args, o) => ({ ...systemRunner.spawn(/dump$/.test(tool) ? 'lbt-no-dump' : tool, args, o), tool }) };
    return [
      { name: 'dump killed', config, runner: killingRunner('mariadb-dump', 64 * 1024), code: 'SOURCE', message: /mariadb-dump was killed by SIGKILL/ },
      { name: 'missing database', config: { ...config, url: mysqlUrl('lbt_no_such_db') }, code: 'SOURCE_NOT_FOUND', message: /no database "lbt_no_such_db"/ },
      { name: 'wrong password', config: { ...config, url: `mysql://${user}:wrong@${MARIADB.host}:${MARIADB.port}/${db}` }, code: 'SOURCE_AUTH', message: /Access denied for user/ },
      { name: 'no dump tool', config, runner: missing, code: 'SOURCE_TOOL_MISSING', message: /mysqldump is not installed.*install the Debian package/ },
    ];
  },
});

test('mysql: the server killing the dump\'s connection mid-dump leaves no snapshot', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const db = await labelStudioDatabase(t, 60_000);
  const runner: ProcessRunner = {
    spawn(tool, args, o) {
      const child = systemRunner.spawn(tool, args, o);
      if (tool !== 'mariadb-dump' || args.includes('--version')) return child;
      let done = false;
      child.stdout.on('data', () => {
        if (done) return;
        done = true;
        void mysqlQuery(`SELECT CONCAT('KILL ', id) FROM information_schema.PROCESSLIST WHERE DB = '${db}' AND COMMAND <> 'Sleep' OR (DB = '${db}' AND INFO LIKE 'SELECT /*!40001 SQL_NO_CACHE */%')`).then(async (rows) => {
          for (const [kill] of rows) await mysqlQuery(kill).catch(() => {});
        });
      });
      return child;
    },
  };
  await assert.rejects(mysqlSource.backup(repo, { kind: 'mysql', url: mysqlUrl(db) }, { asset: 'ls' }, context({ runner, tmpDir: dir })), (err: Error & { code: string }) => {
    assert.equal(err.code, 'SOURCE');
    assert.match(err.message, /mariadb-dump exited with code \d+: .*(Lost connection|server has gone away|Error 2013|query execution was interrupted|Error 1927|Connection was killed)/is);
    return true;
  });
  assert.deepEqual(await listSnapshots(repo), []);
});

/** A writer in its own client process, committing transactions in a loop until stopped. */
function writer(db: string, write: (i: number) => string[]): { committed(): number; stop(): Promise<number> } {
  const child = spawn('mariadb', ['-h', MARIADB.host, '-P', String(MARIADB.port), '-u', MARIADB.user, '--protocol=TCP', '--batch', '--skip-column-names', db], { stdio: ['pipe', 'pipe', 'inherit'] });
  let commits = 0;
  let stopped = false;
  let i = 0;
  child.stdout.setEncoding('utf8').on('data', (s: string) => (commits += (s.match(/committed/g) ?? []).length));
  const pump = () => {
    while (!stopped && child.stdin.writableLength < 65536) {
      child.stdin.write(['START TRANSACTION', ...write(i++), 'COMMIT', "SELECT 'committed'"].join(';\n') + ';\n');
    }
    if (!stopped) setTimeout(pump, 5);
  };
  pump();
  return {
    committed: () => commits,
    async stop() {
      stopped = true;
      child.stdin.end();
      await new Promise((r) => child.on('close', r));
      return commits;
    },
  };
}

test('mysql: a backup taken while Label Studio and MLflow writers commit restores into a fresh database with the invariants and the dump\'s row counts', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const db = await labelStudioDatabase(t, 20_000);
  await mysqlQuery(mlflowSchema('mysql').join(';\n'), db);
  const writers = [writer(db, (i) => labelStudioWrite('mysql', i)), writer(db, (i) => mlflowWrite('mysql', i))];
  while (writers.some((w) => w.committed() < 20)) await new Promise((r) => setTimeout(r, 10));
  const before = writers.map((w) => w.committed());
  let result;
  try {
    result = await mysqlSource.backup(repo, { kind: 'mysql', url: mysqlUrl(db) }, { asset: 'mlflow', kind: 'registry' }, context({ tmpDir: dir }));
  } finally {
    const during = (await Promise.all(writers.map((w) => w.stop()))).map((n, i) => n - before[i]);
    assert.ok(during.every((n) => n > 0), `both writers committed during the backup (${during.join(', ')} transactions)`);
  }
  const reader = await openSnapshotReader(repo, result.snapshotId);
  const manifest = JSON.parse((await reader.readBytes('manifest.json')).toString());
  await reader.close();
  assert.equal(manifest.dumpTool, 'mariadb-dump');
  const target = uniqueName('fresh');
  t.after(async () => {
    await mysqlQuery(`DROP DATABASE IF EXISTS ${target}`);
  });
  const outcome = await mysqlSource.restore(repo, 'mlflow@v1', { to: mysqlUrl(target) }, context({ tmpDir: dir }));
  assert.ok(outcome.checks.every((c) => c.ok), JSON.stringify(outcome.checks));
  for (const sql of INVARIANT_QUERIES) assert.deepEqual(await mysqlQuery(sql, target), [], `invariant holds after restore: ${sql}`);
  for (const table of ['tasks', 'annotations', 'model_versions', 'metrics', 'params']) {
    const [[n]] = await mysqlQuery(`SELECT COUNT(*) FROM ${table}`, target);
    assert.equal(Number(n), manifest.rows[table], `${table}: the restored rows are the dump's`);
  }
  const [[live]] = await mysqlQuery('SELECT COUNT(*) FROM annotations', db);
  assert.ok(Number(live) > manifest.rows.annotations, 'the writer went on after the dump\'s snapshot');
  await assert.rejects(mysqlSource.restore(repo, 'mlflow@v1', { to: mysqlUrl(target) }, context({ tmpDir: dir })), /add --clean/);
  assert.ok((await mysqlSource.restore(repo, 'mlflow@v1', { to: mysqlUrl(target), clean: true }, context({ tmpDir: dir }))).checks.every((c) => c.ok));
});
