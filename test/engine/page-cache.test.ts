/**
 * --direct-io: restored files go through the page cache while they fit in a quarter of the
 * memory available (auto), always around it (always) or always through it (never); packs of a
 * local repository are direct unless `never`. What the kernel has cached is read with fincore.
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

test('auto writes buffered until the operation has used its quarter of the available memory, then direct', () => {
  const policy = makeWritePolicy('auto', 400 * MiB); // a share of 100 MiB
  assert.equal(policy.direct(60 * MiB), false, 'fits: through the cache');
  assert.equal(policy.direct(60 * MiB), true, '60 + 60 MiB would pass the share: direct');
  assert.equal(policy.direct(40 * MiB), false, 'what is left of the share still takes a smaller file');
  assert.equal(policy.direct(DIRECT_MIN_FILE_BYTES), true, 'the share is used up');
  assert.equal(policy.direct(DIRECT_MIN_FILE_BYTES - 1), false, 'small files always go through the cache');
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

test('--direct-io: restore always leaves the restored file out of the page cache, never and auto keep it there, and every mode restores the same bytes; packs are cached only with never', async (t) => {
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
    if (mode === 'always' && direct) assert.equal(cached, 0, 'always: written around the page cache');
    else assert.equal(cached, 24 * MiB, `${mode}: the whole file is in the page cache`);
    assert.equal(await sha256File(file), want, `${mode}: the same bytes`);
  }
});

test('--direct-io takes auto, always or never, and says so', async () => {
  const r = await runCli(['restore', '-r', '/nonexistent', 'latest', '--target', '/tmp/x', '--direct-io', 'sometimes']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--direct-io.*sometimes.*auto, always, never/s);
});
