/**
 * Credentials for the tools a source runs: read from a password file, handed over in a private
 * file (a pgpass file, a MySQL option file) that only this user can read and that is removed
 * afterwards, never on a command line where `ps` shows it to everyone.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SourceError } from './errors.js';

/** The password in `file` (one trailing newline ignored). */
export async function readPasswordFile(file: string): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new SourceError('SOURCE_AUTH', `cannot read the password file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Runs `fn` with a fresh directory of mode 0700, removed (with everything in it) afterwards. */
export async function withPrivateDir<T>(tmpDir: string | undefined, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(tmpDir ?? os.tmpdir(), 'lifeboat-source-'));
  try {
    await fs.chmod(dir, 0o700);
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Writes a file only its owner can read (0600) in a private directory; returns its path. */
export async function writePrivateFile(dir: string, name: string, content: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, content, { mode: 0o600, flag: 'wx' });
  return file;
}
