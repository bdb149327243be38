/**
 * A restore killed mid-way leaves its temporary file (`.NAME.lifeboat-<8 hex>`) in the target. A
 * later restore into the same target removes such files from every directory it restores into,
 * and reports them; anything whose name only resembles the pattern, anything that is not a
 * regular file, and directories the snapshot does not restore into are left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { restore } from '../../src/engine/restore.js';
import { isTempName, tempPathFor } from '../../src/engine/restore-temp.js';
import { listAll, sha256File, writeRandomFile } from '../helpers/files.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

test('the names restore writes to are exactly the names it later cleans up', () => {
  for (const name of ['weights.bin', '.hidden', 'with space', 'line\nbreak', 'x.lifeboat-0123abcd']) {
    const tmp = tempPathFor(path.join('/target/dir', name));
    assert.equal(path.dirname(tmp), '/target/dir', 'beside its destination');
    assert.ok(isTempName(path.basename(tmp)), `${JSON.stringify(path.basename(tmp))} matches`);
  }
  for (const name of ['.weights.bin.lifeboatx', '.weights.bin.lifeboat-0123abc', '.weights.bin.lifeboat-0123ABCD', '.weights.bin.lifeboat-0123abcd0', 'weights.bin.lifeboat-0123abcd', '..lifeboat-0123abcd']) {
    assert.equal(isTempName(name), false, `${JSON.stringify(name)} does not match`);
  }
});

test('a restore removes stale temporary files where it restores, and nothing that only looks like one', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(path.join(src, 'sub'), { recursive: true });
  await writeRandomFile(path.join(src, 'weights.bin'), 1024 * 1024, 'w');
  await fs.writeFile(path.join(src, 'sub/notes.txt'), 'notes\n');
  const repo = await createRepo(path.join(dir, 'repo'));
  const { snapshotId } = await backup(repo, { asset: 'model', paths: [src] });

  const target = path.join(dir, 'out');
  await fs.mkdir(path.join(target, 'sub'), { recursive: true });
  await fs.mkdir(path.join(target, 'elsewhere'));
  const stale = ['.weights.bin.lifeboat-0123abcd', 'sub/.notes.txt.lifeboat-deadbeef', '.removed-since.bin.lifeboat-89abcdef'];
  const untouched = [
    '.weights.bin.lifeboatx',
    '.weights.bin.lifeboat-0123abc',
    '.weights.bin.lifeboat-0123ABCD',
    'weights.bin.lifeboat-0123abcd',
    'sub/.notes.txt.lifeboat-deadbeef.keep',
    'elsewhere/.data.lifeboat-01234567', // a directory this restore does not write into
  ];
  for (const name of [...stale, ...untouched]) await fs.writeFile(path.join(target, name), `content of ${name}`);
  await fs.mkdir(path.join(target, '.dir.lifeboat-01234567'));
  await fs.symlink('weights.bin', path.join(target, '.link.lifeboat-01234567'));

  const result = await restore(repo, { snapshot: snapshotId, target });
  assert.deepEqual(result.failed, []);
  assert.deepEqual(result.removedTempFiles.sort(), stale.map((n) => path.join(target, n)).sort());
  for (const name of untouched) assert.equal(await fs.readFile(path.join(target, name), 'utf8'), `content of ${name}`, `${name} is untouched`);
  assert.ok((await fs.lstat(path.join(target, '.dir.lifeboat-01234567'))).isDirectory(), 'a directory is never removed');
  assert.ok((await fs.lstat(path.join(target, '.link.lifeboat-01234567'))).isSymbolicLink(), 'a symlink is never removed');
  assert.deepEqual(
    await listAll(target),
    [...untouched, '.dir.lifeboat-01234567', '.link.lifeboat-01234567', 'elsewhere', 'sub', 'sub/notes.txt', 'weights.bin'].sort(),
  );
  assert.equal(await sha256File(path.join(target, 'weights.bin')), await sha256File(path.join(src, 'weights.bin')));

  const again = await restore(repo, { snapshot: snapshotId, target });
  assert.deepEqual(again.removedTempFiles, [], 'a restore that finished leaves none behind');
});
