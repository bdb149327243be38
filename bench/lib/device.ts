// The device's own limits, measured in the same run as the tools: dd writes the base's bytes
// with O_DIRECT (and fsync) and reads them back with O_DIRECT after the caches are dropped. A
// restore that ends durable cannot beat the write time; the ratio to it says how close it is.
import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { filesUnder } from './fsutil.js';

export interface DeviceLimits {
  bytes: number;
  writeSeconds: number[];
  readSeconds: number[];
}

/**
 * Writes out dirty pages, then drops the page cache (root only). False, with the reason logged,
 * where it cannot: the cold figures are then left out, never faked.
 */
export async function dropCaches(log: (line: string) => void): Promise<boolean> {
  spawnSync('sync');
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch (err) {
    log(`cannot drop the page cache (${(err as Error).message}): run the bench as root for the cold-cache restore and the device read`);
    return false;
  }
}

function timed(script: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** One direct write of `dir`'s files (read from the page cache, warmed by the caller) to `scratch`, and one direct read of it. */
export async function measureDevice(dir: string, scratch: string, limits: DeviceLimits, log: (line: string) => void): Promise<void> {
  const files = (await filesUnder(dir)).map(quote).join(' ');
  try {
    limits.writeSeconds.push(timed(`cat ${files} | dd of=${quote(scratch)} bs=4M iflag=fullblock oflag=direct conv=fsync status=none`));
    if (await dropCaches(log)) limits.readSeconds.push(timed(`dd if=${quote(scratch)} of=/dev/null bs=4M iflag=direct status=none`));
  } finally {
    await rm(scratch, { force: true });
  }
  const last = (xs: number[]) => xs[xs.length - 1];
  log(`device: direct write ${(limits.bytes / 1e6 / last(limits.writeSeconds)).toFixed(0)} MB/s` + (limits.readSeconds.length ? `, direct read ${(limits.bytes / 1e6 / last(limits.readSeconds)).toFixed(0)} MB/s` : ''));
}
