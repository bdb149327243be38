// Makes sure restic, borg and GNU time are installed, from Debian (apt-get), as the issue asks.
// apt-get may be busy (another install holds the dpkg lock): wait and retry, bounded.
import { access } from 'node:fs/promises';
import { run, ToolFailedError } from './measure.js';

const NEEDED: Array<{ binary: string; pkg: string }> = [
  { binary: '/usr/bin/time', pkg: 'time' },
  { binary: 'restic', pkg: 'restic' },
  { binary: 'borg', pkg: 'borgbackup' },
];

async function present(binary: string): Promise<boolean> {
  if (binary.startsWith('/')) return access(binary).then(() => true, () => false);
  return run(['sh', '-c', `command -v ${binary}`]).then(() => true, () => false);
}

export class InstallError extends Error {
  readonly code = 'BENCH_INSTALL_FAILED';
}

async function apt(args: string[], log: (s: string) => void): Promise<void> {
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  for (let attempt = 1; ; attempt++) {
    try {
      await run([...sudo, 'apt-get', ...args], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
      return;
    } catch (e) {
      const locked = e instanceof ToolFailedError && /lock/i.test(e.stderrTail);
      if (!locked || attempt >= 30) {
        throw new InstallError(`apt-get ${args.join(' ')} failed: ${(e as Error).message}. Install restic, borgbackup and time yourself (Debian: apt-get install -y restic borgbackup time) and rerun.`);
      }
      log(`apt-get is busy (dpkg lock held by another process); retrying in 10 s (${attempt}/30)`);
      await new Promise((r) => setTimeout(r, 10_000));
    }
  }
}

/** Installs whatever of NEEDED is missing; returns the packages it installed. */
export async function ensureTools(log: (s: string) => void): Promise<string[]> {
  const missing: string[] = [];
  for (const n of NEEDED) if (!(await present(n.binary))) missing.push(n.pkg);
  if (missing.length === 0) return [];
  log(`installing from Debian: ${missing.join(' ')}`);
  await apt(['update'], log);
  await apt(['install', '-y', ...missing], log);
  return missing;
}
