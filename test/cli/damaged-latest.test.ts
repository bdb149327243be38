/**
 * `latest` must not silently mean an older version. While a snapshot object cannot be read, its
 * asset and time are unknown (they are inside the damaged, encrypted bytes), so it may be the
 * newest: `restore ASSET@latest` and `latest` exit 13 and say what to do instead of restoring the
 * newest readable snapshot; `--skip-damaged` takes that one, with a warning. An explicit id and
 * ASSET@vN of a readable snapshot work as before; listings warn and, in JSON, carry the ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ExitCode } from '../../src/base/error-codes.js';
import { backup } from '../../src/engine/backup.js';
import { resolveSnapshot, saveSnapshot } from '../../src/engine/snapshots.js';
import { objectKey } from '../../src/repo/repository.js';
import { SNAPSHOT_VERSION } from '../../src/repo/snapshot.js';
import { runCli, runCliJson } from '../helpers/cli.js';
import { flipByte } from '../helpers/test-backend.js';
import { createRepo, reopenRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

/** llama@v1 ("first"), then llama@v2 ("second") whose snapshot object is then damaged. */
async function siteWithDamagedNewest(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const src = path.join(dir, 'src');
  await fs.mkdir(src);
  const repo = await createRepo(path.join(dir, 'repo'));
  await fs.writeFile(path.join(src, 'weights.bin'), 'first\n');
  const older = await backup(repo, { asset: 'llama', paths: [src] });
  await fs.writeFile(path.join(src, 'weights.bin'), 'second, the one to deploy\n');
  const newest = await backup(repo, { asset: 'llama', paths: [src] });
  assert.deepEqual([older.snapshot.assetVersion, newest.snapshot.assetVersion], [1, 2]);
  const key = objectKey('snapshot', newest.snapshotId);
  await flipByte(repo.storage, key, (await repo.storage.head(key))!.size >> 1, 0x01);
  return { dir, location: repoUrl(path.join(dir, 'repo')), older: older.snapshotId, damaged: newest.snapshotId };
}

