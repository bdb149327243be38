/**
 * `lifeboat gateway --config lifeboat.yaml [--listen 127.0.0.1:8089]`: runs the inference gateway until
 * SIGINT or SIGTERM, then stops it gracefully (in-flight requests finish, the cache is saved).
 */
import { isoNow } from '../../base/clock.js';
import type { Command } from 'commander';
import { GatewayConfigError } from '../../gateway/errors.js';

export interface GatewayCommandOptions {
  readonly config: string;
  readonly listen?: string;
}

export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('run the OpenAI-compatible inference gateway (failover to standbys, a degraded model, cached answers)')
    .option('-c, --config <file>', 'configuration file with a gateway: section', 'lifeboat.yaml')
    .option('--listen <host:port>', 'address to listen on (overrides gateway.listen)')
    .action((opts: GatewayCommandOptions) => runGatewayCommand(opts));
}

/** Resolves once the gateway has stopped after SIGINT/SIGTERM. Throws typed errors (GatewayError subclasses). */
export async function runGatewayCommand(opts: GatewayCommandOptions): Promise<void> {
  if (opts.listen !== undefined && !/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(opts.listen)) {
    throw new GatewayConfigError(`--listen ${opts.listen} is not host:port; write e.g. --listen 127.0.0.1:8089`);
  }
  // Loaded here, not at start-up: zod, yaml and prom-client are about 6 MB of heap that every
  // other command would carry, and a backup's heap above V8's 8 MB threshold gets a major GC
  // started over and over (about a third of the main thread's time in a restore).
  const [{ parseListen }, { startGateway }, { loadGatewayConfig }] = await Promise.all([
    import('../../gateway/config.js'),
    import('../../gateway/gateway.js'),
    import('../../gateway/load-config.js'),
  ]);
  const config = await loadGatewayConfig(opts.config);
  const log = (line: string) => process.stderr.write(`${isoNow()} gateway: ${line}\n`);
  const gw = await startGateway(config, { listen: opts.listen ? parseListen(opts.listen) : undefined, log });
  const upstreams = config.groups.reduce((n, g) => n + g.upstreams.length, 0);
  process.stdout.write(`lifeboat gateway listening on ${gw.url} (${config.groups.length} groups, ${upstreams} upstreams${config.adminToken ? ', admin API on' : `, admin API off: set ${config.adminTokenEnv}`})\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  log(`${signal}: stopping (in-flight requests may finish for up to 5 s)`);
  await gw.close();
}
