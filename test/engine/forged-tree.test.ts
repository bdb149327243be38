/**
 * A forged or damaged snapshot must never make restore write outside --target: tree names
 * such as "..", "a/b" or an absolute path are refused, and so is a tree that names one entry
 * twice (a symlink "d" to anywhere plus a directory "d" would otherwise write through the link).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { restore } from '../../src/engine/restore.js';
import { saveSnapshot } from '../../src/engine/snapshots.js';
import { makePacker } from '../../src/engine/packer.js';
import { saveTree } from '../../src/engine/trees.js';
import { makeCodecSet } from '../../src/repo/codec/all.js';
import { loadIndex } from '../../src/repo/index-store.js';
import type { Repository } from '../../src/repo/repository.js';
import { SNAPSHOT_VERSION } from '../../src/repo/snapshot.js';
import type { FileNode, Node, Tree } from '../../src/repo/tree.js';
import { listAll, sha256 } from '../helpers/files.js';
import { runCli } from '../helpers/cli.js';
import { createRepo, repoUrl } from '../helpers/test-repo.js';
import { tempDir } from '../helpers/tmp-dir.js';

const NOW_NS = String(BigInt(Date.now()) * 1000000n);

function emptyFile(name: string): FileNode {
  return { type: 'file', name, mode: 0o644, mtimeNs: NOW_NS, size: 0, sha256: sha256(new Uint8Array(0)), content: [], inode: 1, ctimeNs: NOW_NS };
}

function dirNode(name: string, subtree: string): Node {
  return { type: 'dir', name, mode: 0o755, mtimeNs: NOW_NS, subtree };
}

/**
 * Writes trees exactly as given (saveTree does not validate names, as a forger would not) and a
 * snapshot of the root tree built by `build`; returns the snapshot id.
 */
async function forge(repo: Repository, build: (save: (tree: Tree) => Promise<string>) => Promise<Tree>): Promise<string> {
  const { index } = await loadIndex(repo);
  const packer = makePacker(repo, index);
  const codecs = makeCodecSet(repo.config.zstdLevel);
  const save = (tree: Tree) => saveTree(repo, packer, codecs, tree);
  const root = await save(await build(save));
  await packer.flush();
  return saveSnapshot(repo, {
    version: SNAPSHOT_VERSION,
    time: new Date().toISOString(),
    asset: 'forged',
    hostname: 'attacker',
    username: 'mallory',
    paths: ['/'],
    tree: root,
    tags: [],
    meta: {},
    summary: { files: 1, dirs: 1, totalBytes: 0, readBytes: 0, newBlobs: 0, newRawBytes: 0, newStoredBytes: 0, durationMs: 0 },
    incomplete: [],
    program: 'forger 0',
  });
}

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const outside = path.join(dir, 'outside');
  await fs.mkdir(outside);
  const target = path.join(dir, 'work', 'target');
  await fs.mkdir(path.dirname(target));
  /** Everything in the temp dir except the repository: the only place restore may write is target. */
  const outsideState = async () => (await listAll(dir)).filter((p) => !p.startsWith('repo') && !p.startsWith(path.join('work', 'target')));
  return { dir, repo, outside, target, outsideState };
}

const cases: Array<{ name: string; build: (outside: string) => (save: (tree: Tree) => Promise<string>) => Promise<Tree> }> = [
  {
    name: 'a directory named ".." at the root',
    build: () => async (save) => ({ nodes: [dirNode('..', await save({ nodes: [emptyFile('escaped')] }))] }),
  },
  {
    name: 'a file named ".." deeper down',
    build: () => async (save) => ({ nodes: [dirNode('ok', await save({ nodes: [emptyFile('..')] }))] }),
  },
  {
    name: 'a name with a slash ("../escaped")',
    build: () => async () => ({ nodes: [emptyFile('../escaped')] }),
  },
  {
    name: 'a name with a slash inside a directory ("a/b")',
    build: () => async (save) => ({ nodes: [dirNode('ok', await save({ nodes: [emptyFile('a/b')] }))] }),
  },
  {
    name: 'an absolute path as a name',
    build: (outside) => async () => ({ nodes: [emptyFile(path.join(outside, 'x'))] }),
  },
  {
    name: 'a symlink and a directory with the same name (write through the link)',
    build: (outside) => async (save) => ({
      nodes: [
        { type: 'symlink', name: 'd', mode: 0o777, mtimeNs: NOW_NS, target: outside },
        dirNode('d', await save({ nodes: [emptyFile('pwned')] })),
      ],
    }),
  },
];

for (const c of cases) {
  test(`restore refuses a snapshot with ${c.name} and writes nothing outside the target`, async (t) => {
    const { repo, outside, target, outsideState } = await setup(t);
    const before = await outsideState();
    const snapshotId = await forge(repo, c.build(outside));
    await assert.rejects(restore(repo, { snapshot: snapshotId, target }), (err: Error) => {
      assert.match(err.message, /unsafe name|same name|twice|outside the target|not a directory/);
      return true;
    });
    assert.deepEqual(await fs.readdir(outside), [], 'nothing was written into the directory outside');
    assert.deepEqual(await outsideState(), before, 'nothing appeared anywhere outside the target');
  });
}

test('a symlink in the target where a directory will be restored is not followed', async (t) => {
  const { repo, outside, target, outsideState } = await setup(t);
  const snapshotId = await forge(repo, async (save) => ({ nodes: [dirNode('d', await save({ nodes: [emptyFile('pwned')] }))] }));
  await fs.mkdir(target);
  await fs.symlink(outside, path.join(target, 'd'));
  const before = await outsideState();
  await assert.rejects(restore(repo, { snapshot: snapshotId, target }), /not a directory|symlink|refusing/);
  assert.deepEqual(await fs.readdir(outside), []);
  assert.deepEqual(await outsideState(), before);
});

test('the CLI exits 1 and names the unsafe entry', async (t) => {
  const { dir, repo, target, outsideState } = await setup(t);
  const before = await outsideState();
  const snapshotId = await forge(repo, async (save) => ({ nodes: [dirNode('..', await save({ nodes: [emptyFile('escaped')] }))] }));
  const r = await runCli(['restore', '-r', repoUrl(path.join(dir, 'repo')), snapshotId.slice(0, 10), '--target', target]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /unsafe name "\.\."/);
  assert.deepEqual(await outsideState(), before);
});
