/**
 * Restored files, directories and symlinks get the times their snapshot recorded (atime set to
 * the mtime), to the nanosecond through the addon's utimensat. Node's utimes takes seconds as a
 * double, and under Node 24 a Date's milliseconds can land one below; without the addon that is
 * what is left, within a microsecond.
 */
import fs, { type FileHandle } from 'node:fs/promises';
import { loadNative } from '../repo/native.js';

const native = loadNative();
const NS_PER_S = 1_000_000_000n;

/** `target`: an open file, or a path (with noFollow, a symlink's own times). */
export async function setTimes(target: FileHandle | string, mtimeNs: string, options: { noFollow?: boolean } = {}): Promise<void> {
  const { seconds, nanoseconds } = splitNs(BigInt(mtimeNs));
  if (native?.setTimes) return native.setTimes(typeof target === 'string' ? target : target.fd, seconds, nanoseconds, !!options.noFollow);
  const t = seconds + nanoseconds / 1e9;
  if (typeof target !== 'string') return target.utimes(t, t);
  return options.noFollow ? fs.lutimes(target, t, t) : fs.utimes(target, t, t);
}

/** Whole seconds and the nanoseconds past them (0..999999999), before 1970 too. */
export function splitNs(ns: bigint): { seconds: number; nanoseconds: number } {
  let seconds = ns / NS_PER_S;
  let rest = ns % NS_PER_S;
  if (rest < 0n) {
    rest += NS_PER_S;
    seconds -= 1n;
  }
  return { seconds: Number(seconds), nanoseconds: Number(rest) };
}
