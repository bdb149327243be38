/** `--direct-io auto|always|never`: how restored files and local packs are written (engine/page-cache.ts). */
import { InvalidArgumentError, type Command } from 'commander';
import { DIRECT_IO_MODES, type DirectIo } from '../engine/page-cache.js';
import { UsageError } from './errors.js';

export interface DirectIoFlags {
  directIo: DirectIo;
}

function modeOf(value: string, refuse: (message: string) => Error): DirectIo {
  if (!(DIRECT_IO_MODES as readonly string[]).includes(value)) throw refuse(`say one of ${DIRECT_IO_MODES.join(', ')}`);
  return value as DirectIo;
}

/** The flag, with its default from LIFEBOAT_DIRECT_IO (else auto). */
export function withDirectIo(cmd: Command, what: string): Command {
  const fromEnv = process.env.LIFEBOAT_DIRECT_IO;
  return cmd.option(
    '--direct-io <mode>',
    `${what}: auto (through the page cache while they fit in a quarter of the available memory, then around it), always (around it: O_DIRECT), never (through it); env LIFEBOAT_DIRECT_IO`,
    (value: string) => modeOf(value, (m) => new InvalidArgumentError(m)),
    fromEnv ? modeOf(fromEnv, (m) => new UsageError(`LIFEBOAT_DIRECT_IO=${fromEnv}: ${m}`)) : 'auto',
  );
}
