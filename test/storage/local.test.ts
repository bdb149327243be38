import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { openLocalStorage } from '../../src/storage/local.js';
import { storageConformance } from './conformance.js';

describe('local directory storage', () => {
  let root: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'lifeboat-local-storage-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  storageConformance({ open: async () => openLocalStorage(path.join(root, `repo-${++n}`)) });
});
