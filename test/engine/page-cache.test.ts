/**
 * --direct-io: restored files go around the page cache until the device is found to hold the
 * restore back and a trial shows the cache faster, then through it while they fit in a quarter of
 * the memory available (auto); always around it (always) or always through it (never); packs of
 * a local repository are direct unless `never`. What the kernel has cached is read with fincore.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DIRECT_MIN_FILE_BYTES, makeWritePolicy, packWritePolicy } from '../../src/engine/page-cache.js';
import { runCli } from '../helpers/cli.js';
import { sha256File, writeRandomFile } from '../helpers/files.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { TEST_BACKEND } from '../helpers/test-backend.js';
import { tempDir } from '../helpers/tmp-dir.js';

const MiB = 1024 * 1024;

const sample = (mib: number, writingMs: number, waitingMs = 0) => ({ bytes: mib * MiB, writingMs, waitingMs });

/**
 * Feeds 8 MiB appends to a watch until it answers or `upTo` MiB are written; the answer and where
 * it came. A 'sync' is answered with the datasync taking `syncMs`.
 */
function feed(watch: ReturnType<ReturnType<typeof makeWritePolicy>['watch']>, from: number, upTo: number, direct: boolean, writingMs: number, waitingMs: number, syncMs = 0) {
  for (let at = from + 8; at <= upTo; at += 8) {
    let answer = watch.wrote(sample(8, writingMs, waitingMs), direct, at * MiB);
    if (answer === 'sync') answer = watch.synced(syncMs, at * MiB);
    if (answer !== undefined) return { answer, at };
  }
  return { answer: undefined, at: upTo };
}

test('auto: while the restore waits for its data, direct writes go on', () => {
  const watch = makeWritePolicy('auto', 8192 * MiB).watch(1024 * MiB);
  assert.deepEqual(feed(watch, 0, 1024, true, 4, 6), { answer: undefined, at: 1024 }, '40 % of the time writing: the device keeps up');
});

test('auto: when the writes are what the restore waits for, it tries the page cache and keeps it where it was clearly faster', () => {
  const policy = makeWritePolicy('auto', 8192 * MiB); // a share of 2 GiB
  assert.equal(policy.direct(512 * MiB), true, 'nothing learned yet: direct');
  const watch = policy.watch(1024 * MiB);
  const tried = feed(watch, 0, 1024, true, 30, 1); // 8 MiB in 30 ms: 280 MB/s, 97 % of the time writing
  assert.deepEqual(tried, { answer: false, at: 128 }, 'judged after 128 MiB: buffered');
  const kept = feed(watch, 128, 1024, false, 4, 1); // buffered: 8 MiB in 4 ms
  assert.deepEqual(kept, { answer: undefined, at: 1024 }, 'buffered was 7x faster: kept to the end');
  assert.equal(policy.direct(512 * MiB), false, 'and the next file starts buffered, while it fits in the share');
  assert.equal(policy.direct(2048 * MiB), true, 'one that does not fit is direct');
});

test('auto: a page cache that is no faster than the device is given up after its trial', () => {
  const policy = makeWritePolicy('auto', 8192 * MiB);
  const watch = policy.watch(1024 * MiB);
  assert.equal(feed(watch, 0, 1024, true, 8, 1).answer, false);
  assert.deepEqual(feed(watch, 128, 1024, false, 12, 1), { answer: true, at: 192 }, 'buffered writes were slower (the VM pays for every fresh page): back to direct after 64 MiB');
  assert.deepEqual(feed(watch, 192, 1024, true, 8, 1), { answer: undefined, at: 1024 }, 'no second trial');
  assert.equal(policy.direct(512 * MiB), true, 'later files direct');
});

test("auto: a trial's time includes the datasync that makes its bytes durable, as a direct write's does", () => {
  const watch = makeWritePolicy('auto', 8192 * MiB).watch(1024 * MiB);
  assert.equal(feed(watch, 0, 1024, true, 30, 1).answer, false, 'direct writes at 280 MB/s held the restore back: a trial');
  // 64 MiB into the cache in 32 ms looks 7x faster; durable only after a 400 ms datasync, it is slower.
  assert.deepEqual(feed(watch, 128, 1024, false, 4, 1, 400), { answer: true, at: 192 }, 'back to direct');
});

test('auto: buffered writes that turn slower than the device was direct are given up, for that file and the next', () => {
  const policy = makeWritePolicy('auto', 8192 * MiB);
  const watch = policy.watch(1024 * MiB);
  assert.equal(feed(watch, 0, 1024, true, 30, 1).answer, false);
  assert.deepEqual(feed(watch, 128, 256, false, 4, 1), { answer: undefined, at: 256 }, 'the trial and the window after it were fast: buffered');
  // Fresh pages that cost a fault in the host: 8 MiB in 120 ms, slower than direct's 30 ms.
  assert.deepEqual(feed(watch, 256, 1024, false, 120, 1), { answer: true, at: 320 }, 'back to direct after one slow window');
  assert.equal(policy.direct(512 * MiB), true, 'and the next file starts direct');
});

