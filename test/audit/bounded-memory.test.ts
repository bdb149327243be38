/**
 * The walk's memory does not grow with the number of files: 200,000 files of a virtual tree (the
 * walker's filesystem interface, so no disk is touched) are walked with the heap held within a
 * few MB of where it started, while the result still counts every file and finds the datasets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dirent, Stats } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { walkFiles, type WalkFs } from '../../src/control/audit/fs-walk.js';

const DIRS = 200;
const FILES_PER_DIR = 1000;

function dirent(name: string, dir: boolean): Dirent {
  return { name, isFile: () => !dir, isDirectory: () => dir, isSymbolicLink: () => false } as Dirent;
}

/** /v holds DIRS folders of FILES_PER_DIR files: every tenth folder a dataset of JSONL shards, the rest logs. */
function virtualFs(): WalkFs {
  const stat = (size: number, dir: boolean) => ({ size, isDirectory: () => dir, isFile: () => !dir, isSymbolicLink: () => false }) as Stats;
  return {
    async opendir(dir) {
      return (async function* () {
        if (dir === '/v') for (let i = 0; i < DIRS; i++) yield dirent(i % 10 === 0 ? `set-${i}` : `logs-${i}`, true);
        else for (let i = 0; i < FILES_PER_DIR; i++) yield dirent(dir.includes('/set-') ? `part-${i}.jsonl` : `run-${i}.log`, false);
      })();
    },
    lstat: async (file) => stat(1000, false),
    stat: async (file) => stat(0, file === '/v'),
    realpath: async (file) => file,
    read: async () => Buffer.from('{"text": "a line of a dataset"}\n'),
    sqliteTables: async () => [],
  };
}

test('200,000 files walked in bounded memory', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = 0;
  const result = await walkFiles(['/v'], {
    fs: virtualFs(),
    onProgress: (p) => {
      if (p.files % 20_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      }
    },
  });
  assert.equal(result.files, DIRS * FILES_PER_DIR);
  assert.equal(result.assets.length, DIRS / 10, 'one dataset per folder of shards, not one per file');
  assert.ok(result.assets.every((a) => a.kind === 'dataset' && a.files === FILES_PER_DIR));
  // Holding a record per file would take well over 30 MB for 200,000 files.
  assert.ok(peak < 8 * 1024 * 1024, `heap grew by ${(peak / 1048576).toFixed(1)} MB during the walk`);
});
