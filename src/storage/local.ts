/**
 * Local-directory backend, the embedded default.
 *
 * Every put is atomic and durable: the bytes go to a temporary file under `tmp/`, are
 * fsynced, then renamed (or hard-linked, for ifAbsent) into place and the directory is
 * fsynced. A crash therefore leaves either the whole object or nothing under its key,
 * plus possibly a stray file in `tmp/` that list() never reports.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AlreadyExistsError, NoSpaceError, NotFoundError, StorageError } from './errors.js';
import { throwIfAborted } from '../base/errors.js';
import { checkKey, destination, type ByteRange, type ObjectInfo, type PutOptions, type Storage } from './storage.js';

const TMP_DIR = 'tmp';
/** Objects this big (packs) are written around the page cache when their memory allows it, unless the caller chooses. */
const DIRECT_MIN_BYTES = 1024 * 1024;
const BLOCK = 4096;

export function openLocalStorage(root: string): Storage {
  const base = path.resolve(root);
  const fileOf = (key: string) => path.join(base, ...checkKey(key).split('/'));

  // A signal is looked at before a request starts: once started, a local request is short and
  // runs to its end (a put is atomic either way).
  async function put(key: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    const target = fileOf(key);
    const tmp = path.join(base, TMP_DIR, `${path.basename(target)}.${randomBytes(6).toString('hex')}`);
    try {
      await writeDurably(tmp, data, options.direct ?? data.length >= DIRECT_MIN_BYTES);
      await fs.mkdir(path.dirname(target), { recursive: true });
      if (options.ifAbsent) {
        await fs.link(tmp, target).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') throw new AlreadyExistsError(key, base);
          throw err;
        });
        await fs.unlink(tmp);
      } else {
        await fs.rename(tmp, target);
      }
      await fsyncDir(path.dirname(target));
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw translate(err, key, base, 'write');
    }
  }

  async function get(key: string, range?: ByteRange, into?: Uint8Array, signal?: AbortSignal): Promise<Buffer> {
    throwIfAborted(signal);
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(fileOf(key), 'r');
      if (!range) return await handle.readFile();
      const buf = destination(range.length, into);
      let done = 0;
      while (done < range.length) {
        const { bytesRead } = await handle.read(buf, done, range.length - done, range.offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      if (done !== range.length) {
        throw new StorageError(`object ${key} in ${base} is shorter than expected: wanted bytes ${range.offset}..${range.offset + range.length}, got ${done}`);
      }
      return buf;
    } catch (err) {
      throw translate(err, key, base, 'read');
    } finally {
      await handle?.close();
    }
  }

  async function head(key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    throwIfAborted(signal);
    try {
      const st = await fs.stat(fileOf(key));
      return { key, size: st.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw translate(err, key, base, 'stat');
    }
  }

  async function* list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    throwIfAborted(signal);
    // The prefix is a directory path ("data/") or a directory plus a name start ("snapshots/ab").
    const slash = prefix.lastIndexOf('/');
    const dir = prefix.slice(0, slash + 1);
    const namePrefix = prefix.slice(slash + 1);
    if (dir.split('/')[0] === TMP_DIR) return;
    yield* walk(path.join(base, dir), dir, namePrefix);
  }

  async function* walk(dirPath: string, keyPrefix: string, namePrefix: string): AsyncIterable<ObjectInfo> {
    let entries;
    try {
      entries = await fs.readdir(dirPath, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw translate(err, keyPrefix, base, 'list');
    }
    for (const entry of entries) {
      if (!entry.name.startsWith(namePrefix)) continue;
      if (keyPrefix === '' && entry.name === TMP_DIR) continue;
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        yield* walk(path.join(dirPath, entry.name), key + '/', '');
      } else if (entry.isFile()) {
        const st = await fs.stat(path.join(dirPath, entry.name)).catch(() => undefined);
        if (st) yield { key, size: st.size };
      }
    }
  }

  async function remove(key: string, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal);
    try {
      await fs.rm(fileOf(key), { force: true });
    } catch (err) {
      throw translate(err, key, base, 'delete');
    }
  }

  return { location: base, put, get, head, list, delete: remove, close: async () => {} };
}

async function writeDurably(file: string, data: Uint8Array, direct: boolean): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  if (direct && fsc.O_DIRECT && (await writeDirect(file, data))) return;
  const handle = await fs.open(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` with O_DIRECT: a pack is written once and read rarely, and through the page cache
 * each of its bytes is first copied into fresh pages (in a 2 GB backup on our test VM, up to 3 s
 * of system time when those pages had to be taken back from the host) only to be written back
 * by the fsync anyway. O_DIRECT needs page-aligned memory, which the packer's buffers are; the
 * last partial block goes through a second, buffered descriptor. Returns false, with nothing left
 * at `file`, where the filesystem or the memory does not allow it (EINVAL): the caller then
 * writes through the page cache.
 */
async function writeDirect(file: string, data: Uint8Array): Promise<boolean> {
  const refused = (err: unknown) => (err as NodeJS.ErrnoException).code === 'EINVAL';
  const direct = await fs.open(file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_DIRECT, 0o600).catch((err) => {
    if (refused(err)) return undefined;
    throw err;
  });
  if (!direct) return false;
  const whole = data.length - (data.length % BLOCK);
  let written = true;
  try {
    await writeAll(direct, data.subarray(0, whole), 0).catch((err) => {
      if (!refused(err)) throw err;
      written = false;
    });
    if (written && whole < data.length) {
      const tail = await fs.open(file, 'r+');
      try {
        await writeAll(tail, data.subarray(whole), whole);
      } finally {
        await tail.close();
      }
    }
    if (written) await direct.sync(); // the inode's: the tail's dirty pages and the size too
  } finally {
    await direct.close();
  }
  if (!written) await fs.rm(file, { force: true });
  return written;
}

async function writeAll(file: fs.FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) done += (await file.write(data, done, data.length - done, position + done)).bytesWritten;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}


function translate(err: unknown, key: string, location: string, action: string): Error {
  if (err instanceof StorageError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new NotFoundError(key, location);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new NoSpaceError(`no space left on the device of ${location} while writing ${key}: free some space or move the repository, then run the command again`, { cause: err });
  }
  return new StorageError(`cannot ${action} ${key} in ${location}: ${(err as Error).message}`, { cause: err });
}