test('auto: a file that starts buffered (the cache paid on an earlier one) is watched too', () => {
  const policy = makeWritePolicy('auto', 8192 * MiB);
  const first = policy.watch(1024 * MiB);
  feed(first, 0, 128, true, 30, 1);
  feed(first, 128, 1024, false, 4, 1);
  assert.equal(policy.direct(512 * MiB), false, 'the next file starts buffered');
  assert.deepEqual(feed(policy.watch(512 * MiB), 0, 512, false, 120, 1), { answer: true, at: 64 }, 'slow from its first window: direct');
});

test('auto: a trial is not started near the end of a file, and always and never never switch', () => {
  assert.equal(feed(makeWritePolicy('auto', 8192 * MiB).watch(200 * MiB), 0, 200, true, 30, 0).answer, undefined);
  assert.equal(feed(makeWritePolicy('always', 8192 * MiB).watch(1024 * MiB), 0, 1024, true, 30, 0).answer, undefined);
  assert.equal(makeWritePolicy('never', 0).direct(1e12), false);
  assert.equal(makeWritePolicy('auto', 0).direct(DIRECT_MIN_FILE_BYTES - 1), false, 'small files always go through the cache');
});

test('always and never ignore memory; packs are direct unless never', () => {
  assert.equal(makeWritePolicy('always', 1e12).direct(DIRECT_MIN_FILE_BYTES), true);
  assert.equal(makeWritePolicy('always', 1e12).direct(DIRECT_MIN_FILE_BYTES - 1), false);
  assert.equal(makeWritePolicy('never', 0).direct(1e12), false);
  assert.equal(packWritePolicy('auto').direct(16 * MiB), true);
  assert.equal(packWritePolicy('always').direct(2 * MiB), true);
  assert.equal(packWritePolicy('never').direct(16 * MiB), false);
  assert.equal(packWritePolicy('auto').direct(MiB - 1), false, 'a small pack goes through the cache');
});

/** Bytes of `file` in the page cache (util-linux fincore). */
function cachedBytes(file: string): number {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, `fincore: ${r.stderr}`);
  return Number(r.stdout.trim());
}

async function takesDirect(dir: string): Promise<boolean> {
  const probe = path.join(dir, 'probe');
  const file = await fs.open(probe, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_DIRECT).catch(() => undefined);
  await file?.close();
  await fs.rm(probe, { force: true });
  return file !== undefined;
}

async function packFiles(repo: string): Promise<string[]> {
  const data = path.join(repo, 'data');
  const dirs = await fs.readdir(data);
  return (await Promise.all(dirs.map(async (d) => (await fs.readdir(path.join(data, d))).map((f) => path.join(data, d, f))))).flat();
}

test('--direct-io: restore always and auto (on a device that keeps up) leave the restored file out of the page cache, never keeps it there, and every mode restores the same bytes; packs are cached only with never', async (t) => {
  const dir = await tempDir(t);
  const direct = await takesDirect(dir);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await writeRandomFile(path.join(src, 'weights.bin'), 24 * MiB, 'direct-io');
  const repo = path.join(dir, 'repo');
  await createRepo(repo);
  const location = repoUrl(repo);
  const bigPacks = async () => {
    const out = new Set<string>();
    for (const f of await packFiles(repo)) if ((await fs.stat(f)).size >= MiB) out.add(f);
    return out;
  };
  const b = await runCli(['backup', '-r', location, '--asset', 'model', '-q', '--direct-io', 'never', src]);
  assert.equal(b.code, 0, b.stderr);
  if (TEST_BACKEND === 'local') {
    const packs = [...(await bigPacks())];
    assert.ok(packs.length > 0 && packs.every((f) => cachedBytes(f) > 0), 'backup --direct-io never: packs written through the page cache');
    await writeRandomFile(path.join(src, 'adapter.bin'), 8 * MiB, 'adapter');
    const again = await runCli(['backup', '-r', location, '--asset', 'model', '-q', src]);
    assert.equal(again.code, 0, again.stderr);
    const added = [...(await bigPacks())].filter((f) => !packs.includes(f));
    assert.ok(added.length > 0, 'the second backup wrote a pack');
    // A direct pack's last partial block goes through a buffered descriptor (storage/local.ts): at most a page is cached.
    for (const f of added) assert.equal(cachedBytes(f) <= 4096, direct, `backup (auto): pack ${path.basename(f).slice(0, 12)} written ${direct ? 'around' : 'through (no O_DIRECT here)'} the page cache`);
  }
  const want = await sha256File(path.join(src, 'weights.bin'));
  for (const mode of ['always', 'never', 'auto']) {
    const target = path.join(dir, `restore-${mode}`);
    const r = await runCli(['restore', '-r', location, 'latest', '--target', target, '--direct-io', mode, '-q']);
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(target, 'weights.bin');
    const cached = cachedBytes(file); // before anything reads it
    // auto: a writer judges the device after 128 MiB; 24 MiB stays direct.
    if (mode !== 'never' && direct) assert.equal(cached, 0, `${mode}: written around the page cache`);
    else assert.equal(cached, 24 * MiB, `${mode}: the whole file is in the page cache`);
    assert.equal(await sha256File(file), want, `${mode}: the same bytes`);
  }
});

test('--direct-io takes auto, always or never, and says so', async () => {
  const r = await runCli(['restore', '-r', '/nonexistent', 'latest', '--target', '/tmp/x', '--direct-io', 'sometimes']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--direct-io.*sometimes.*auto, always, never/s);
});
