/** Restored times are the recorded ones to the nanosecond, for files, directories and symlinks alike. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { setTimes, splitNs } from '../../src/engine/file-times.js';
import { tempDir } from '../helpers/tmp-dir.js';

const mtimeNs = async (p: string) => String((await fs.lstat(p, { bigint: true })).mtimeNs);

test('a file by path and by open handle, and a directory, get the time to the nanosecond', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'weights.bin');
  await fs.writeFile(file, 'x');
  await setTimes(file, '1609815845678123456');
  assert.equal(await mtimeNs(file), '1609815845678123456');
  const handle = await fs.open(file, 'r+');
  await setTimes(handle, '1700000000000000001');
  await handle.close();
  assert.equal(await mtimeNs(file), '1700000000000000001');
  await setTimes(dir, '1609729445677999999');
  assert.equal(await mtimeNs(dir), '1609729445677999999');
});

test("with noFollow a symlink gets its own time and its target keeps its own", async (t) => {
  const dir = await tempDir(t);
  const target = path.join(dir, 'target');
  await fs.writeFile(target, 'x');
  await setTimes(target, '1500000000000000000');
  await fs.symlink('target', path.join(dir, 'link'));
  await setTimes(path.join(dir, 'link'), '1600000000000000007', { noFollow: true });
  assert.equal(await mtimeNs(path.join(dir, 'link')), '1600000000000000007');
  assert.equal(await mtimeNs(target), '1500000000000000000');
});

test('times before 1970 split into seconds and a positive remainder', async (t) => {
  assert.deepEqual(splitNs(-1n), { seconds: -1, nanoseconds: 999_999_999 });
  assert.deepEqual(splitNs(-2_000_000_000n), { seconds: -2, nanoseconds: 0 });
  assert.deepEqual(splitNs(1_500_000_000_250_000_000n), { seconds: 1_500_000_000, nanoseconds: 250_000_000 });
  const file = path.join(await tempDir(t), 'old');
  await fs.writeFile(file, 'x');
  await setTimes(file, '-86400000000001');
  assert.equal(await mtimeNs(file), '-86400000000001');
});

test('a missing path is an error with the errno code, not silence', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(setTimes(path.join(dir, 'gone'), '1'), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
});

test("without the addon (Node's utimes) the time is within a microsecond", async (t) => {
  const file = path.join(await tempDir(t), 'f');
  await fs.writeFile(file, 'x');
  const module = new URL('../../src/engine/file-times.js', import.meta.url).href;
  const script = `import(${JSON.stringify(module)}).then((m) => m.setTimes(${JSON.stringify(file)}, '1609815845678123456'))`;
  execFileSync(process.execPath, ['-e', script], { env: { ...process.env, LIFEBOAT_NO_NATIVE: '1' } });
  const off = BigInt(await mtimeNs(file)) - 1_609_815_845_678_123_456n;
  assert.ok(off > -1000n && off < 1000n, `${off} ns off`);
});
