/**
 * A file that changes while it is read (a log or a checkpoint still being written): the backup
 * finishes, notices the change, re-reads, and when the file never holds still stores it as read
 * and marks it incomplete. What it stored is always self-consistent: the restored bytes have
 * the SHA-256 the snapshot recorded, and (for an appended file) are a prefix of the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { backup } from '../../src/engine/backup.js';
import { restore } from '../../src/engine/restore.js';
import { sha256, sha256File, writeRandomFile } from '../helpers/files.js';
import { snapshotNodes } from '../helpers/snapshot-files.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

/** A separate process appending 64 KiB every millisecond or so until killed. */
function startAppender(file: string) {
  const child = spawn(
    process.execPath,
    ['-e', `const fs=require('fs'),c=require('crypto');const fd=fs.openSync(${JSON.stringify(file)},'a');process.stdout.write('go\\n');setInterval(()=>fs.writeSync(fd,c.randomBytes(65536)),1);`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const started = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('error', reject);
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  return { started, stop };
}

test('a file appended to during the backup is re-read, stored consistently, and marked incomplete when it never holds still', async (t) => {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  const file = path.join(src, 'growing.log');
  await writeRandomFile(file, 24 * MiB, 'log');
  await fs.writeFile(path.join(src, 'still.txt'), 'not changing\n');
  const repo = await createRepo(path.join(dir, 'repo'));

  const writer = startAppender(file);
  t.after(writer.stop);
  await writer.started;
  const sizeAtStart = (await fs.stat(file)).size;
  const { snapshotId, snapshot } = await backup(repo, { asset: 'logs', paths: [src] });
  const sizeAtEnd = (await fs.stat(file)).size;
  await writer.stop();
  assert.ok(sizeAtEnd > sizeAtStart, 'the file really grew during the backup');

  const node = (await snapshotNodes(repo, snapshotId)).get('growing.log');
  assert.ok(node?.type === 'file');
  assert.ok(snapshot.summary.readBytes >= 2 * sizeAtStart, 'the change was detected and the file read again');
  // With the writer never pausing, every attempt sees a change and the file ends up marked; on
  // a badly overloaded machine an attempt might fall between two writes and come out consistent.
  if (node.incomplete !== undefined) {
    assert.match(node.incomplete, /changed while being read/);
    assert.deepEqual(snapshot.incomplete.map((i) => i.path), [file], 'a marked file makes the snapshot incomplete');
  } else {
    assert.deepEqual(snapshot.incomplete, []);
  }
  assert.ok(node.size >= sizeAtStart && node.size <= sizeAtEnd);

  const target = path.join(dir, 'out');
  const result = await restore(repo, { snapshot: snapshotId, target });
  assert.deepEqual(result.failed, [], 'what was stored is consistent, so it restores');
  const restored = await fs.readFile(path.join(target, 'growing.log'));
  assert.equal(restored.length, node.size);
  assert.equal(sha256(restored), node.sha256, 'the restored bytes are the ones the snapshot recorded');
  const handle = await fs.open(file, 'r');
  const prefix = Buffer.alloc(node.size);
  await handle.read(prefix, 0, node.size, 0);
  await handle.close();
  assert.ok(prefix.equals(restored), 'and they are the file as it was when read: a prefix of the grown file');
  assert.equal(await sha256File(path.join(target, 'still.txt')), sha256(Buffer.from('not changing\n')));

  // The next backup does not trust the incomplete node: it reads the (now still) file again.
  const next = await backup(repo, { asset: 'logs', paths: [src] });
  const again = (await snapshotNodes(repo, next.snapshotId)).get('growing.log');
  assert.ok(again?.type === 'file' && again.incomplete === undefined);
  assert.equal(again.size, (await fs.stat(file)).size);
  assert.equal(again.sha256, await sha256File(file));
  assert.deepEqual(next.snapshot.incomplete, []);
});
