/**
 * Restore's temporary files: `.<name>.lifeboat-<8 lowercase hex>` beside the destination `<name>`.
 * A restore that is killed (kill -9, power loss) cannot remove the one it was writing, so a later
 * restore removes those it finds in each directory it restores into. It removes regular files
 * whose whole name has exactly this shape and nothing else, so it never touches a user's file.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

const TEMP_NAME = /^\..+\.lifeboat-[0-9a-f]{8}$/s;

/** A new temporary path for writing `dest`, in the same directory (so the final rename is atomic). */
export function tempPathFor(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.lifeboat-${randomBytes(4).toString('hex')}`);
}

export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/** Removes the temporary files an interrupted restore left in `dir`; returns their paths. */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile() || !isTempName(entry.name)) continue;
    const stale = path.join(dir, entry.name);
    await fs.rm(stale, { force: true });
    removed.push(stale);
  }
  return removed;
}
