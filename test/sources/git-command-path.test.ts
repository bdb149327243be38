/**
 * The git, command and path sources through the conformance suite: a repository with branches and
 * tags comes back with exactly its refs (and checked out); a command's stdout is one file and a
 * failing command leaves no snapshot; files and directories go through the engine's own backup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { listSnapshots } from '../../src/engine/snapshots.js';
import { commandSource } from '../../src/sources/command.js';
import { gitSource } from '../../src/sources/git.js';
import { pathSource } from '../../src/sources/path.js';
import { systemRunner } from '../../src/sources/process.js';
import { pseudoRandom } from '../helpers/files.js';
import { createRepo } from '../helpers/test-repo.js';
import { tempDir, type TestContextLike } from '../helpers/tmp-dir.js';
import { context, killingRunner, sourceConformance } from './conformance.js';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } });

async function trainingRepo(t: TestContextLike, bigBytes = 0): Promise<string> {
  const dir = path.join(await tempDir(t), 'train');
  await fs.mkdir(dir);
  git(dir, 'init', '-q', '-b', 'main');
  await fs.writeFile(path.join(dir, 'train.py'), 'print("train")\n');
  if (bigBytes) await fs.writeFile(path.join(dir, 'weights.bin'), pseudoRandom(bigBytes, 'git'));
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'first');
  git(dir, 'tag', 'v1');
  git(dir, 'checkout', '-q', '-b', 'experiment');
  await fs.writeFile(path.join(dir, 'train.py'), 'print("lr 2e-5")\n');
  git(dir, 'commit', '-q', '-am', 'experiment');
  git(dir, 'checkout', '-q', 'main');
  return dir;
}

sourceConformance({
  adapter: gitSource,
  async prepare(t) {
    const repo = await trainingRepo(t);
    const refs = git(repo, 'show-ref');
    return {
      config: { kind: 'git', path: repo },
      restoreTo: async (t2) => ({ to: path.join(await tempDir(t2), 'restored') }),
      async checkRestored(outcome, request) {
        assert.equal(git(request.to, 'show-ref'), refs, 'every branch and tag, at the same commits');
        assert.equal(git(request.to, 'symbolic-ref', 'HEAD').trim(), 'refs/heads/main');
        assert.equal(await fs.readFile(path.join(request.to, 'train.py'), 'utf8'), 'print("train")\n', 'HEAD checked out');
      },
    };
  },
  async failures(t) {
    const big = await trainingRepo(t, 4 * 1024 * 1024);
    return [
      { name: 'not a repository', config: { kind: 'git', path: await tempDir(t) }, code: 'SOURCE_NOT_FOUND', message: /is not a git repository/ },
      { name: 'bundle killed', config: { kind: 'git', path: big }, runner: killingRunner('git', 64 * 1024), code: 'SOURCE', message: /git was killed by SIGKILL/ },
      { name: 'git missing', config: { kind: 'git', path: big }, runner: { spawn: (tool, args, o) => ({ ...systemRunner.spawn('lbt-no-git', args, o), tool }) }, code: 'SOURCE_TOOL_MISSING', message: /install the Debian package git/ },
    ];
  },
});

test('git: a bare repository (a server\'s) comes back bare; a remote URL is mirrored into the cache and bundled', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  const work = await trainingRepo(t);
  const bare = path.join(dir, 'train.git');
  git(dir, 'clone', '-q', '--bare', work, bare);
  const fromPath = await gitSource.backup(repo, { kind: 'git', path: bare }, { asset: 'code' }, context({ tmpDir: dir }));
  assert.equal(fromPath.snapshot.source?.details.bare, true);
  const target = path.join(dir, 'back.git');
  const outcome = await gitSource.restore(repo, 'code@v1', { to: target }, context({ tmpDir: dir }));
  assert.ok(outcome.checks.every((c) => c.ok));
  assert.equal(git(target, 'rev-parse', '--is-bare-repository').trim(), 'true');
  const fromUrl = await gitSource.backup(repo, { kind: 'git', url: `file://${bare}` }, { asset: 'code' }, context({ tmpDir: dir, cacheDir: path.join(dir, 'cache') }));
  assert.equal(fromUrl.snapshot.assetVersion, 2);
  assert.equal(fromUrl.snapshot.summary.newBlobs <= 2, true, 'the same bundle content deduplicates (only trees are new)');
  await assert.rejects(gitSource.backup(repo, { kind: 'git', url: 'https://u:hunter2@git.internal/x.git' }, { asset: 'code' }, context({ tmpDir: dir })), (err: Error) => !err.message.includes('hunter2') && /credential helper/.test(err.message));
});

sourceConformance({
  adapter: commandSource,
  async prepare() {
    return {
      config: { kind: 'command', run: 'for i in $(seq 1 2000); do echo "row $i"; done', filename: 'etcd.db' },
      restoreTo: async (t2) => ({ to: await tempDir(t2) }),
      async checkRestored(_o, request) {
        const text = await fs.readFile(path.join(request.to, 'etcd.db'), 'utf8');
        assert.equal(text.split('\n').length, 2001);
      },
    };
  },
  async failures() {
    return [
      { name: 'exit 3', config: { kind: 'command', run: 'echo partial; exit 3', filename: 'x' }, code: 'SOURCE', message: /command "echo partial; exit 3": sh exited with code 3/ },
      { name: 'argv tool missing', config: { kind: 'command', run: ['lbt-no-such-tool', '--dump'], filename: 'x' }, code: 'SOURCE_TOOL_MISSING', message: /lbt-no-such-tool is not installed/ },
    ];
  },
});

sourceConformance({
  adapter: pathSource,
  async prepare(t) {
    const dir = await tempDir(t);
    await fs.mkdir(path.join(dir, 'data', 'shards'), { recursive: true });
    await fs.writeFile(path.join(dir, 'data', 'shards', 'a.jsonl'), pseudoRandom(300_000, 'a'));
    await fs.writeFile(path.join(dir, 'data', 'b.tmp'), 'scratch');
    return {
      config: { kind: 'path', paths: [path.join(dir, 'data')], exclude: ['*.tmp'] },
      restoreTo: async (t2) => ({ to: await tempDir(t2) }),
      async checkRestored(_o, request) {
        assert.ok((await fs.readFile(path.join(request.to, 'shards', 'a.jsonl'))).equals(pseudoRandom(300_000, 'a')));
        await assert.rejects(fs.access(path.join(request.to, 'b.tmp')), 'excluded');
      },
    };
  },
  async failures(t) {
    return [{ name: 'missing path', config: { kind: 'path', paths: [path.join(await tempDir(t), 'gone')], exclude: [] }, code: 'SOURCE_NOT_FOUND', message: /does not exist/ }];
  },
});

test('command: a command killed mid-output leaves no snapshot', async (t) => {
  const dir = await tempDir(t);
  const repo = await createRepo(path.join(dir, 'repo'));
  await assert.rejects(commandSource.backup(repo, { kind: 'command', run: ['sh', '-c', 'head -c 50000000 /dev/zero | tr "\\0" x'], filename: 'out' }, { asset: 'c' }, context({ runner: killingRunner('sh', 100_000) })), /sh was killed by SIGKILL/);
  assert.deepEqual(await listSnapshots(repo), []);
});
