/** The CLI entry: parse, dispatch to one command, and turn errors into exit codes in one place. */
import { Command, CommanderError } from 'commander';
import { PROGRAM } from '../engine/program.js';
import { registerBackup } from './commands/backup.js';
import { registerCheck } from './commands/check.js';
import { registerDiff } from './commands/diff.js';
import { registerForget } from './commands/forget.js';
import { registerGateway } from './commands/gateway.js';
import { registerInit } from './commands/init.js';
import { registerKey } from './commands/key.js';
import { registerLs } from './commands/ls.js';
import { registerQuickstart } from './commands/quickstart.js';
import { registerReplication } from './commands/replicas.js';
import { registerRepair } from './commands/repair.js';
import { registerRestore } from './commands/restore.js';
import { registerSnapshots } from './commands/snapshots.js';
import { registerStats } from './commands/stats.js';
import { registerUnlock } from './commands/unlock.js';
import { ExitCode, exitCodeOf, messageOf } from './errors.js';

export function buildProgram(): Command {
  const program = new Command('lifeboat')
    .description('Disaster recovery for on-premises AI infrastructure')
    .version(PROGRAM.split(' ')[1])
    .exitOverride()
    .showSuggestionAfterError();
  for (const register of [registerInit, registerBackup, registerSnapshots, registerLs, registerDiff, registerRestore, registerCheck, registerRepair, registerStats, registerKey, registerUnlock, registerForget, registerQuickstart, registerReplication, registerGateway]) {
    register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    process.stderr.write(`lifeboat: ${messageOf(err)}\n`);
    if (process.env.LIFEBOAT_DEBUG) console.error(err);
    return exitCodeOf(err);
  }
}
