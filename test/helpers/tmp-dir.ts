/** Temporary directories for tests, removed when the test ends (pass the test context). */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { removeTestObjects } from './test-backend.js';

export interface TestContextLike {
  after(fn: () => Promise<void> | void): void;
}

/** A fresh directory under the system temp dir; removed after the test, with any S3 repository named by a path in it. */
export async function tempDir(t: TestContextLike, prefix = 'lifeboat-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => Promise.all([fs.rm(dir, { recursive: true, force: true }), removeTestObjects(dir)]).then(() => undefined));
  return dir;
}
