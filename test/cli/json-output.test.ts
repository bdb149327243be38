/**
 * --json: every command prints exactly one JSON document on stdout (nothing else; notes and
 * progress go to stderr) with the field names documented in docs/cli.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runCliJson } from '../helpers/cli.js';
import { listIds } from '../../src/repo/repository.js';
import { writeRandomFile } from '../helpers/files.js';
import { openTestStorage } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const HEX64 = /^[0-9a-f]{64}$/;

function hasFields(value: unknown, fields: Record<string, string>, what: string): void {
  assert.equal(typeof value, 'object', what);
  for (const [name, type] of Object.entries(fields)) {
    const v = (value as Record<string, unknown>)[name];
    assert.equal(Array.isArray(v) ? 'array' : typeof v, type, `${what}.${name}`);
  }
}

const SUMMARY = { files: 'number', dirs: 'number', totalBytes: 'number', readBytes: 'number', newBlobs: 'number', newRawBytes: 'number', newStoredBytes: 'number', durationMs: 'number' };
const SNAPSHOT = { id: 'string', version: 'number', time: 'string', asset: 'string', hostname: 'string', username: 'string', paths: 'array', tree: 'string', tags: 'array', meta: 'object', summary: 'object', incomplete: 'array', program: 'string' };

test('init --json names the repository, its id, the key and the format version', async (t) => {
  const dir = await tempDir(t);
  const repoDir = path.join(dir, 'repo');
  const { result, json } = await runCliJson<Record<string, unknown>>(['init', '-r', repoUrl(repoDir)]);
  assert.equal(result.code, 0, result.stderr);
  hasFields(json, { repository: 'string', id: 'string', keyId: 'string', version: 'number' }, 'init');
  assert.equal(json.repository, repoUrl(repoDir));
  assert.match(json.keyId as string, HEX64);
  assert.equal(json.version, 1);
  assert.deepEqual(await listIds(await openTestStorage(repoDir), 'key'), [json.keyId]);
});

test('every other command prints one JSON document with the documented fields', async (t) => {
  const dir = await tempDir(t);
  const repoDir = path.join(dir, 'repo');
  const src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await writeRandomFile(path.join(src, 'weights.bin'), 1024 * 1024, 'w');
  await fs.writeFile(path.join(src, 'sub/notes.txt'), 'v1\n');
  await fs.symlink('weights.bin', path.join(src, 'current'));
  const env = { LIFEBOAT_REPOSITORY: repoUrl(repoDir) };
  const run = async <T>(args: string[], expectCode = 0) => {
    const { result, json } = await runCliJson<T>(args, { env });
    assert.equal(result.code, expectCode, `${args.join(' ')}: ${result.stderr}`);
    return json;
  };

  // Created with a cheap key derivation: the CLI's default makes every command pay ~0.3 s.
  const repo = await createRepo(repoDir);

  const first = await run<Record<string, unknown>>(['backup', '--asset', 'llama-ft', '--tag', 'nightly', '--meta', 'step=1000', '--tier', '1', src]);
  hasFields(first, SNAPSHOT, 'backup');
  hasFields(first.summary, SUMMARY, 'backup.summary');
  assert.deepEqual([first.asset, first.tags, first.meta, first.tier], ['llama-ft', ['nightly'], { step: '1000' }, 1]);
  await fs.writeFile(path.join(src, 'sub/notes.txt'), 'v2, longer\n');
  await fs.writeFile(path.join(src, 'sub/added.txt'), 'new\n');
  const second = await run<Record<string, unknown>>(['backup', '--asset', 'llama-ft', src]);
  assert.equal(second.parent, first.id);
  await run(['backup', '--asset', 'other', path.join(src, 'sub')]);

  const all = await run<Array<Record<string, unknown>>>(['snapshots']);
  assert.equal(all.length, 3);
  all.forEach((s, i) => hasFields(s, SNAPSHOT, `snapshots[${i}]`));
  assert.deepEqual(all.map((s) => s.id).slice(0, 2), [first.id, second.id], 'oldest first');
  const only = await run<Array<Record<string, unknown>>>(['snapshots', '--asset', 'other']);
  assert.deepEqual(only.map((s) => s.asset), ['other']);

  const ls = await run<{ snapshot: string; entries: Array<Record<string, unknown>> }>(['ls', 'llama-ft@latest']);
  assert.equal(ls.snapshot, second.id);
  assert.deepEqual(ls.entries.map((e) => `${e.type} ${e.path}`), ['symlink current', 'dir sub', 'file sub/added.txt', 'file sub/notes.txt', 'file weights.bin']);
  for (const e of ls.entries) hasFields(e, { path: 'string', type: 'string', size: 'number', mode: 'number', mtime: 'string' }, `ls ${e.path}`);
  const weights = ls.entries.find((e) => e.path === 'weights.bin')!;
  assert.equal(weights.size, 1024 * 1024);
  assert.match(weights.sha256 as string, HEX64);
  assert.equal(ls.entries.find((e) => e.path === 'current')!.target, 'weights.bin');
  const lsSub = await run<{ entries: Array<{ path: string }> }>(['ls', `${(second.id as string).slice(0, 10)}:sub`]);
  assert.deepEqual(lsSub.entries.map((e) => e.path), ['added.txt', 'notes.txt'], 'ls of a subpath lists relative to it');

  const d = await run<{ from: string; to: string; added: Array<{ path: string }>; removed: unknown[]; modified: Array<{ path: string; before: { size: number }; after: { size: number } }> }>(['diff', first.id as string, second.id as string]);
  assert.deepEqual([d.from, d.to], [first.id, second.id]);
  assert.deepEqual(d.added.map((e) => e.path), ['sub/added.txt']);
  assert.deepEqual(d.removed, []);
  assert.deepEqual(d.modified.map((m) => [m.path, m.before.size, m.after.size]), [['sub/notes.txt', 3, 11]]);

  const stats = await run<Record<string, unknown>>(['stats']);
  hasFields(stats, { snapshots: 'number', logicalBytes: 'number', blobs: 'number', rawBytes: 'number', storedBytes: 'number', sparseBytes: 'number', dedupRatio: 'number', compressionRatio: 'number', totalRatio: 'number', byCodec: 'object' }, 'stats');
  assert.equal(stats.snapshots, 3);
  assert.ok((stats.dedupRatio as number) > 1.5, `three snapshots of mostly the same bytes dedup, got ${stats.dedupRatio}`);
  const one = await run<Record<string, unknown>>(['stats', first.id as string]);
  assert.equal(one.snapshots, 1);

  const report = await run<Record<string, unknown>>(['check', '--read-data']);
  hasFields(report, { ok: 'boolean', snapshots: 'number', packs: 'number', blobs: 'number', packsRead: 'number', errors: 'array', unreferencedPacks: 'array', damagedBlobs: 'array', affected: 'array' }, 'check');
  assert.equal(report.ok, true);
  assert.equal(report.packsRead, report.packs);

  const repaired = await run<Record<string, unknown>>(['repair', 'index']);
  hasFields(repaired, { packs: 'number', blobs: 'number', packsAdded: 'number', packsDropped: 'number', damagedPacks: 'array', damagedIndexes: 'array', indexesWritten: 'number', indexesDeleted: 'number', lockedIndexes: 'array' }, 'repair index');
  assert.deepEqual([repaired.packs, repaired.blobs, repaired.packsAdded, repaired.packsDropped], [report.packs, report.blobs, 0, 0], 'a sound index is rebuilt as it was');
  const snapshotsRepaired = await run<Record<string, unknown>>(['repair', 'snapshots']);
  hasFields(snapshotsRepaired, { readable: 'number', removed: 'array', locked: 'array', newer: 'array', dryRun: 'boolean' }, 'repair snapshots');
  assert.deepEqual([snapshotsRepaired.readable, snapshotsRepaired.removed], [3, []], 'sound snapshots are left alone');

  const target = path.join(dir, 'out');
  const restored = await run<Record<string, unknown>>(['restore', 'llama-ft@latest', '--target', target]);
  hasFields(restored, { snapshotId: 'string', files: 'array', bytes: 'number', failed: 'array', target: 'string', durationMs: 'number' }, 'restore');
  assert.equal((restored.files as unknown[]).length, 3);
  hasFields((restored.files as unknown[])[0], { path: 'string', size: 'number', sha256: 'string' }, 'restore.files[0]');

  const keys = await run<Array<Record<string, unknown>>>(['key', 'list']);
  assert.equal(keys.length, 1);
  hasFields(keys[0], { id: 'string', current: 'boolean', created: 'string', host: 'string', user: 'string' }, 'key list');
  assert.equal(keys[0].id, repo.keyId);

  const unlock = await run<Record<string, unknown>>(['unlock']);
  assert.deepEqual(unlock, { removed: 0 });

  const missing = await runCliJson<{ error: { code: string; message: string } }>(['ls', 'ffff'], { env });
  assert.equal(missing.result.code, 1);
  assert.deepEqual(Object.keys(missing.json), ['error'], 'an error is one JSON document on stdout: { error: { code, message } }');
  assert.equal(missing.json.error.code, 'SNAPSHOT_NOT_FOUND');
  assert.match(missing.json.error.message, /no snapshot ffff/);
  assert.match(missing.result.stderr, /^lifeboat: no snapshot ffff/m, 'and the message still goes to stderr for people');
});
