import type { Command } from 'commander';

/** SNAPSHOT[:subpath] as the user writes it. */
export function splitSpec(spec: string): { snapshot: string; subpath: string } {
  const colon = spec.indexOf(':');
  return colon < 0 ? { snapshot: spec, subpath: '' } : { snapshot: spec.slice(0, colon), subpath: spec.slice(colon + 1) };
}

export interface SkipDamagedFlags {
  skipDamaged?: boolean;
}

/** --skip-damaged, on every command that resolves latest or ASSET@latest (engine/snapshots.ts). */
export function withSkipDamaged(cmd: Command, what = 'latest, ASSET@latest'): Command {
  return cmd.option('--skip-damaged', `${what}: take the newest readable snapshot even while some snapshot objects cannot be read (without it: refused, exit 13, as one of them may be the newest)`);
}
