/** The CLI entry: parse, dispatch to one command, and turn errors into exit codes in one place. */
import { Command, CommanderError } from 'commander';
import { PROGRAM } from '../engine/program.js';
import { errorDocument, ExitCode, exitCodeOf, messageOf, OutcomeError, UsageError } from './errors.js';

type Register = (program: Command) => void;

/**
 * The commands in help order, with the names each registers. A command's module is loaded only
 * when it runs (all of them when the command line names none, for help): loading every command's
 * code took 50 ms of each command's start.
 */
const COMMANDS: Array<[names: string[], load: () => Promise<Register>]> = [
  [['init'], async () => (await import('./commands/init.js')).registerInit],
  [['backup'], async () => (await import('./commands/backup.js')).registerBackup],
  [['snapshots'], async () => (await import('./commands/snapshots.js')).registerSnapshots],
  [['versions'], async () => (await import('./commands/versions.js')).registerVersions],
  [['lineage'], async () => (await import('./commands/lineage.js')).registerLineage],
  [['ls'], async () => (await import('./commands/ls.js')).registerLs],
  [['diff'], async () => (await import('./commands/diff.js')).registerDiff],
  [['restore'], async () => (await import('./commands/restore.js')).registerRestore],
  [['check'], async () => (await import('./commands/check.js')).registerCheck],
  [['repair'], async () => (await import('./commands/repair.js')).registerRepair],
  [['stats'], async () => (await import('./commands/stats.js')).registerStats],
  [['key'], async () => (await import('./commands/key.js')).registerKey],
  [['unlock'], async () => (await import('./commands/unlock.js')).registerUnlock],
  [['forget', 'prune'], async () => (await import('./commands/forget.js')).registerForget],
  [['quickstart'], async () => (await import('./commands/quickstart.js')).registerQuickstart],
  [['copy', 'replicas'], async () => (await import('./commands/replicas.js')).registerReplication],
  [['gateway'], async () => (await import('./commands/gateway.js')).registerGateway],
  [['validate', 'assets'], async () => (await import('./commands/plan.js')).registerPlan],
  [['status'], async () => (await import('./commands/status.js')).registerStatus],
  [['serve'], async () => (await import('./commands/serve.js')).registerServe],
  [['catalog'], async () => (await import('./commands/catalog.js')).registerCatalog],
  [['discover'], async () => (await import('./commands/discover.js')).registerDiscover],
  [['audit'], async () => (await import('./commands/audit.js')).registerAudit],
  [['recover'], async () => (await import('./commands/recover.js')).registerRecover],
  [['drill'], async () => (await import('./commands/drill.js')).registerDrill],
  [['doctor'], async () => (await import('./commands/doctor.js')).registerDoctor],
];

/** The program with the command `argv` names, or with all of them when it names none. */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('lifeboat')
    .description('Disaster recovery for on-premises AI infrastructure')
    .version(PROGRAM.split(' ')[1])
    .exitOverride()
    .showSuggestionAfterError();
  const named = COMMANDS.filter(([names]) => names.includes(argv[2]));
  for (const [, load] of named.length > 0 ? named : COMMANDS) (await load())(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
    return ExitCode.ok;
  } catch (caught) {
    // Commander has printed its own message (or the help) already.
    if (caught instanceof CommanderError && caught.exitCode === 0) return ExitCode.ok;
    const err = caught instanceof CommanderError ? new UsageError(caught.message.replace(/^error: /, '')) : caught;
    if (!(caught instanceof CommanderError)) process.stderr.write(`lifeboat: ${messageOf(err)}\n`);
    if (process.env.LIFEBOAT_DEBUG) console.error(caught);
    // With --json a script reads the error from stdout too, unless the command printed its result already.
    if (argv.includes('--json') && !(err instanceof OutcomeError)) process.stdout.write(JSON.stringify(errorDocument(err), null, 2) + '\n');
    return exitCodeOf(err);
  }
}
