// Waiting for a quiet machine before a timed step. In S3 mode the RGW and its OSD share the two
// cores with the tools, and what a step leaves them to do (flushing what a backup wrote,
// collecting the objects of a removed prefix) otherwise lands on whichever step runs next; so do
// the kernel's writes of dirty pages (a series generated just before the run is gigabytes of
// them), which slowed Lifeboat's O_DIRECT restore writes by a fifth and restic's not at all. The
// wait is recorded with the results; every tool gets the same.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Quiet {
  /** how long it took the machine to become quiet (or maxMs, if it did not) */
  waitedMs: number;
  /** share of CPU time busy or waiting for I/O over the last window, 0..1 */
  busy: number;
  /** how long sync(1), writing out dirty pages first, took */
  syncMs: number;
}

/** Busy (everything but idle) and total jiffies of all CPUs, from /proc/stat; iowait counts as busy. */
async function cpuJiffies(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0];
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3], total }; // field 3 is idle
}

/** Writes out dirty pages, then waits until the CPUs are busy less than `threshold` over `windowMs`, at most `maxMs`. */
export async function waitForQuiet(threshold = 0.15, windowMs = 500, maxMs = 20_000): Promise<Quiet> {
  const synced = Date.now();
  spawnSync('sync');
  const syncMs = Date.now() - synced;
  const started = Date.now();
  for (;;) {
    const a = await cpuJiffies();
    await sleep(windowMs);
    const b = await cpuJiffies();
    const busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
    const waitedMs = Date.now() - started;
    if (busy < threshold || waitedMs >= maxMs) return { waitedMs, busy: +busy.toFixed(3), syncMs };
  }
}
