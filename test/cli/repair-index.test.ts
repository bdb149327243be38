/**
 * `lifeboat repair index` through the CLI: a damaged index file makes commands exit 13 (damage found) with one
 * line that names the file and the repair command; the repair exits 0 and the repository checks
 * clean; a pack whose header is damaged makes the repair print its result and exit 13, naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { listIds, objectKey, packKey, storedPacks } from '../../src/repo/repository.js';
import type { RepairIndexResult } from '../../src/engine/repair-index.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { writeRandomFile } from '../helpers/files.js';
import { flipByte } from '../helpers/test-backend.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  await writeRandomFile(path.join(src, 'weights.bin'), 2 * 1024 * 1024, 'w');
  const repo = await createRepo(path.join(dir, 'repo'), { packSize: 1024 * 1024 });
  const location = repoUrl(path.join(dir, 'repo'));
  const r = await runCli(['backup', '-r', location, '--asset', 'model', src]);
  assert.equal(r.code, 0, r.stderr);
  return { dir, location, repo, storage: repo.storage };
}

test('a damaged index file: commands exit 13 naming it and "lifeboat repair index"; the repair makes check pass', async (t) => {
  const { dir, location, repo, storage } = await setup(t);
  const [victim] = await listIds(storage, 'index');
  await flipByte(storage, objectKey('index', victim), 20);

  // --no-cache: on S3 the backup left an intact copy of the index file in the local cache, which
  // restore and stats would read instead (check never does).
  for (const args of [['check'], ['restore', 'model@latest', '--target', path.join(dir, 'out'), '--no-cache'], ['stats', '--no-cache']]) {
    const r = await runCli([...args, '-r', location]);
    assert.equal(r.code, 13, `${args[0]}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.startsWith(`lifeboat: index file index/${victim} in ${location} is damaged (`), r.stderr);
    assert.ok(r.stderr.endsWith(`: run "lifeboat repair index -r ${location}" to rebuild the index from the packs\n`), r.stderr);
  }

  const { result, json } = await runCliJson<RepairIndexResult>(['repair', 'index', '-r', location]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(json.damagedIndexes.map((d) => d.index), [victim]);
  assert.equal(json.packs, (await storedPacks(repo)).size);
  const checked = await runCli(['check', '--read-data', '-r', location]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /no errors found/);
});

test('a pack with a damaged header: repair index prints what it did, names the pack and exits 13', async (t) => {
  const { location, repo, storage } = await setup(t);
  const packs = [...(await storedPacks(repo)).keys()];
  await flipByte(storage, packKey(packs[0]), (await storage.head(packKey(packs[0])))!.size - 10); // in the sealed header

  const human = await runCli(['repair', 'index', '-r', location]);
  assert.equal(human.code, 13, human.stderr);
  assert.match(human.stdout, new RegExp(`damaged pack ${packs[0]} \\(left in place, not indexed\\): header of pack`));
  assert.match(human.stderr, /1 pack\(s\) have a damaged header.*lifeboat check/);

  const { result, json } = await runCliJson<RepairIndexResult>(['repair', 'index', '-r', location]);
  assert.equal(result.code, 13);
  assert.deepEqual(json.damagedPacks.map((d) => d.pack), [packs[0]]);
  assert.equal(json.packs, packs.length - 1);
  assert.ok(await storage.head(packKey(packs[0])), 'the pack is kept');
});

test('every index file lost: check exits 13 and points to "lifeboat repair index", which brings it back', async (t) => {
  const { location, storage } = await setup(t);
  for (const id of await listIds(storage, 'index')) await storage.delete(objectKey('index', id));

  const broken = await runCli(['check', '-r', location]);
  assert.equal(broken.code, 13, broken.stderr);
  assert.match(broken.stdout, /pack\(s\) not in any index may hold the missing data: run "lifeboat repair index", then check again/);

  const repaired = await runCli(['repair', 'index', '-r', location]);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.match(repaired.stdout, /indexed \d+ pack\(s\), \d+ blob\(s\): (\d+) pack\(s\) added, 0 dropped/);
  const checked = await runCli(['check', '--read-data', '-r', location]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.doesNotMatch(checked.stdout, /not in any index/);
});
