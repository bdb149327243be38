/**
 * `lifeboat serve`: the DR plan kept true by one long-running process — backups paced by RPO,
 * replication, verification, retention, drills — with the HTTP API, dashboard and /metrics.
 * SIGTERM or SIGINT: no new jobs; running ones stop at their next safe point (nothing they wrote
 * is broken, no lock is left); a second signal exits at once.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { hostName, isoNow, systemClock } from '../../base/clock.js';
import { messageOf } from '../../base/error-codes.js';
import { assetsDocument } from '../../control/assets-document.js';
import type { JobEnv } from '../../control/backup-job.js';
import { catalogFile, openCatalog } from '../../control/catalog.js';
import { readConfigFile } from '../../control/config-file.js';
import { fetchClient } from '../../control/http-client.js';
import { misclassificationHints } from '../../control/misclassified.js';
import { planOf } from '../../control/plan.js';
import { serveSettingsOf } from '../../control/serve-config.js';
import { drillExecutor } from '../../control/executors.js';
import { runbooksOf } from '../../control/runbooks.js';
import { ownsAsset, startService } from '../../control/service.js';
import { parseListen } from '../../server/auth.js';
import { createServeMetrics } from '../../server/metrics.js';
import { startServer } from '../../server/server.js';
import { DASHBOARD_DIR, loadDashboard } from '../../server/static.js';
import { cacheRoot } from '../../storage/object-cache.js';
import { UsageError } from '../errors.js';
import { planAccess, planFile } from '../plan-options.js';
import { withRepoOptions, type RepoFlags } from '../repo-options.js';

interface ServeFlags extends RepoFlags {
  listen?: string;
  host?: string;
}

const DEFAULT_LISTEN = '127.0.0.1:8080';

export function registerServe(program: Command): void {
  withRepoOptions(program.command('serve').description('run the DR plan: scheduled backups, replication, verification and retention, with the HTTP API, dashboard and /metrics'))
    .option('--listen <host:port>', `where the API, dashboard and /metrics listen (serve.listen; default ${DEFAULT_LISTEN})`)
    .option('--host <name>', 'this host\'s name, matched against the assets\' host: keys (serve.host; default the hostname)')
    .action(async (flags: ServeFlags) => {
      const file = planFile(flags);
      const config = await readConfigFile(file, 'pass the right path with --config or LIFEBOAT_CONFIG');
      const plan = planOf(config);
      const settings = serveSettingsOf(config);
      const listen = parseListenFlag(flags.listen ?? settings.listen ?? DEFAULT_LISTEN);
      const token = await readToken(settings.tokenFile);
      const host = flags.host ?? settings.host ?? hostName();
      const log = (line: string) => process.stderr.write(`${isoNow()} serve[${host}]: ${line}\n`);
      for (const w of plan.warnings) log(`warning: ${w.file}:${w.line ?? '?'}: ${w.key}: ${w.message}`);

      const staticFiles = await loadDashboard();
      if (!staticFiles) log(`the dashboard's files are missing in ${DASHBOARD_DIR}: / answers 404 (in a checkout, run npm run build:web)`);
      const access = planAccess(flags, plan);
      const root = cacheRoot(process.env);
      const catalog = openCatalog(catalogFile(process.env, root));
      const env: JobEnv = { plan, access, clock: systemClock, host, http: fetchClient, log };
      const stateDir = settings.stateDir ?? path.join(root, 'serve', host);
      const service = await startService({
        env,
        settings,
        executors: { drill: drillExecutor(env, runbooksOf(config), { reportDir: path.join(stateDir, 'reports'), stateDir: path.join(stateDir, 'runs') }) },
        sync: async () => catalog.sync(await access.primary(), (what, err) => log(`${what} cannot be read: ${err.message}`)),
        stateDir,
      });
      const server = await startServer({
        listen,
        token,
        service,
        staticFiles,
        metrics: createServeMetrics(plan, service, systemClock),
        api: { assetsDocument: assetsDocument(plan, await misclassificationHints(plan.assets)), now: systemClock.now },
        log,
      }).catch(async (err) => {
        await service.stop('interrupt');
        throw err;
      });
      const mine = plan.assets.filter((a) => ownsAsset(a, host)).map((a) => a.name);
      log(`listening on ${server.url}${token ? ' (token required)' : ''}${staticFiles ? `, dashboard at ${server.url}/` : ''}; ${plan.assets.length} asset(s) in ${plan.file}, backed up here: ${mine.join(', ') || 'none'}`);
      await stopOnSignal(log);
      log('stopping: no new jobs; running ones stop at their next safe point');
      await service.stop('interrupt');
      await server.close();
      catalog.close();
      await access.close();
      log('stopped');
    });
}

function parseListenFlag(value: string) {
  try {
    return parseListen(value);
  } catch (err) {
    throw new UsageError(messageOf(err));
  }
}

/** LIFEBOAT_SERVE_TOKEN, else serve.token_file; undefined when neither is set. */
async function readToken(file: string | undefined): Promise<string | undefined> {
  const env = process.env.LIFEBOAT_SERVE_TOKEN;
  if (env) return env;
  if (!file) return undefined;
  const text = await fs.readFile(file, 'utf8').catch((err: Error) => {
    throw new UsageError(`cannot read serve.token_file ${file}: ${err.message}`);
  });
  const token = text.trim();
  if (token.length < 16) throw new UsageError(`the token in ${file} is shorter than 16 characters: use a long random one (openssl rand -hex 32)`);
  return token;
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
function stopOnSignal(log: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log(`${signal} again: exiting now`);
        process.exit(130);
      }
      stopping = true;
      log(`${signal}`);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
