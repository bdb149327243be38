/**
 * The SQLite source: the conformance suite, and a backup taken while another process keeps
 * committing Label-Studio-like transactions: the copy is one consistent state (invariants hold,
 * integrity_check passes) with the row counts the manifest recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { openSnapshotReader } from '../../src/engine/snapshot-files.js';
import { sqliteSource } from '../../src/sources/sqlite.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir, type TestContextLike } from '../helpers/tmp-dir.js';
import { context, sourceConformance } from './conformance.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof BetterSqlite3;

const SCHEMA = `
  CREATE TABLE projects (id INTEGER PRIMARY KEY, title TEXT NOT NULL, task_count INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE tasks (id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id), data TEXT NOT NULL, total_annotations INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE annotations (id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL REFERENCES tasks(id), result TEXT NOT NULL);
  INSERT INTO projects (title) VALUES ('support-tickets'), ('intents'), ('ner');`;

/** The writer another process runs: a task, its annotation and both counters per transaction, until killed. */
const WRITER = `
  const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
  const db = new Database(process.argv[1], { timeout: 30000 });
  const write = db.transaction((i) => {
    const p = 1 + (i % 3);
    const task = db.prepare('INSERT INTO tasks (project_id, data, total_annotations) VALUES (?, ?, 1)').run(p, JSON.stringify({ text: 'ticket ' + i + ' ' + 'x'.repeat(200) })).lastInsertRowid;
    db.prepare('INSERT INTO annotations (task_id, result) VALUES (?, ?)').run(task, '[{"choices":["urgent"]}]');
    db.prepare('UPDATE projects SET task_count = task_count + 1 WHERE id = ?').run(p);
  });
  for (let i = 0; ; i++) { write(i); if (i % 20 === 0) process.stdout.write('.'); }`;

const INVARIANTS = [
  'SELECT p.id FROM projects p WHERE p.task_count <> (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id)',
  'SELECT t.id FROM tasks t WHERE t.total_annotations <> (SELECT COUNT(*) FROM annotations a WHERE a.task_id = t.id)',
];

async function labelStudioFile(t: TestContextLike, tasks: number, wal = true): Promise<string> {
  const dir = await tempDir(t);
  const file = path.join(dir, 'label_studio.sqlite3');
  const db = new Database(file);
  if (wal) db.pragma('journal_mode = WAL');
  db.exec(SCHEMA);
  const insert = db.prepare('INSERT INTO tasks (project_id, data) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < tasks; i++) insert.run(1 + (i % 3), JSON.stringify({ text: `ticket ${i}`, pad: 'y'.repeat(300) }));
  })();
  db.exec('UPDATE projects SET task_count = (SELECT COUNT(*) FROM tasks t WHERE t.project_id = projects.id)');
  db.close();
  return file;
}

const rowsOf = (file: string, sql: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
};

sourceConformance({
  adapter: sqliteSource,
  async prepare(t) {
    const file = await labelStudioFile(t, 2000);
    const before = rowsOf(file, 'SELECT * FROM tasks ORDER BY id');
    return {
      config: { kind: 'sqlite', path: file },
      restoreTo: async (t2) => ({ to: await tempDir(t2) }),
      async checkRestored(outcome, request) {
        assert.equal(outcome.target, path.join(request.to, 'label_studio.sqlite3'));
        assert.deepEqual(rowsOf(outcome.target, 'SELECT * FROM tasks ORDER BY id'), before);
      },
    };
  },
  async failures(t) {
    const dir = await tempDir(t);
    const garbage = path.join(dir, 'not-a.sqlite3');
    await fs.writeFile(garbage, Buffer.alloc(8192, 7));
    return [
      { name: 'missing file', config: { kind: 'sqlite', path: path.join(dir, 'missing.sqlite3') }, code: 'SOURCE_NOT_FOUND', message: /does not exist/ },
      { name: 'not a database', config: { kind: 'sqlite', path: garbage }, code: 'SOURCE', message: /not a database/ },
    ];
  },
});

for (const wal of [true, false]) {
  test(`sqlite: a backup while another process commits (${wal ? 'WAL' : 'rollback journal'}) is one consistent state with the recorded counts`, async (t) => {
    const dir = await tempDir(t);
    const repo = await createRepo(path.join(dir, 'repo'));
    const file = await labelStudioFile(t, 20_000, wal);
    const child = spawn(process.execPath, ['-e', WRITER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let ticks = 0;
    child.stdout.on('data', (b: Buffer) => (ticks += b.length));
    try {
      while (ticks < 5) await new Promise((r) => setTimeout(r, 10));
      const before = ticks;
      const { snapshotId } = await sqliteSource.backup(repo, { kind: 'sqlite', path: file }, { asset: 'labelstudio' }, context({ tmpDir: dir }));
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(ticks > before, 'the writer kept committing while the backup ran');
      const reader = await openSnapshotReader(repo, snapshotId);
      const manifest = JSON.parse((await reader.readBytes('manifest.json')).toString());
      await reader.close();
      assert.equal(manifest.integrity, 'ok');
      const target = await tempDir(t);
      const outcome = await sqliteSource.restore(repo, snapshotId, { to: target }, context({ tmpDir: dir }));
      assert.ok(outcome.checks.every((c) => c.ok), JSON.stringify(outcome.checks));
      for (const sql of INVARIANTS) assert.deepEqual(rowsOf(outcome.target, sql), [], sql);
      const [{ n }] = rowsOf(outcome.target, 'SELECT COUNT(*) AS n FROM annotations') as Array<{ n: number }>;
      assert.equal(n, manifest.rows.annotations);
      assert.ok(n > 0, 'the copy holds the writer\'s work up to its moment');
    } finally {
      child.kill('SIGKILL');
    }
  });
}