test('restore ASSET@latest with the newest snapshot damaged: exit 13, nothing restored, and what to do', async (t) => {
  const s = await siteWithDamagedNewest(t);
  const target = path.join(s.dir, 'out');
  for (const spec of ['llama@latest', 'latest']) {
    const r = await runCli(['restore', '-r', s.location, spec, '--target', target]);
    assert.equal(r.code, ExitCode.damage, `${spec}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`cannot tell which snapshot "${spec}" is: 1 snapshot object\\(s\\) in .* cannot be read \\(${s.damaged.slice(0, 12)}\\)`));
    assert.match(r.stderr, new RegExp(`newest readable one, ${s.older.slice(0, 12)} \\(llama@v1, `), 'names what it would otherwise have taken');
    assert.match(r.stderr, /by its id or ASSET@vN.*--skip-damaged/, 'says what to do');
    assert.equal(r.stdout, '');
  }
  await assert.rejects(fs.stat(path.join(target, 'weights.bin')), 'no older model restored');

  const doc = await runCliJson<{ error: { code: string } }>(['restore', '-r', s.location, 'llama@latest', '--target', target]);
  assert.equal(doc.result.code, ExitCode.damage);
  assert.equal(doc.json.error.code, 'INTEGRITY');

  const ls = await runCli(['ls', '-r', s.location, 'llama@latest']);
  assert.equal(ls.code, ExitCode.damage, ls.stderr);
  const diff = await runCli(['diff', '-r', s.location, s.older.slice(0, 12), 'latest']);
  assert.equal(diff.code, ExitCode.damage, diff.stderr);
});

test('--skip-damaged restores the newest readable snapshot and warns; an explicit id and a readable ASSET@vN need no flag', async (t) => {
  const s = await siteWithDamagedNewest(t);
  const skipped = await runCliJson<{ snapshotId: string }>(['restore', '-r', s.location, 'llama@latest', '--skip-damaged', '--target', path.join(s.dir, 'skip')]);
  assert.equal(skipped.result.code, 0, skipped.result.stderr);
  assert.equal(skipped.json.snapshotId, s.older);
  assert.equal(await fs.readFile(path.join(s.dir, 'skip', 'weights.bin'), 'utf8'), 'first\n');
  assert.match(skipped.result.stderr, new RegExp(`warning: "llama@latest" is ${s.older.slice(0, 12)} .* the newest readable snapshot; 1 snapshot object\\(s\\) in .* cannot be read \\(${s.damaged.slice(0, 12)}\\) and were skipped`));

  for (const spec of [s.older.slice(0, 10), 'llama@v1']) {
    const r = await runCliJson<{ snapshotId: string }>(['restore', '-r', s.location, spec, '--target', path.join(s.dir, spec.replace('@', '-'))]);
    assert.equal(r.result.code, 0, `${spec}: ${r.result.stderr}`);
    assert.equal(r.json.snapshotId, s.older);
    assert.doesNotMatch(r.result.stderr, /warning/);
  }
  const ls = await runCliJson<{ snapshot: string }>(['ls', '-r', s.location, 'llama@latest', '--skip-damaged']);
  assert.equal(ls.result.code, 0, ls.result.stderr);
  assert.equal(ls.json.snapshot, s.older);

  // The damaged object may carry v2: "no such version" would be a guess.
  const v2 = await runCli(['restore', '-r', s.location, 'llama@v2', '--target', path.join(s.dir, 'v2')]);
  assert.equal(v2.code, ExitCode.damage, v2.stderr);
  assert.match(v2.stderr, /llama has no readable version v2, and 1 snapshot object\(s\) .* cannot be read .*one of them may carry it/);
  const named = await runCli(['restore', '-r', s.location, s.damaged.slice(0, 10), '--target', path.join(s.dir, 'named')]);
  assert.equal(named.code, ExitCode.damage, 'the damaged one by its id: damaged');
});

test('listings warn and exit 0; their JSON carries the damaged ids (snapshots: the array stays, --with-damaged gives the object)', async (t) => {
  const s = await siteWithDamagedNewest(t);
  const plain = await runCliJson<Array<{ id: string }>>(['snapshots', '-r', s.location]);
  assert.equal(plain.result.code, 0, plain.result.stderr);
  assert.ok(Array.isArray(plain.json), 'scripts that read an array keep reading one');
  assert.deepEqual(plain.json.map((x) => x.id), [s.older]);
  assert.match(plain.result.stderr, new RegExp(`warning: snapshot ${s.damaged.slice(0, 12)} is unreadable and left out .*latest and ASSET@latest are refused`));

  const full = await runCliJson<{ snapshots: Array<{ id: string }>; damaged: Array<{ id: string; problem: string }> }>(['snapshots', '-r', s.location, '--with-damaged']);
  assert.equal(full.result.code, 0, full.result.stderr);
  assert.deepEqual(full.json.snapshots.map((x) => x.id), [s.older]);
  assert.deepEqual(full.json.damaged.map((d) => d.id), [s.damaged]);
  assert.match(full.json.damaged[0].problem, /damaged/);

  const text = await runCli(['snapshots', '-r', s.location, '--asset', 'llama']);
  assert.match(text.stdout, /1 snapshot\(s\); 1 unreadable, left out/);

  const versions = await runCliJson<{ versions: Array<{ snapshot: string }>; damaged: Array<{ id: string }> }>(['versions', '-r', s.location, 'llama']);
  assert.equal(versions.result.code, 0, versions.result.stderr);
  assert.deepEqual(versions.json.versions.map((v) => v.snapshot), [s.older]);
  assert.deepEqual(versions.json.damaged.map((d) => d.id), [s.damaged]);
  assert.match(versions.result.stderr, /warning: snapshot .* may be a version of llama/);
});

test('repair snapshots removes the unreadable object (after a dry run that removes nothing); latest resolves again; a newer-format snapshot stays', async (t) => {
  const s = await siteWithDamagedNewest(t);
  const repo = await reopenRepo(path.join(s.dir, 'repo'));
  const { snapshot } = await resolveSnapshot(repo, s.older);
  const newer = await saveSnapshot(repo, { ...snapshot, asset: 'other', version: SNAPSHOT_VERSION + 1 });
  type Repair = { readable: number; removed: Array<{ id: string; problem: string }>; locked: unknown[]; newer: Array<{ id: string }>; dryRun: boolean };

  const dry = await runCliJson<Repair>(['repair', 'snapshots', '-r', s.location, '--dry-run']);
  assert.equal(dry.result.code, 0, dry.result.stderr);
  assert.deepEqual([dry.json.dryRun, dry.json.removed.map((d) => d.id)], [true, [s.damaged]]);
  assert.ok(await repo.storage.head(objectKey('snapshot', s.damaged)), 'a dry run removes nothing');

  const done = await runCliJson<Repair>(['repair', 'snapshots', '-r', s.location]);
  assert.equal(done.result.code, 0, done.result.stderr);
  assert.equal(done.json.readable, 1);
  assert.deepEqual(done.json.removed.map((d) => d.id), [s.damaged]);
  assert.match(done.json.removed[0].problem, /damaged|authenticat/i);
  assert.deepEqual(done.json.newer.map((d) => d.id), [newer], 'intact, for a newer lifeboat');
  assert.match(done.result.stderr, /newer than this lifeboat supports: upgrade lifeboat \(left in place\)/);
  assert.equal(await repo.storage.head(objectKey('snapshot', s.damaged)), undefined);
  assert.ok(await repo.storage.head(objectKey('snapshot', newer)));

  const target = path.join(s.dir, 'out');
  const refused = await runCli(['restore', '-r', s.location, 'llama@latest', '--target', target]);
  assert.equal(refused.code, ExitCode.damage, 'the newer-format object may be the newest: a newest pick still refuses');
  await repo.storage.delete(objectKey('snapshot', newer)); // as upgrading lifeboat would settle it
  const restored = await runCli(['restore', '-r', s.location, 'llama@latest', '--target', target]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(await fs.readFile(path.join(target, 'weights.bin'), 'utf8'), 'first\n', 'the newest readable one, with the damaged object gone');
  const again = await runCliJson<Repair>(['repair', 'snapshots', '-r', s.location]);
  assert.deepEqual([again.result.code, again.json.removed.length, again.json.readable], [0, 0, 1], 'nothing left to repair');
});
