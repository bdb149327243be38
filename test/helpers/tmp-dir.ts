/** Temporary directories for tests, removed when the test ends (pass the test context). */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TestContextLike {
  after(fn: () => Promise<void> | void): void;
}

/** A fresh directory under the system temp dir; removed after the test. */
export async function tempDir(t: TestContextLike, prefix = 'lifeboat-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}
