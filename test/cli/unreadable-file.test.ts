/**
 * A file the backup cannot read: the backup still finishes and writes a snapshot of everything
 * else, warns naming the file, marks the snapshot incomplete, and exits 3.
 * Root can read any file, so the CLI runs as user nobody (65534) on directories it may use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { snapshotNodes } from '../helpers/snapshot-files.js';
import { TEST_BACKEND } from '../helpers/test-backend.js';
import { createRepo, reopenRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const NOBODY = 65534;

test('an unreadable file: warning, exit 3, snapshot of the rest marked incomplete', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to run the CLI as another user');
  const dir = await tempDir(t);
  await fs.chmod(dir, 0o755);
  const src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await fs.writeFile(path.join(src, 'readable.txt'), 'everyone can read this\n');
  await fs.writeFile(path.join(src, 'sub/secret.key'), 'only root\n');
  await fs.chmod(path.join(src, 'sub/secret.key'), 0o000);
  const repoDir = path.join(dir, 'repo');
  await createRepo(repoDir);
  if (TEST_BACKEND === 'local') {
    // The repository belongs to the user who backs up (its objects are created 0600).
    const chown = spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, repoDir]);
    assert.equal(chown.status, 0, String(chown.stderr));
  }

  const asNobody = { uid: NOBODY, gid: NOBODY, env: { HOME: dir } };
  const { result, json } = await runCliJson<{ id: string; incomplete: Array<{ path: string; reason: string }> }>(
    ['backup', '-r', repoUrl(repoDir), '--asset', 'docs', src],
    asNobody,
  );
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, new RegExp(`warning: ${src}/sub/secret\\.key: cannot read \\(.*permission denied`, 'i'));
  assert.match(result.stderr, /1 file\(s\) could not be read completely; the snapshot is marked incomplete/);
  assert.deepEqual(json.incomplete.map((i) => i.path), [path.join(src, 'sub/secret.key')]);

  const repo = await reopenRepo(repoDir);
  const [stored] = await listSnapshots(repo);
  assert.equal(stored.id, json.id, 'the snapshot was written');
  assert.equal(stored.snapshot.incomplete.length, 1, 'and says it is incomplete');
  const nodes = await snapshotNodes(repo, json.id);
  assert.ok(nodes.has('readable.txt'), 'readable files are in it');
  assert.ok(!nodes.has('sub/secret.key'), 'the unreadable file is left out, not stored empty');

  const list = await runCli(['snapshots', '-r', repoUrl(repoDir)], asNobody);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /incomplete \(1\)/);
});
