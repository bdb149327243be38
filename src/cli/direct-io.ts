/** `--direct-io auto|always|never`: how restored files and local packs are written (engine/page-cache.ts). */
import { InvalidArgumentError, type Command } from 'commander';
import { DIRECT_IO_MODES, type DirectIo } from '../engine/page-cache.js';

export interface DirectIoFlags {
  directIo: DirectIo;
}

function parseDirectIo(value: string): DirectIo {
  if (!(DIRECT_IO_MODES as readonly string[]).includes(value)) throw new InvalidArgumentError(`say one of ${DIRECT_IO_MODES.join(', ')}`);
  return value as DirectIo;
}

export function withDirectIo(cmd: Command, what: string): Command {
  return cmd.option(
    '--direct-io <mode>',
    `${what}: auto (through the page cache while they fit in a quarter of the available memory, then around it), always (around it: O_DIRECT), never (through it); files under 16 MiB always go through it`,
    parseDirectIo,
    'auto' as DirectIo,
  );
}
