/** Reads lifeboat.yaml and validates its `gateway:` section, reporting each problem with its line and key. */
import path from 'node:path';
import { ConfigError, formatIssues, locate, parseConfigText, parseSection, readConfigFile, type ConfigFile, type ConfigIssue } from '../control/config-file.js';
import { gatewaySectionSchema, normaliseGatewayConfig, type GatewayConfig } from './config.js';
import { GatewayConfigError } from './errors.js';

/** Loads and validates the gateway section of `file`. Relative cache paths are resolved against the file's folder. */
export function loadGatewayConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayConfig> {
  return readConfigFile(file, 'pass the right path with --config')
    .then((configFile) => fromConfig(configFile, env))
    .catch((err: unknown) => {
      throw asGatewayError(err);
    });
}

/** Validates YAML text; `file` is only used in messages and to resolve relative paths. */
export function parseGatewayConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  try {
    return fromConfig(parseConfigText(text, file), env);
  } catch (err) {
    throw asGatewayError(err);
  }
}

/** The gateway's commands and tests know its errors by type: a problem in the file is a GatewayConfigError. */
function asGatewayError(err: unknown): unknown {
  return err instanceof ConfigError ? new GatewayConfigError(err.message, err.issues, { cause: err }) : err;
}

function fromConfig(configFile: ConfigFile, env: NodeJS.ProcessEnv): GatewayConfig {
  const { file } = configFile;
  const section = parseSection(configFile, 'gateway', gatewaySectionSchema);
  if (section === undefined) {
    throw new GatewayConfigError(`${file} has no gateway: section; add one (see docs/gateway.md for an example)`);
  }
  // A key named in the file but missing from the environment would fail every request with 401: say so now.
  const missing: ConfigIssue[] = [];
  section.groups.forEach((g, gi) =>
    g.upstreams.forEach((u, ui) => {
      if (u.api_key_env && !env[u.api_key_env]) {
        missing.push(locate(configFile, ['gateway', 'groups', gi, 'upstreams', ui, 'api_key_env'], `the environment variable ${u.api_key_env} is not set; export it with the upstream's API key`));
      }
    }),
  );
  if (missing.length > 0) throw new GatewayConfigError(formatIssues(`${file}: the gateway section names secrets that are not set`, missing), missing);
  const config = normaliseGatewayConfig(section, env);
  const dir = path.dirname(path.resolve(file));
  if (!config.cache) return config;
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(dir, p));
  return { ...config, cache: { ...config.cache, path: resolve(config.cache.path), warmFile: resolve(config.cache.warmFile) } };
}
